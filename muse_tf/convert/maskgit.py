"""Converts google-research/maskgit's released checkpoints (the ImageNet
tokenizers and class-conditional transformers at 256 and 512 px) into a
model directory that every muse-tf verb takes.

The files are Flax checkpoints (`flax_checkpoint.read`). The architecture
is read from the parameters' shapes (so both resolutions, and any other
model trained with the official code, convert), built as our
`architecture="maskgit"` models (docs/design.md §9), and every parameter
is assigned strictly (`strict.assign`). The sampler is the official
decoding: cosine schedule, 16 steps, choice temperature 4.5 annealed to 0,
no guidance, box editing from step 2.

  muse-tf convert maskgit --tokenizer tokenizer_imagenet256_checkpoint \
      --transformer maskgit_imagenet256_checkpoint models/maskgit_256
"""

import math
import re

import numpy as np

from muse_tf import model_dir
from muse_tf.configs import (
    ClassConfig,
    ModelConfig,
    SamplerConfig,
    TransformerConfig,
    VQGANConfig,
)
from muse_tf.convert import flax_checkpoint, strict
from muse_tf.data import imagenet
from muse_tf.layers.res_block import ResBlock

# The official decoding (maskgit/inference.py, libml/parallel_decode.py).
SAMPLER = SamplerConfig(num_steps=16, schedule="cosine", temperature=1.0,
                        choice_temperature=4.5, guidance_scale=0.0,
                        guidance_schedule="none", inpaint_start_step=2)
_DROPOUT = 0.1  # maskgit_class_cond_config: for fine-tuning.


def read_params(path, what):
    """({name: array} of a checkpoint's `params` collection, the names of
    its other top-level collections). The official inference passes the
    whole file to `Module.apply`, which reads `params` alone, so other
    collections are left out here too (and reported); a file without
    `params` is a ValueError."""
    flat = flax_checkpoint.read(path)
    params = {k[len("params/"):]: v for k, v in flat.items()
              if k.startswith("params/")}
    if not params:
        raise ValueError(f"{what} {path} has no 'params' collection")
    others = sorted({k.split("/")[0] for k in flat
                     if not k.startswith("params/")})
    return params, others


def _get(params, name, what):
    if name not in params:
        raise ValueError(f"{what} has no parameter {name!r}")
    return params[name]


def _count(params, pattern):
    """1 + the largest index N of names matching `pattern` (with one
    group for N), or 0."""
    found = [int(m.group(1)) for name in params
             for m in [re.match(pattern, name)] if m]
    return max(found) + 1 if found else 0


# === Architecture from the parameters ===

def transformer_config(params, codebook_size, what="transformer"):
    """The TransformerConfig of official transformer `params`."""
    hidden = _get(params, "Embed_0/word_embeddings/embedding", what).shape[1]
    positions = _get(params, "Embed_0/position_embeddings/embedding",
                     what).shape[0]
    side = math.isqrt(positions - 1)
    if side * side != positions - 1:
        raise ValueError(f"{what}: {positions} position embeddings are not "
                         "a square token grid plus the class token")
    query = _get(params, "TransformerLayer_0/Attention_0/self_attention/"
                 "query/kernel", what)
    mlp = _get(params, "TransformerLayer_0/Mlp_0/intermediate_output/kernel",
               what)
    return TransformerConfig(
        codebook_size=codebook_size, image_tokens_per_side=side,
        hidden_dim=hidden, num_layers=_count(params, r"TransformerLayer_(\d+)/"),
        num_heads=query.shape[1], mlp_dim=mlp.shape[1], dropout=_DROPOUT,
        text_dim=hidden, architecture="maskgit")


def vqgan_config(params, tokens_per_side, what="tokenizer"):
    """The VQGANConfig of official tokenizer `params`, for images of
    `tokens_per_side` tokens a side."""
    codebook = _get(params, "quantizer/codebook", what)
    base = _get(params, "encoder/Conv_0/kernel", what).shape[-1]
    # The decoder's convs: the input conv, one after each upsampling and
    # the output conv; the encoder has num_res_blocks per level plus as
    # many middle blocks.
    levels = _count(params, r"decoder/Conv_(\d+)/") - 1
    blocks = _count(params, r"encoder/ResBlock_(\d+)/")
    if levels < 1 or blocks % (levels + 1):
        raise ValueError(f"{what}: {blocks} encoder residual blocks do not "
                         f"make {levels} levels plus middle blocks")
    per_level = blocks // (levels + 1)
    multipliers = tuple(
        int(_get(params, f"encoder/ResBlock_{level * per_level}/Conv_1/"
                 "kernel", what).shape[-1]) // base
        for level in range(levels))
    return VQGANConfig(
        image_size=tokens_per_side * 2 ** (levels - 1), base_channels=base,
        channel_multipliers=multipliers, num_res_blocks=per_level,
        codebook_size=codebook.shape[0], embedding_dim=codebook.shape[1],
        architecture="maskgit")


def model_config(tokenizer_params, transformer_params, class_names=None):
    """The ModelConfig of a pair of official checkpoints; `class_names`
    default to ImageNet's for a 1,000-class transformer."""
    codebook = _get(tokenizer_params, "quantizer/codebook", "tokenizer")
    transformer = transformer_config(transformer_params, codebook.shape[0])
    vocab = _get(transformer_params, "Embed_0/word_embeddings/embedding",
                 "transformer").shape[0]
    num_classes = vocab - codebook.shape[0] - 1
    if class_names is None:
        if num_classes != imagenet.NUM_CLASSES:
            raise ValueError(
                f"the transformer has {num_classes} classes (vocabulary "
                f"{vocab} = {codebook.shape[0]} codes + classes + [MASK]), "
                "not ImageNet's 1000: give their names")
        class_names = imagenet.class_names()
    if len(class_names) != num_classes:
        raise ValueError(f"{len(class_names)} class names for a transformer "
                         f"of {num_classes} classes")
    return ModelConfig(
        vqgan=vqgan_config(tokenizer_params,
                           transformer.image_tokens_per_side),
        transformer=transformer, text=None, sampler=SAMPLER,
        classes=ClassConfig(tuple(class_names)))


