"""BERT's transformer layer, as MaskGIT's released transformer has it
(docs/design.md §9.3): post-LayerNorm residual branches.

    x = LN(x + SelfAttention(x))
    x = LN(x + W2 · gelu_tanh(W1 · x))

with LayerNorm epsilon 1e-12 ("from BERT") and the tanh approximation of
GELU (JAX's default). Our own blocks (`attention.py`) put the norm first
and cross-attend to a memory; this one exists so MaskGIT's checkpoints
compute exactly what they were trained to.

Dimensions: B batch, L tokens, D width.
"""

import keras

from muse_tf.layers.dense import Dense


@keras.saving.register_keras_serializable(package="muse_tf")
class PostNormTransformerBlock(keras.layers.Layer):
    """Self-attention and MLP, each followed by a residual LayerNorm."""

    def __init__(self, hidden_dim, num_heads, mlp_dim, dropout=0.0,
                 epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.dropout = float(dropout)
        self.epsilon = float(epsilon)
        self.attention = keras.layers.MultiHeadAttention(
            self.num_heads, self.hidden_dim // self.num_heads,
            dropout=self.dropout, name="attention")
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=self.epsilon, name="attention_norm")
        self.mlp_in = Dense(self.mlp_dim, name="mlp_in")
        self.mlp_out = Dense(self.hidden_dim, name="mlp_out")
        self.mlp_norm = keras.layers.LayerNormalization(epsilon=self.epsilon,
                                                        name="mlp_norm")
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.build((None, None, self.hidden_dim))

    def build(self, x_shape):
        self.attention.build(x_shape, x_shape)
        self.attention_norm.build(x_shape)
        self.mlp_in.build(x_shape)
        self.mlp_out.build(tuple(x_shape[:-1]) + (self.mlp_dim,))
        self.mlp_norm.build(x_shape)

    def call(self, x, training=False):
        """x [B, L, D] -> [B, L, D]."""
        h = self.attention(x, x, training=training)
        x = self.attention_norm(x + self.dropout_layer(h, training=training))
        h = self.mlp_out(keras.activations.gelu(self.mlp_in(x),
                                                approximate=True))
        return self.mlp_norm(x + self.dropout_layer(h, training=training))

    def get_config(self):
        config = super().get_config()
        config.update(hidden_dim=self.hidden_dim, num_heads=self.num_heads,
                      mlp_dim=self.mlp_dim, dropout=self.dropout,
                      epsilon=self.epsilon)
        return config
