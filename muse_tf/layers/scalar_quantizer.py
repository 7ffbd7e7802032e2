"""Finite scalar quantization (FSQ; Mentzer et al., arXiv 2309.15505).

Each of the code vector's few channels is bounded and rounded to one of a
fixed number of levels; a code id is the mixed-radix number those digits
spell. There is no codebook to learn, so none of it can fall out of use:
the emoji VQGANs trained with a learned codebook used fewer codes the
longer they trained (docs/design.md §2). Gradients pass the rounding
straight through, and there is no codebook or commitment loss.

Dimensions: B batch, H, W token grid, D = len(levels).
"""

import math

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="muse_tf")
class FiniteScalarQuantizer(keras.layers.Layer):
    """Maps `[B, H, W, D]` vectors to code ids in `[0, prod(levels))` and
    back; the same interface as `VectorQuantizer`."""

    def __init__(self, levels, **kwargs):
        super().__init__(**kwargs)
        self.levels = tuple(int(level) for level in levels)
        if not self.levels or min(self.levels) < 2:
            raise ValueError(f"FSQ levels must be integers >= 2, got "
                             f"{levels}")
        self.codebook_size = math.prod(self.levels)
        levels = np.array(self.levels, np.float32)
        # Digit d of channel i takes values -half_width .. levels-1-half_width
        # (an even level count has one more value below zero than above).
        self._half_width = levels // 2
        self._basis = np.cumprod([1] + list(self.levels[:-1])).astype(
            np.int32)
        # tanh(z + shift) * half_range - offset spans exactly the digits.
        self._half_range = (levels - 1) * (1 + 1e-3) / 2
        self._offset = np.where(levels % 2 == 0, 0.5, 0.0).astype(np.float32)
        self._shift = np.arctanh(self._offset / self._half_range)

    def call(self, z):
        """Returns (quantized, ids, loss): quantized float32 [B, H, W, D] in
        [-1, 1] with the straight-through gradient to `z`, ids int32
        [B, H, W], loss 0 (FSQ has no auxiliary loss)."""
        z = tf.cast(z, tf.float32)
        if z.shape[-1] != len(self.levels):
            raise ValueError(f"FSQ with levels {self.levels} quantizes "
                             f"{len(self.levels)} channels, got {z.shape[-1]}")
        bounded = (tf.tanh(z + self._shift) * self._half_range
                   - self._offset)
        digits = bounded + tf.stop_gradient(tf.round(bounded) - bounded)
        ids = tf.reduce_sum(
            tf.cast(tf.round(bounded) + self._half_width, tf.int32)
            * self._basis, axis=-1)
        return digits / self._half_width, ids, tf.constant(0.0)

    def lookup(self, ids):
        """int32 [B, H, W] code ids -> float32 [B, H, W, D] in [-1, 1]."""
        digits = (tf.cast(ids, tf.int32)[..., None] // self._basis
                  % np.array(self.levels, np.int32))
        return ((tf.cast(digits, tf.float32) - self._half_width)
                / self._half_width)

    def get_config(self):
        config = super().get_config()
        config.update(levels=self.levels)
        return config
