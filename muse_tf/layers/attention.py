"""The masked transformer's layer: self-attention, cross-attention, MLP.

Pre-LayerNorm residual branches (as MaskGIT's BERT-style blocks, but with
the norm first, which trains stably without warm-up tricks at small scale).
Cross-attention reads a memory: the projected text states (base model), or
the encoded low-res tokens and text (super-res model); padded memory
positions are masked out. The memory's key/value projections are an input
of the block, not computed inside it, because during decoding the memory is
the same at every step: the models project it once per prompt
(`memory_key_value`) and reuse it in every step. Without cross-attention
the block is a plain encoder layer (the super-res model's low-res encoder).

Dimensions: B batch, L image tokens, M memory tokens, D width (of the image
tokens and of the memory alike).
"""

import keras

from muse_tf.layers.dense import Dense


@keras.saving.register_keras_serializable(package="muse_tf")
class MemoryAttention(keras.layers.MultiHeadAttention):
    """Keras multi-head attention whose key/value projections of the memory
    are computed apart from the attention, so they can be computed once.

    The weights and the arithmetic are Keras's own (`call` is unchanged);
    `project_memory` followed by `attend` computes what `call` computes.
    """

    def project_memory(self, memory):
        """memory [B, M, D] -> (key, value), each [B, M, heads, head_dim]."""
        return self.key_dense(memory), self.value_dense(memory)

    def attend(self, query, key_value, attention_mask, training=False):
        """query [B, L, D], `project_memory`'s (key, value), attention_mask
        bool broadcastable to [B, L, M] -> [B, L, D]."""
        key, value = key_value
        output, _ = self._compute_attention(
            self.query_dense(query), key, value, attention_mask, training)
        return self.output_dense(output)


@keras.saving.register_keras_serializable(package="muse_tf")
class TransformerBlock(keras.layers.Layer):
    """One layer: x += SelfAttn(LN x); x += CrossAttn(LN x, memory);
    x += MLP.

    `cross_attention=False` leaves out the middle branch."""

    def __init__(self, hidden_dim, num_heads, mlp_dim, dropout=0.0,
                 cross_attention=True, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.dropout = float(dropout)
        self.has_cross_attention = bool(cross_attention)
        head_dim = self.hidden_dim // self.num_heads
        self.self_attention_norm = keras.layers.LayerNormalization(
            epsilon=1e-6, name="self_attention_norm")
        self.self_attention = keras.layers.MultiHeadAttention(
            self.num_heads, head_dim, dropout=self.dropout,
            name="self_attention")
        if self.has_cross_attention:
            self.cross_attention_norm = keras.layers.LayerNormalization(
                epsilon=1e-6, name="cross_attention_norm")
            self.cross_attention = MemoryAttention(
                self.num_heads, head_dim, dropout=self.dropout,
                name="cross_attention")
        self.mlp_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                        name="mlp_norm")
        self.mlp_in = Dense(self.mlp_dim, activation="gelu",
                            name="mlp_in")
        self.mlp_out = Dense(self.hidden_dim, name="mlp_out")
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        # Every width is known now (the memory has the block's width), and
        # `memory_key_value` may be needed before the block's first call.
        self.build((None, None, self.hidden_dim))

    def build(self, x_shape):
        self.self_attention_norm.build(x_shape)
        self.self_attention.build(x_shape, x_shape)
        if self.has_cross_attention:
            self.cross_attention_norm.build(x_shape)
            self.cross_attention.build(x_shape, x_shape)
        self.mlp_norm.build(x_shape)
        self.mlp_in.build(x_shape)
        self.mlp_out.build(tuple(x_shape[:-1]) + (self.mlp_dim,))

    def memory_key_value(self, memory):
        """memory [B, M, D] -> this block's cross-attention (key, value)."""
        return self.cross_attention.project_memory(memory)

    def call(self, x, memory_key_value=None, memory_mask=None,
             training=False):
        """x [B, L, D]; with cross-attention, `memory_key_value(memory)` and
        memory_mask bool [B, M]."""
        h = self.self_attention_norm(x)
        x = x + self.dropout_layer(
            self.self_attention(h, h, training=training), training=training)
        if self.has_cross_attention:
            h = self.cross_attention_norm(x)
            attention_mask = memory_mask[:, None, :]  # Every image row alike.
            x = x + self.dropout_layer(
                self.cross_attention.attend(h, memory_key_value,
                                            attention_mask, training=training),
                training=training)
        h = self.mlp_out(self.mlp_in(self.mlp_norm(x)))
        return x + self.dropout_layer(h, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(hidden_dim=self.hidden_dim, num_heads=self.num_heads,
                      mlp_dim=self.mlp_dim, dropout=self.dropout,
                      cross_attention=self.has_cross_attention)
        return config
