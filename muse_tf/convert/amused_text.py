"""aMUSEd's text encoder and tokenizer from a diffusers folder: transformers'
`text_encoder/` (config.json, model.safetensors) and `tokenizer/` files
into a `CLIPTextEncoder` (docs/design.md §10.5), read with safetensors'
NumPy API and JSON, without torch.

Every parameter is assigned strictly (`strict.assign`): the one key
skipped is `text_model.embeddings.position_ids`, the [1, 77] arange buffer
older transformers versions saved.
"""

import os

import numpy as np

from muse_tf.convert import strict
from muse_tf.convert.diffusers_folder import read_part
from muse_tf.text.clip import CLIPTextEncoder
from muse_tf.text.clip_tokenizer import CLIPTokenizer

_BUFFER = "text_model.embeddings.position_ids"
WEIGHT_FILES = ("model.safetensors", "model.fp16.safetensors")


def encoder_kwargs(config):
    """CLIPTextEncoder's keyword arguments from text_encoder/config.json."""
    return {"vocabulary_size": config["vocab_size"],
            "hidden_dim": config["hidden_size"],
            "num_layers": config["num_hidden_layers"],
            "num_heads": config["num_attention_heads"],
            "intermediate_dim": config["intermediate_size"],
            "max_positions": config["max_position_embeddings"],
            "projection_dim": config["projection_dim"],
            "layer_norm_epsilon": config["layer_norm_eps"],
            "hidden_act": config["hidden_act"]}


# === Parameter mapping ===

def _linear(variable, inputs=1):
    """A torch Linear weight [out, in] to a Keras kernel `variable` whose
    first `inputs` axes are the input's (2 for the attention output's
    [H, Dh, D]): transposed and reshaped. A weight of another shape is
    passed on unchanged, for `strict.assign` to name."""
    shape = tuple(variable.shape)
    source = (int(np.prod(shape[inputs:])), int(np.prod(shape[:inputs])))

    def transform(weight):
        return weight.T.reshape(shape) if weight.shape == source else weight

    return transform


def _reshape(variable):
    """A bias [H·Dh] to the attention's [H, Dh] `variable`."""
    shape = tuple(variable.shape)

    def transform(bias):
        return bias.reshape(shape) if bias.size == np.prod(shape) else bias

    return transform


def _dense(layer, name, inputs=1):
    return [(layer.kernel, f"{name}.weight", _linear(layer.kernel, inputs)),
            (layer.bias, f"{name}.bias", _reshape(layer.bias))]


def _norm(layer, name):
    return [(layer.gamma, f"{name}.weight", None),
            (layer.beta, f"{name}.bias", None)]


def encoder_pairs(encoder):
    """[(variable, state-dict key, transform)] of a CLIPTextEncoder."""
    backbone = encoder.backbone
    embedding = backbone.embedding
    pairs = [
        (embedding.token_embedding.embeddings,
         "text_model.embeddings.token_embedding.weight", None),
        (embedding.position_embedding.position_embeddings,
         "text_model.embeddings.position_embedding.weight", None),
    ]
    for i, block in enumerate(backbone.encoder_layers):
        layer = f"text_model.encoder.layers.{i}"
        attention = block.attention
        pairs += [
            *_norm(block.layer_norm_1, f"{layer}.layer_norm1"),
            *_dense(attention.query_dense, f"{layer}.self_attn.q_proj"),
            *_dense(attention.key_dense, f"{layer}.self_attn.k_proj"),
            *_dense(attention.value_dense, f"{layer}.self_attn.v_proj"),
            *_dense(attention.output_dense, f"{layer}.self_attn.out_proj",
                   inputs=2),
            *_norm(block.layer_norm_2, f"{layer}.layer_norm2"),
            *_dense(block.dense_1, f"{layer}.mlp.fc1"),
            *_dense(block.dense_2, f"{layer}.mlp.fc2"),
        ]
    kernel = encoder.projection.kernel
    return pairs + [
        *_norm(backbone.layer_norm, "text_model.final_layer_norm"),
        (kernel, "text_projection.weight", _linear(kernel)),
    ]


def load_weights(encoder, state_dict):
    """Assigns transformers' state dict ({key: array}) to `encoder`,
    strictly."""
    sources = {k: v for k, v in state_dict.items() if k != _BUFFER}
    strict.assign(encoder, encoder_pairs(encoder), sources,
                  "text encoder checkpoint")


# === Files ===

def build_encoder(config, tokenizer):
    """An unloaded CLIPTextEncoder for a text_encoder/config.json dict."""
    return CLIPTextEncoder(tokenizer, **encoder_kwargs(config))


def load_encoder(diffusers_dir):
    """The CLIPTextEncoder of a diffusers folder (its `text_encoder/` and
    `tokenizer/`), weights assigned."""
    config, state_dict = read_part(
        os.path.join(diffusers_dir, "text_encoder"), WEIGHT_FILES)
    tokenizer = CLIPTokenizer.from_folder(
        os.path.join(diffusers_dir, "tokenizer"))
    encoder = build_encoder(config, tokenizer)
    load_weights(encoder, state_dict)
    return encoder
