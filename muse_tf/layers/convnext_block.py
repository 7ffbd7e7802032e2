"""aMUSEd's ConvNeXt block (diffusers `ConvNextBlock`; docs/design.md
§10.3): the conv stages' only mixing of neighbouring tokens, modulated by
the conditioning vector after its residual sum.

Dimensions: B batch, H, W the token grid, C channels, E the conditioning
vector's width.
"""

import keras
import tensorflow as tf

from muse_tf.layers.dense import Dense
from muse_tf.layers.global_response_norm import GlobalResponseNorm


@keras.saving.register_keras_serializable(package="muse_tf")
class ConvNeXtBlock(keras.layers.Layer):
    """x = x + W2(GRN(gelu(W1(RMSNorm(depthwise3x3(x)))))), then
    x * (1 + scale) + shift with (scale, shift) from the condition.

    No biases. The modulation acts on the whole block output, residual
    included (unlike a DiT's gated branch). It depends on the condition
    alone, so `modulation` computes it once per prompt and `call` takes it.
    """

    def __init__(self, channels, cond_dim, epsilon=1e-6, expansion=4,
                 **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.cond_dim = int(cond_dim)
        self.epsilon = float(epsilon)
        self.expansion = int(expansion)
        inner = self.channels * self.expansion
        self.depthwise = keras.layers.DepthwiseConv2D(
            3, padding="same", use_bias=False, name="depthwise")
        self.norm = keras.layers.RMSNormalization(epsilon=self.epsilon,
                                                  name="norm")
        self.pointwise_in = Dense(inner, use_bias=False,
                                  name="pointwise_in")
        # The GRN builds itself here: in this block's name scope, so its
        # variables' paths name the block (checkpoints key variables by
        # path; every block has a "grn").
        with keras.name_scope(self.name, caller=self):
            self.grn = GlobalResponseNorm(inner, name="grn")
        self.pointwise_out = Dense(self.channels, use_bias=False,
                                   name="pointwise_out")
        self.cond_mapper = Dense(2 * self.channels,
                                 use_bias=False,
                                 name="cond_mapper")
        self.build((None, None, None, self.channels))

    def build(self, x_shape):
        self.depthwise.build(x_shape)
        self.norm.build(x_shape)
        self.pointwise_in.build(x_shape)
        self.pointwise_out.build(
            tuple(x_shape[:-1]) + (self.channels * self.expansion,))
        self.cond_mapper.build((None, self.cond_dim))

    def modulation(self, cond):
        """cond [B, E] -> (scale, shift), each [B, C]."""
        scale, shift = tf.split(self.cond_mapper(tf.nn.silu(cond)), 2, -1)
        return scale, shift

    def call(self, x, modulation):
        """x [B, H, W, C]; `modulation(cond)`'s (scale, shift)."""
        h = self.pointwise_in(self.norm(self.depthwise(x)))
        h = self.pointwise_out(self.grn(
            keras.activations.gelu(h, approximate=False)))
        scale, shift = modulation
        return ((x + h) * (1 + scale[:, None, None, :])
                + shift[:, None, None, :])

    def get_config(self):
        config = super().get_config()
        config.update(channels=self.channels, cond_dim=self.cond_dim,
                      epsilon=self.epsilon, expansion=self.expansion)
        return config
