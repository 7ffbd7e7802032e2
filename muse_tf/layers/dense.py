"""A Dense layer TensorFlow's CPU graph runs as one oneDNN kernel.

`keras.layers.Dense` on a [B, L, D] input emits a batched matmul, an AddV2
of the bias and the activation: three ops. Grappler fuses a 2-D MatMul,
its BiasAdd and a following GELU or ReLU into one oneDNN kernel
(`_MklNativeFusedMatMul`) but only for that op pattern, so Keras' form
keeps them apart; in bf16 the unfused exact GELU alone took as long as the
matmul before it (benchmarks/README.md, "bf16"). Under XLA both forms
compile to the same code. The weights, and the class name that Keras
names a model's weights by in saved files, are Dense's, so weights saved
from either load into the other.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="muse_tf")
class Dense(keras.layers.Dense):
    """keras.layers.Dense computed as reshape -> MatMul -> BiasAdd ->
    activation -> reshape (the pattern grappler fuses)."""

    def call(self, inputs, training=None):
        features = tf.reshape(inputs, [-1, inputs.shape[-1]])
        outputs = tf.matmul(features, tf.cast(self.kernel, features.dtype))
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs,
                                     tf.cast(self.bias, outputs.dtype))
        if self.activation is not None:
            outputs = self.activation(outputs)
        shape = tf.concat([tf.shape(inputs)[:-1], [self.units]], 0)
        return tf.ensure_shape(tf.reshape(outputs, shape),
                               inputs.shape[:-1] + [self.units])
