"""Input embeddings of the masked transformer (docs/design.md §3)."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="muse_tf")
class ImageTokenEmbedding(keras.layers.Layer):
    """Embeds VQ token ids, including the [MASK] id, plus learned 2D positions.

    The vocabulary has `codebook_size + 1` rows; the last is [MASK]. The
    position embedding is factorised into a row table and a column table,
    summed, so it is 2D by construction; both have a fixed length and are
    never sliced by the runtime length, so shapes stay static under XLA.
    """

    def __init__(self, codebook_size, tokens_per_side, hidden_dim,
                 dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.codebook_size = int(codebook_size)
        self.tokens_per_side = int(tokens_per_side)
        self.hidden_dim = int(hidden_dim)
        self.dropout = float(dropout)
        self.token_embedding = keras.layers.Embedding(
            self.codebook_size + 1, self.hidden_dim,
            embeddings_initializer=keras.initializers.TruncatedNormal(
                stddev=0.02),
            dtype=self.dtype_policy, name="token_embedding")
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="norm")
        self.dropout_layer = keras.layers.Dropout(self.dropout)

    def build(self, token_ids_shape):
        self.token_embedding.build(token_ids_shape)
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        self.row_embedding = self.add_weight(
            name="row_embedding", initializer=init,
            shape=(self.tokens_per_side, 1, self.hidden_dim))
        self.column_embedding = self.add_weight(
            name="column_embedding", initializer=init,
            shape=(1, self.tokens_per_side, self.hidden_dim))
        self.norm.build(tuple(token_ids_shape) + (self.hidden_dim,))

    def call(self, token_ids, training=False):
        positions = tf.reshape(self.row_embedding + self.column_embedding,
                               [self.tokens_per_side**2, self.hidden_dim])
        x = self.token_embedding(token_ids) + tf.cast(positions,
                                                      self.compute_dtype)
        return self.dropout_layer(self.norm(x), training=training)

    def get_config(self):
        config = super().get_config()
        config.update(codebook_size=self.codebook_size,
                      tokens_per_side=self.tokens_per_side,
                      hidden_dim=self.hidden_dim, dropout=self.dropout)
        return config
