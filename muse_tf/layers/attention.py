"""The masked transformer's layer: self-attention, text cross-attention, MLP.

Pre-LayerNorm residual branches (as MaskGIT's BERT-style blocks, but with
the norm first, which trains stably without warm-up tricks at small scale).
Cross-attention reads the projected text states; padded text positions are
masked out. Without cross-attention the block is a plain encoder layer (the
super-res model's low-res encoder). Dimensions: B batch, L image tokens,
T text tokens, D width.
"""

import keras


@keras.saving.register_keras_serializable(package="muse_tf")
class TransformerBlock(keras.layers.Layer):
    """One layer: x += SelfAttn(LN x); x += CrossAttn(LN x, text); x += MLP.

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
            self.cross_attention = keras.layers.MultiHeadAttention(
                self.num_heads, head_dim, dropout=self.dropout,
                name="cross_attention")
        self.mlp_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                        name="mlp_norm")
        self.mlp_in = keras.layers.Dense(self.mlp_dim, activation="gelu",
                                         name="mlp_in")
        self.mlp_out = keras.layers.Dense(self.hidden_dim, name="mlp_out")
        self.dropout_layer = keras.layers.Dropout(self.dropout)

    def build(self, x_shape, text_shape=None, text_mask_shape=None):
        self.self_attention_norm.build(x_shape)
        self.self_attention.build(x_shape, x_shape)
        if self.has_cross_attention:
            self.cross_attention_norm.build(x_shape)
            self.cross_attention.build(x_shape, text_shape)
        self.mlp_norm.build(x_shape)
        self.mlp_in.build(x_shape)
        self.mlp_out.build(tuple(x_shape[:-1]) + (self.mlp_dim,))

    def call(self, x, text=None, text_mask=None, training=False):
        """x [B, L, D], text [B, T, D], text_mask bool [B, T] (text and
        text_mask only with cross-attention)."""
        h = self.self_attention_norm(x)
        x = x + self.dropout_layer(
            self.self_attention(h, h, training=training), training=training)
        if self.has_cross_attention:
            h = self.cross_attention_norm(x)
            attention_mask = text_mask[:, None, :]  # Every image row alike.
            x = x + self.dropout_layer(
                self.cross_attention(h, text, attention_mask=attention_mask,
                                     training=training), training=training)
        h = self.mlp_out(self.mlp_in(self.mlp_norm(x)))
        return x + self.dropout_layer(h, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(hidden_dim=self.hidden_dim, num_heads=self.num_heads,
                      mlp_dim=self.mlp_dim, dropout=self.dropout,
                      cross_attention=self.has_cross_attention)
        return config
