"""A convolutional stage of aMUSEd's U-ViT (diffusers `UVitBlock`;
docs/design.md §10.3): ConvNeXt blocks alternating with attention blocks
that read the text, on the token grid before (`down`) or after (`up`) the
transformer layers.

amused-512 halves its 32x32 grid in the down stage (RMSNorm, then a 2x2
stride-2 convolution; diffusers pads right and bottom by one first, which
a 2x2 stride-2 window over an even size never reads, so "valid" is exact)
and doubles it back at the end of the up stage (RMSNorm, then a 2x2
stride-2 transposed convolution: each cell writes its own 2x2 block).
There is no skip connection from the down stage to the up stage.

Dimensions: B batch, H, W the grid, C channels, T text tokens, E the
conditioning vector's and the text memory's width.
"""

import keras
import tensorflow as tf

from muse_tf.layers.convnext_block import ConvNeXtBlock
from muse_tf.layers.text_cross_attention_block import (
    TextCrossAttentionBlock,
)

RESAMPLINGS = (None, "down", "up")


@keras.saving.register_keras_serializable(package="muse_tf")
class UViTStage(keras.layers.Layer):
    """[down: RMSNorm, conv 2x2/2]; `num_blocks` x (ConvNeXtBlock,
    TextCrossAttentionBlock); [up: RMSNorm, transposed conv 2x2/2]. No
    biases."""

    def __init__(self, channels, num_blocks, num_heads, cond_dim,
                 epsilon=1e-6, resample=None, **kwargs):
        super().__init__(**kwargs)
        if resample not in RESAMPLINGS:
            raise ValueError(f"resample must be one of {RESAMPLINGS}, got "
                             f"{resample!r}")
        self.channels = int(channels)
        self.num_blocks = int(num_blocks)
        self.num_heads = int(num_heads)
        self.cond_dim = int(cond_dim)
        self.epsilon = float(epsilon)
        self.resample = resample
        self.resample_norm = self.resample_conv = None
        if resample is not None:
            self.resample_norm = keras.layers.RMSNormalization(
                epsilon=self.epsilon, name="resample_norm")
            conv = (keras.layers.Conv2D if resample == "down"
                    else keras.layers.Conv2DTranspose)
            self.resample_conv = conv(self.channels, 2, strides=2,
                                      padding="valid", use_bias=False,
                                      name="resample_conv")
        # The blocks build themselves here: in this stage's name scope, so
        # their variables' paths name the stage (checkpoints key variables
        # by path; the down and up stages have the same block names).
        with keras.name_scope(self.name, caller=self):
            self.convnext_blocks = [
                ConvNeXtBlock(self.channels, self.cond_dim, self.epsilon,
                              name=f"convnext_{i}")
                for i in range(self.num_blocks)]
            self.attention_blocks = [
                TextCrossAttentionBlock(self.channels, self.num_heads,
                                        self.cond_dim, name=f"attention_{i}")
                for i in range(self.num_blocks)]
        self.build((None, None, None, self.channels))

    def build(self, x_shape):
        if self.resample is not None:
            self.resample_norm.build(x_shape)
            self.resample_conv.build(x_shape)

    def memory(self, cond, text):
        """cond [B, E], text memory [B, T, E] -> every block's ConvNeXt
        modulation and attention key/values, for `call`."""
        return tuple((convnext.modulation(cond),
                      attention.project_memory(text))
                     for convnext, attention in zip(self.convnext_blocks,
                                                    self.attention_blocks))

    def call(self, x, memory):
        """x [B, H, W, C] (H, W static); `memory(cond, text)`. Returns
        [B, H', W', C], H' = H/2 down, 2H up, else H."""
        if self.resample == "down":
            x = self.resample_conv(self.resample_norm(x))
        _, height, width, channels = x.shape
        for convnext, attention, (modulation, key_values) in zip(
                self.convnext_blocks, self.attention_blocks, memory):
            x = convnext(x, modulation)
            x = tf.reshape(x, [-1, height * width, channels])
            x = attention(x, key_values)
            x = tf.reshape(x, [-1, height, width, channels])
        if self.resample == "up":
            x = self.resample_conv(self.resample_norm(x))
        return x

    def get_config(self):
        config = super().get_config()
        config.update(channels=self.channels, num_blocks=self.num_blocks,
                      num_heads=self.num_heads, cond_dim=self.cond_dim,
                      epsilon=self.epsilon, resample=self.resample)
        return config
