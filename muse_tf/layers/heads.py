"""Output head of the masked transformer (MaskGIT's MlmLayer)."""

import keras

from muse_tf.layers.dense import Dense


@keras.saving.register_keras_serializable(package="muse_tf")
class MLMHead(keras.layers.Layer):
    """Dense -> GELU -> LayerNorm -> logits over the codebook (not [MASK])."""

    def __init__(self, hidden_dim, codebook_size, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.codebook_size = int(codebook_size)
        self.dense = Dense(self.hidden_dim, activation="gelu",
                           name="dense")
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="norm")
        self.logits = Dense(self.codebook_size, name="logits")

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.norm.build(input_shape)
        self.logits.build(input_shape)

    def call(self, x):
        return self.logits(self.norm(self.dense(x)))

    def get_config(self):
        config = super().get_config()
        config.update(hidden_dim=self.hidden_dim,
                      codebook_size=self.codebook_size)
        return config
