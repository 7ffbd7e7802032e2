"""aMUSEd's transformer (`transformer/` of a diffusers `amused/amused-256`
or `amused-512` folder: diffusers `UVit2DModel`) as our UViTTransformer.

`build_transformer(config_json, state_dict)` reads the folder's
`config.json` (as a dict) into a UViTConfig, which refuses what our model
cannot compute, builds the model and assigns every parameter strictly
(`strict.assign`): a missing, unexpected or wrongly shaped one is a
ValueError naming it. The state dict is {key: numpy array} in PyTorch
layouts, e.g. from `safetensors.numpy.load_file`; float16 files are cast
to float32. Layouts (docs/design.md §10.3): Linear (out, in) -> Dense
(in, out); 1x1 conv (out, in, 1, 1) -> Dense (in, out); depthwise
(C, 1, 3, 3) -> (3, 3, C, 1); conv and transposed conv (a, b, kh, kw) ->
(kh, kw, b, a); q/k/v (heads x head_dim, in) -> (in, heads, head_dim); the
attention output (D, heads x head_dim) -> (heads, head_dim, D); GRN's
(1, 1, 1, C) -> (C,).
"""

import numpy as np

from muse_tf.configs import UViTConfig
from muse_tf.convert import strict
from muse_tf.models.uvit_transformer import UViTTransformer

WHAT = "transformer checkpoint"


def build_transformer(config_json, state_dict, vae_scale_factor=16):
    """UViTTransformer of diffusers' `config.json` dict with the weights of
    `state_dict` ({key: array}); `vae_scale_factor` (the VQ's downsampling)
    sets the default micro-conditioning image size."""
    model = UViTTransformer(UViTConfig.from_diffusers(config_json,
                                                      vae_scale_factor))
    load_weights(model, state_dict)
    return model


def load_weights(model, state_dict):
    """Assigns a diffusers UVit2DModel state dict to a built
    UViTTransformer, strictly."""
    strict.assign(model, transformer_pairs(model), state_dict, WHAT)


# === Layouts: (the PyTorch shape of a Keras variable shape, the map) ===

def _same(shape):
    return tuple(shape), lambda w: w


def _linear(shape):
    return tuple(shape[::-1]), lambda w: w.T


def _conv_1x1(shape):
    return (shape[-1], shape[-2], 1, 1), lambda w: w[:, :, 0, 0].T


def _conv(shape):
    """Conv2d (out, in, kh, kw) -> (kh, kw, in, out); ConvTranspose2d
    (in, out, kh, kw) -> Keras (kh, kw, out, in): the same permutation
    (neither framework flips a transposed conv's kernel)."""
    kh, kw, b, a = shape
    return (a, b, kh, kw), lambda w: w.transpose(2, 3, 1, 0)


def _depthwise(shape):
    kh, kw, channels, _ = shape
    return (channels, 1, kh, kw), lambda w: w.transpose(2, 3, 0, 1)


def _grn(shape):
    return (1, 1, 1) + tuple(shape), lambda w: w.reshape(-1)


def _heads_in(shape):
    """q/k/v: (heads x head_dim, in) -> EinsumDense (in, heads, head_dim)."""
    dim, heads, head_dim = shape
    return (heads * head_dim, dim), lambda w: w.T.reshape(shape)


def _heads_out(shape):
    """to_out.0: (D, heads x head_dim) -> (heads, head_dim, D)."""
    heads, head_dim, dim = shape
    return (dim, heads * head_dim), lambda w: w.T.reshape(shape)


def _pair(variable, key, layout):
    """(variable, key, transform) whose transform checks the PyTorch
    shape first, so a wrongly shaped array is a ValueError naming `key`
    rather than a failed reshape."""
    expected, convert = layout(tuple(variable.shape))

    def transform(w):
        if tuple(w.shape) != expected:
            raise ValueError(f"{WHAT}: parameter {key!r} has shape "
                             f"{tuple(w.shape)}, expected {expected}")
        return convert(np.asarray(w, np.float32))

    return variable, key, transform


# === The parameter tree (docs/design.md §10.2) ===

def _attention(attention, key):
    return [_pair(attention.query_dense.kernel, f"{key}.to_q.weight",
                  _heads_in),
            _pair(attention.key_dense.kernel, f"{key}.to_k.weight",
                  _heads_in),
            _pair(attention.value_dense.kernel, f"{key}.to_v.weight",
                  _heads_in),
            _pair(attention.output_dense.kernel, f"{key}.to_out.0.weight",
                  _heads_out)]


