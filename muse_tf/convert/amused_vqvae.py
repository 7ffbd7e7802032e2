"""Converts the `vqvae/` folder of diffusers' aMUSEd models (`VQModel`,
docs/design.md §10.4) into our `VQGAN(architecture="amused")`.

The folder holds `config.json` and `diffusion_pytorch_model.safetensors`
(PyTorch layouts; convert/diffusers_folder.py reads them without torch).
The config is read as diffusers reads it: a missing key takes `VQModel`'s
default. Anything our architecture cannot compute exactly (another block
type, attention in the middle blocks, a spatial norm, another group count)
is a ValueError naming the key, and every parameter is assigned strictly
(`strict.assign`). `sample_size`, `scaling_factor` and `force_upcast` are
accepted whatever their value: the first is not the image size (32 for
both aMUSEd models) and the convolutions take any size, aMUSEd does not
scale its codes, and we compute in float32.
"""

import keras
import numpy as np

from muse_tf.configs import VQGANConfig
from muse_tf.convert import strict
from muse_tf.layers.res_block import ResBlock
from muse_tf.models.vqgan import VQGAN

# The weights in preference order (convert/diffusers_folder.py reads them):
# float32, else diffusers' "fp16" variant, upcast.
WEIGHT_FILES = ("diffusion_pytorch_model.safetensors",
                "diffusion_pytorch_model.fp16.safetensors")

# `VQModel.__init__`'s defaults (diffusers 0.42.1), which a config.json
# without the key gets.
_DEFAULTS = {
    "in_channels": 3, "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"],
    "up_block_types": ["UpDecoderBlock2D"], "block_out_channels": [64],
    "layers_per_block": 1, "act_fn": "silu", "latent_channels": 3,
    "sample_size": 32, "num_vq_embeddings": 256, "norm_num_groups": 32,
    "vq_embed_dim": None, "scaling_factor": 0.18215, "norm_type": "group",
    "mid_block_add_attention": True, "lookup_from_codebook": False,
    "force_upcast": False,
}
# Our GroupNorms have min(32, channels) groups: diffusers' match them
# when it has 32 groups and every width is a multiple of 32.
_GROUPS = 32


# === Config ===

def _refuse(key, value, why):
    raise ValueError(f"vqvae config: {key} = {value!r} is not supported: "
                     f"{why}")


