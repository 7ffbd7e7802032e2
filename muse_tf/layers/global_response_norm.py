"""Global response normalization (ConvNeXt-V2, arXiv 2301.00808, §3),
as aMUSEd's ConvNeXt blocks use it on channels-last maps.

Dimensions: B batch, H, W the grid, C channels.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="muse_tf")
class GlobalResponseNorm(keras.layers.Layer):
    """x [B, H, W, C] -> gamma * (x * n) + beta + x, where n is each
    channel's L2 norm over the grid divided by the mean of those norms
    (+ 1e-6), per example.

    Computed in float32: the sum of squares over the whole grid is what a
    bfloat16 accumulation would lose.
    """

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.build((None, None, None, self.channels))

    def build(self, x_shape):
        self.gamma = self.add_weight(name="gamma", shape=(self.channels,),
                                     initializer="zeros", autocast=False)
        self.beta = self.add_weight(name="beta", shape=(self.channels,),
                                    initializer="zeros", autocast=False)

    def call(self, x):
        x32 = tf.cast(x, tf.float32)
        norms = tf.sqrt(tf.reduce_sum(tf.square(x32), axis=(1, 2),
                                      keepdims=True))
        normalized = norms / (tf.reduce_mean(norms, -1, keepdims=True) + 1e-6)
        return tf.cast(self.gamma * (x32 * normalized) + self.beta + x32,
                       x.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(channels=self.channels)
        return config