def _stage(stage, key):
    pairs = []
    if stage.resample is not None:
        resample = f"{key}.{stage.resample}sample"
        pairs += [_pair(stage.resample_norm.scale, f"{resample}.norm.weight",
                        _same),
                  _pair(stage.resample_conv.kernel, f"{resample}.conv.weight",
                        _conv)]
    for i, (convnext, attention) in enumerate(zip(stage.convnext_blocks,
                                                  stage.attention_blocks)):
        res = f"{key}.res_blocks.{i}"
        pairs += [
            _pair(convnext.depthwise.kernel, f"{res}.depthwise.weight",
                  _depthwise),
            _pair(convnext.norm.scale, f"{res}.norm.weight", _same),
            _pair(convnext.pointwise_in.kernel,
                  f"{res}.channelwise_linear_1.weight", _linear),
            _pair(convnext.grn.gamma, f"{res}.channelwise_norm.gamma", _grn),
            _pair(convnext.grn.beta, f"{res}.channelwise_norm.beta", _grn),
            _pair(convnext.pointwise_out.kernel,
                  f"{res}.channelwise_linear_2.weight", _linear),
            _pair(convnext.cond_mapper.kernel,
                  f"{res}.cond_embeds_mapper.weight", _linear)]
        block = f"{key}.attention_blocks.{i}"
        if attention.kv_mapper is not None:
            pairs.append(_pair(attention.kv_mapper.kernel,
                               f"{block}.kv_mapper.weight", _linear))
        pairs += [_pair(attention.norm_1.scale, f"{block}.norm1.weight",
                        _same),
                  *_attention(attention.attention_1, f"{block}.attn1"),
                  _pair(attention.norm_2.scale, f"{block}.norm2.weight",
                        _same),
                  *_attention(attention.attention_2, f"{block}.attn2")]
    return pairs


def _layer(block, key):
    pairs = []
    for i, (modulation, norm) in enumerate(
            ((block.modulation_1, block.norm_1.scale),
             (block.modulation_2, block.norm_2.scale),
             (block.modulation_3, block.norm_3.gamma)), 1):
        pairs += [_pair(modulation.kernel, f"{key}.norm{i}.linear.weight",
                        _linear),
                  _pair(norm, f"{key}.norm{i}.norm.weight", _same)]
    return pairs + [
        *_attention(block.self_attention, f"{key}.attn1"),
        *_attention(block.cross_attention, f"{key}.attn2"),
        _pair(block.ff_in.kernel, f"{key}.ff.net.0.proj.weight", _linear),
        _pair(block.ff_out.kernel, f"{key}.ff.net.2.weight", _linear)]


def transformer_pairs(model):
    """[(variable, diffusers state-dict key, transform)] of a
    UViTTransformer."""
    m = model
    pairs = [
        _pair(m.text_projection.kernel, "encoder_proj.weight", _linear),
        _pair(m.text_norm.scale, "encoder_proj_layer_norm.weight", _same),
        _pair(m.token_embedding.embeddings, "embed.embeddings.weight", _same),
        _pair(m.embedding_norm.scale, "embed.layer_norm.weight", _same),
        _pair(m.embedding_projection.kernel, "embed.conv.weight", _conv_1x1),
        _pair(m.cond_in.kernel, "cond_embed.linear_1.weight", _linear),
        _pair(m.cond_out.kernel, "cond_embed.linear_2.weight", _linear),
        *_stage(m.down_stage, "down_block"),
        _pair(m.to_hidden_norm.scale, "project_to_hidden_norm.weight", _same),
        _pair(m.to_hidden.kernel, "project_to_hidden.weight", _linear),
    ]
    for i, block in enumerate(m.blocks):
        pairs += _layer(block, f"transformer_layers.{i}")
    return pairs + [
        _pair(m.from_hidden_norm.scale, "project_from_hidden_norm.weight",
              _same),
        _pair(m.from_hidden.kernel, "project_from_hidden.weight", _linear),
        *_stage(m.up_stage, "up_block"),
        _pair(m.head_in.kernel, "mlm_layer.conv1.weight", _conv_1x1),
        _pair(m.head_norm.scale, "mlm_layer.layer_norm.weight", _same),
        _pair(m.head_out.kernel, "mlm_layer.conv2.weight", _conv_1x1),
    ]