def vqgan_config(config_json, tokens_per_side=16):
    """The VQGANConfig of a `vqvae/config.json` (a dict), for images of
    `tokens_per_side` tokens a side: 16 for amused-256, 32 for amused-512
    (the transformer's `sample_size`; the VQ's own is unused).

    Raises:
      ValueError naming the first key whose value we cannot build.
    """
    unknown = sorted(k for k in config_json
                     if not k.startswith("_") and k not in _DEFAULTS)
    if unknown:
        _refuse(unknown[0], config_json[unknown[0]], "an unknown key")
    if config_json.get("_class_name", "VQModel") != "VQModel":
        _refuse("_class_name", config_json["_class_name"],
                "not a diffusers VQModel")
    c = {**_DEFAULTS, **config_json}
    required = {"in_channels": 3, "out_channels": 3, "act_fn": "silu",
                "norm_num_groups": _GROUPS, "norm_type": "group",
                "mid_block_add_attention": False,
                "lookup_from_codebook": True}
    why = {"mid_block_add_attention": "our VQ-GAN has no attention blocks",
           "lookup_from_codebook": "aMUSEd decodes token ids as codebook "
                                   "rows",
           "norm_type": "the spatial norm conditions the decoder's norms "
                        "on the codes; ours are plain GroupNorms"}
    for key, value in required.items():
        if c[key] != value:
            _refuse(key, c[key], why.get(key, f"expected {value!r}"))
    widths = c["block_out_channels"]
    if not widths or any(not isinstance(w, int) or w <= 0
                         or w % _GROUPS or w % widths[0] for w in widths):
        _refuse("block_out_channels", widths,
                f"expected positive multiples of {_GROUPS} and of the "
                "first width")
    for key, block in (("down_block_types", "DownEncoderBlock2D"),
                       ("up_block_types", "UpDecoderBlock2D")):
        if list(c[key]) != [block] * len(widths):
            _refuse(key, c[key], f"expected {len(widths)} x {block!r}")
    if not isinstance(c["layers_per_block"], int) or c["layers_per_block"] < 1:
        _refuse("layers_per_block", c["layers_per_block"],
                "expected a positive integer")
    if c["vq_embed_dim"] not in (None, c["latent_channels"]):
        _refuse("vq_embed_dim", c["vq_embed_dim"],
                "codes must have latent_channels "
                f"({c['latent_channels']}) channels")
    return VQGANConfig(
        image_size=tokens_per_side * 2 ** (len(widths) - 1),
        base_channels=widths[0],
        channel_multipliers=tuple(w // widths[0] for w in widths),
        num_res_blocks=c["layers_per_block"],
        # diffusers' decoder has one more block a level than its encoder.
        decoder_res_blocks=c["layers_per_block"] + 1,
        codebook_size=c["num_vq_embeddings"],
        embedding_dim=c["latent_channels"], architecture="amused")


# === Parameter mapping ===

def _torch_conv(weight):
    """(out, in, kh, kw) -> Keras's (kh, kw, in, out)."""
    return np.transpose(weight, (2, 3, 1, 0))


def _conv(layer, key):
    return [(layer.kernel, f"{key}.weight", _torch_conv),
            (layer.bias, f"{key}.bias", None)]


def _norm(layer, key):
    return [(layer.gamma, f"{key}.weight", None),
            (layer.beta, f"{key}.bias", None)]


def _resnet(block, key):
    pairs = [*_norm(block.norm1, f"{key}.norm1"),
             *_conv(block.conv1, f"{key}.conv1"),
             *_norm(block.norm2, f"{key}.norm2"),
             *_conv(block.conv2, f"{key}.conv2")]
    if block.shortcut is not None:
        pairs += _conv(block.shortcut, f"{key}.conv_shortcut")
    return pairs


def _block_key(name, part, levels):
    """The diffusers module of our encoder or decoder block `name`; None
    for the weightless upsampling. diffusers numbers the decoder's levels
    from the deepest, ours by width."""
    kind, *index = name.split("_")
    index = [int(i) for i in index]
    if kind == "mid":
        return f"{part}.mid_block.resnets.{index[0]}"
    if kind == "upsample":
        return None
    level = index[0] if part == "encoder" else levels - 1 - index[0]
    stage = f"{part}.{'down' if part == 'encoder' else 'up'}_blocks.{level}"
    if kind == "res":
        return f"{stage}.resnets.{index[1]}"
    return f"{stage}.{'down' if kind == 'down' else 'up'}samplers.0.conv"


def _blocks(layer, part, levels):
    pairs = []
    for block in layer.blocks:
        key = _block_key(block.name, part, levels)
        if isinstance(block, ResBlock):
            pairs += _resnet(block, key)
        elif isinstance(block, keras.layers.Conv2D):
            pairs += _conv(block, key)
    return pairs


def vqgan_pairs(model):
    """[(variable, state-dict key, transform)] of an amused VQGAN."""
    if model.config.architecture != "amused":
        raise ValueError("aMUSEd's VQ weights need an architecture='amused' "
                         f"VQGAN, not {model.config.architecture!r}")
    encoder, decoder = model.encoder, model.decoder
    levels = len(model.config.channel_multipliers)
    return [
        *_conv(encoder.conv_in, "encoder.conv_in"),
        *_blocks(encoder, "encoder", levels),
        *_norm(encoder.norm_out, "encoder.conv_norm_out"),
        *_conv(encoder.conv_out, "encoder.conv_out"),
        *_conv(encoder.quant_conv, "quant_conv"),
        (model.quantizer.codebook, "quantize.embedding.weight", None),
        *_conv(decoder.post_quant_conv, "post_quant_conv"),
        *_conv(decoder.conv_in, "decoder.conv_in"),
        *_blocks(decoder, "decoder", levels),
        *_norm(decoder.norm_out, "decoder.conv_norm_out"),
        *_conv(decoder.conv_out, "decoder.conv_out"),
    ]


def load_weights(model, state_dict):
    """Assigns a VQModel state dict ({key: numpy array}) to an amused
    VQGAN, strictly."""
    strict.assign(model, vqgan_pairs(model), state_dict, "vqvae checkpoint")


def convert(config_json, state_dict, tokens_per_side=16):
    """The amused VQGAN of a `vqvae/` config and state dict."""
    model = VQGAN(vqgan_config(config_json, tokens_per_side))
    load_weights(model, state_dict)
    return model