# === Parameter mapping ===

def _dense(layer, name):
    return [(layer.kernel, f"{name}/kernel", None),
            (layer.bias, f"{name}/bias", None)]


def _norm(layer, name):
    return [(layer.gamma, f"{name}/scale", None),
            (layer.beta, f"{name}/bias", None)]


def _conv(layer, name):
    pairs = [(layer.kernel, f"{name}/kernel", None)]
    if layer.use_bias:
        pairs.append((layer.bias, f"{name}/bias", None))
    return pairs


def transformer_pairs(model):
    """[(variable, official name, None)] of a MaskGITTransformer."""
    pairs = [
        (model.word_embeddings.embeddings,
         "Embed_0/word_embeddings/embedding", None),
        (model.position_embeddings, "Embed_0/position_embeddings/embedding",
         None),
        *_norm(model.embedding_norm, "Embed_0/embeddings_ln"),
    ]
    for i, block in enumerate(model.blocks):
        layer = f"TransformerLayer_{i}"
        attention = f"{layer}/Attention_0/self_attention"
        pairs += [
            *_dense(block.attention.query_dense, f"{attention}/query"),
            *_dense(block.attention.key_dense, f"{attention}/key"),
            *_dense(block.attention.value_dense, f"{attention}/value"),
            *_dense(block.attention.output_dense, f"{attention}/out"),
            *_norm(block.attention_norm,
                   f"{layer}/Attention_0/attention_output_ln"),
            *_dense(block.mlp_in, f"{layer}/Mlp_0/intermediate_output"),
            *_dense(block.mlp_out, f"{layer}/Mlp_0/layer_output"),
            *_norm(block.mlp_norm, f"{layer}/Mlp_0/layer_output_ln"),
        ]
    return pairs + [
        *_dense(model.head_dense, "MlmLayer_0/mlm_dense"),
        *_norm(model.head_norm, "MlmLayer_0/mlm_ln"),
        (model.head_bias, "MlmLayer_0/mlm_bias/bias", None),
    ]


def _res_block(block, name):
    pairs = [*_norm(block.norm1, f"{name}/GroupNorm_0"),
             *_conv(block.conv1, f"{name}/Conv_0"),
             *_norm(block.norm2, f"{name}/GroupNorm_1"),
             *_conv(block.conv2, f"{name}/Conv_1")]
    if block.shortcut is not None:
        pairs += _conv(block.shortcut, f"{name}/Conv_2")
    return pairs


def vqgan_pairs(model):
    """[(variable, official name, None)] of a maskgit-architecture VQGAN:
    the official modules' auto-names are their creation order."""
    encoder, decoder = model.encoder, model.decoder
    pairs = [(model.quantizer.codebook, "quantizer/codebook", None),
             *_conv(encoder.conv_in, "encoder/Conv_0")]
    for i, block in enumerate(b for b in encoder.blocks
                              if isinstance(b, ResBlock)):
        pairs += _res_block(block, f"encoder/ResBlock_{i}")
    pairs += [*_norm(encoder.norm_out, "encoder/GroupNorm_0"),
              *_conv(encoder.conv_out, "encoder/Conv_1"),
              *_conv(decoder.conv_in, "decoder/Conv_0")]
    resblocks = [b for b in decoder.blocks if isinstance(b, ResBlock)]
    upsampling_convs = [b for b in decoder.blocks
                        if not isinstance(b, ResBlock)
                        and b.name.startswith("up_")]
    for i, block in enumerate(resblocks):
        pairs += _res_block(block, f"decoder/ResBlock_{i}")
    for i, conv in enumerate(upsampling_convs):
        pairs += _conv(conv, f"decoder/Conv_{i + 1}")
    return pairs + [
        *_norm(decoder.norm_out, "decoder/GroupNorm_0"),
        *_conv(decoder.conv_out, f"decoder/Conv_{len(upsampling_convs) + 1}"),
    ]


def load_weights(models, tokenizer_params, transformer_params):
    """Assigns official parameters to built {"vqgan", "class_transformer"}
    models, strictly."""
    strict.assign(models["class_transformer"],
                  transformer_pairs(models["class_transformer"]),
                  transformer_params, "transformer checkpoint")
    strict.assign(models["vqgan"], vqgan_pairs(models["vqgan"]),
                  tokenizer_params, "tokenizer checkpoint")


def convert_params(tokenizer_params, transformer_params, class_names=None):
    """(ModelConfig, {component: model}) from official parameters
    ({name: array} without the `params/` prefix)."""
    config = model_config(tokenizer_params, transformer_params, class_names)
    models = model_dir.build(config)
    load_weights(models, tokenizer_params, transformer_params)
    return config, models


def convert(tokenizer_path, transformer_path, output, class_names=None):
    """Writes the model directory `output` from the two checkpoint files;
    returns (its ModelConfig, the files' collections other than `params`,
    which were not read)."""
    tokenizer, tokenizer_others = read_params(tokenizer_path, "tokenizer")
    transformer, transformer_others = read_params(transformer_path,
                                                  "transformer")
    config, models = convert_params(tokenizer, transformer, class_names)
    model_dir.save(output, config, models)
    return config, sorted(set(tokenizer_others + transformer_others))


def parameter_count(params):
    return int(sum(np.prod(v.shape) for v in params.values()))
