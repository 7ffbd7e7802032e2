"""Start Muse's larger VQGAN decoder from the trained one (Net2Net growth).

Muse fine-tunes a decoder with more residual blocks and channels while the
encoder and codebook stay fixed (docs/design.md §2). From random weights that
decoder has to relearn what the trained decoder already knows, which costs
far more steps than a CPU budget holds. Instead it starts as a
function-preserving copy of the trained decoder (Chen et al., Net2Net,
2016), so fine-tuning begins at the trained decoder's quality and only its
extra capacity has to be learned:

- wider: every channel is repeated `k` times, and each weight that reads
  channels is divided by `k`, so the sum over the copies is the original
  sum. GroupNorm groups are runs of consecutive channels, so a group of
  repeated channels has the original group's mean and variance;
- deeper: a residual block the trained decoder lacks starts with its last
  convolution at zero, so it is the identity (x + 0).

Small noise on the copied kernels breaks the copies' symmetry (identical
channels would otherwise receive identical gradients forever).
"""

import numpy as np

from muse_tf.layers.res_block import ResBlock


def grow_decoder(trained, larger, noise=0.0, seed=0):
    """Sets the weights of VQGANDecoder `larger` so that it computes what
    VQGANDecoder `trained` computes (exactly when `noise` is 0).

    `larger` must have the same channel multipliers, a whole multiple of
    the trained decoder's channels, and at least its residual blocks per
    level; both must be built. `noise`: the standard deviation of the
    Gaussian noise added to each copied kernel, relative to that kernel's.
    """
    if larger.channel_multipliers != trained.channel_multipliers:
        raise ValueError("the decoders' channel multipliers differ: "
                         f"{larger.channel_multipliers} and "
                         f"{trained.channel_multipliers}")
    if (larger.base_channels % trained.base_channels
            or larger.num_res_blocks < trained.num_res_blocks):
        raise ValueError(
            f"a decoder with {larger.base_channels} channels and "
            f"{larger.num_res_blocks} residual blocks per level cannot grow "
            f"from one with {trained.base_channels} and "
            f"{trained.num_res_blocks}: it needs a whole multiple of the "
            "channels and at least as many blocks")
    rng = np.random.default_rng(seed)
    trained_layers = {layer.name: layer for layer in _layers(trained)}
    for layer in _layers(larger):
        if not layer.weights:
            continue  # Upsampling.
        if layer.name in trained_layers:
            source = trained_layers[layer.name]
            for to, from_ in zip(layer.weights, source.weights, strict=True):
                to.assign(_widen(from_.numpy(), tuple(to.shape), noise, rng))
        elif isinstance(layer, ResBlock):
            layer.conv2.kernel.assign(np.zeros(layer.conv2.kernel.shape))
            layer.conv2.bias.assign(np.zeros(layer.conv2.bias.shape))
        else:
            raise ValueError(f"layer {layer.name} of the larger decoder has "
                             "no counterpart in the trained one")


def _layers(decoder):
    return [decoder.conv_in, *decoder.blocks, decoder.norm_out,
            decoder.conv_out]


def _widen(weight, shape, noise, rng):
    """`weight` with each channel axis repeated to `shape`: a kernel's
    input axis (2) divided by its repeat count, its output axis (3) and a
    vector (bias, GroupNorm scale or offset) repeated."""
    if weight.ndim == 1:
        return np.repeat(weight, shape[0] // weight.shape[0])
    reads = shape[2] // weight.shape[2]
    grown = np.repeat(np.repeat(weight, reads, axis=2) / reads,
                      shape[3] // weight.shape[3], axis=3)
    if noise:
        grown += rng.normal(0.0, noise * grown.std(), grown.shape)
    return grown.astype(weight.dtype)
