"""aMUSEd's transformer layer (diffusers `BasicTransformerBlock` with
`norm_type="ada_norm_continuous"` and a GEGLU feed-forward;
docs/design.md §10.3): pre-norm self-attention, cross-attention to the
text and feed-forward, each norm's output scaled and shifted by the
conditioning vector (AdaLN, as in DiT, arXiv 2212.09748, without gates).

Dimensions: B batch, L image positions, T text tokens, D width (of the
image positions, the text memory and the conditioning vector alike).
"""

import keras
import tensorflow as tf

from muse_tf.layers.attention import MemoryAttention
from muse_tf.layers.dense import Dense


@keras.saving.register_keras_serializable(package="muse_tf")
class AdaLNTransformerBlock(keras.layers.Layer):
    """For i = 1, 2, 3: (scale_i, shift_i) from the condition, and
    x += SelfAttn(RMSNorm(x) * (1 + scale_1) + shift_1);
    x += CrossAttn(RMSNorm(x) * (1 + scale_2) + shift_2, text);
    x += W2(a * gelu(g)) with [a, g] = W1(LN(x) * (1 + scale_3) + shift_3).

    No biases: the LayerNorm has a weight and no bias (`center=False`).
    The modulations and the text's key/value projections do not depend on
    the image tokens, so `modulations` and `project_memory` compute them
    once per prompt and `call` takes them.
    """

    def __init__(self, dim, num_heads, ff_dim, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.num_heads = int(num_heads)
        self.ff_dim = int(ff_dim)
        self.epsilon = float(epsilon)
        head_dim = self.dim // self.num_heads
        self.modulation_1, self.modulation_2, self.modulation_3 = (
            Dense(2 * self.dim, use_bias=False,
                  name=f"modulation_{i}") for i in (1, 2, 3))
        self.norm_1 = keras.layers.RMSNormalization(epsilon=self.epsilon,
                                                    name="norm_1")
        self.self_attention = keras.layers.MultiHeadAttention(
            self.num_heads, head_dim, use_bias=False, name="self_attention")
        self.norm_2 = keras.layers.RMSNormalization(epsilon=self.epsilon,
                                                    name="norm_2")
        self.cross_attention = MemoryAttention(
            self.num_heads, head_dim, use_bias=False, name="cross_attention")
        self.norm_3 = keras.layers.LayerNormalization(
            epsilon=self.epsilon, center=False, name="norm_3")
        self.ff_in = Dense(2 * self.ff_dim, use_bias=False,
                           name="ff_in")
        self.ff_out = Dense(self.dim, use_bias=False,
                            name="ff_out")
        self.build((None, None, self.dim))

    def build(self, x_shape):
        for modulation in (self.modulation_1, self.modulation_2,
                           self.modulation_3):
            modulation.build((None, self.dim))
        for norm in (self.norm_1, self.norm_2, self.norm_3):
            norm.build(x_shape)
        self.self_attention.build(x_shape, x_shape)
        self.cross_attention.build(x_shape, x_shape)
        self.ff_in.build(x_shape)
        self.ff_out.build(tuple(x_shape[:-1]) + (self.ff_dim,))

    def modulations(self, cond):
        """cond [B, D] -> ((scale_i, shift_i) for i = 1, 2, 3), each
        [B, D]."""
        cond = tf.nn.silu(cond)
        return tuple(tuple(tf.split(m(cond), 2, -1)) for m in (
            self.modulation_1, self.modulation_2, self.modulation_3))

    def project_memory(self, memory):
        """memory [B, T, D] -> the cross-attention's (key, value)."""
        return self.cross_attention.project_memory(memory)

    def call(self, x, modulations, memory_key_value):
        """x [B, L, D]; `modulations(cond)`; `project_memory(memory)`. No
        mask: aMUSEd attends to every text position."""
        (scale_1, shift_1), (scale_2, shift_2), (scale_3, shift_3) = (
            modulations)
        h = _modulate(self.norm_1(x), scale_1, shift_1)
        x = x + self.self_attention(h, h)
        h = _modulate(self.norm_2(x), scale_2, shift_2)
        x = x + self.cross_attention.attend(h, memory_key_value, None)
        a, gate = tf.split(
            self.ff_in(_modulate(self.norm_3(x), scale_3, shift_3)), 2, -1)
        return x + self.ff_out(
            a * keras.activations.gelu(gate, approximate=False))

    def get_config(self):
        config = super().get_config()
        config.update(dim=self.dim, num_heads=self.num_heads,
                      ff_dim=self.ff_dim, epsilon=self.epsilon)
        return config


def _modulate(x, scale, shift):
    """x [B, L, D] * (1 + scale) + shift, with scale, shift [B, D]."""
    return x * (1 + scale[:, None, :]) + shift[:, None, :]
