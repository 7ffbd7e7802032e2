"""The attention block of aMUSEd's conv stages (diffusers
`SkipFFTransformerBlock`; docs/design.md §10.3): two cross-attentions to
the text, one after the other, and nothing else.

There is no self-attention and no MLP: image positions of a conv stage
mix only through the ConvNeXt blocks' depthwise convolutions. The text
memory comes in at the transformer's width and is mapped to the stage's
(`kv_mapper`, after a SiLU) when the two differ; diffusers has no mapper
when they are equal, and then attends to the memory as it is.

Dimensions: B batch, L image positions, T text tokens, D the stage's
width, M the memory's.
"""

import keras
import tensorflow as tf

from muse_tf.layers.attention import MemoryAttention
from muse_tf.layers.dense import Dense


@keras.saving.register_keras_serializable(package="muse_tf")
class TextCrossAttentionBlock(keras.layers.Layer):
    """x += Attn1(RMSNorm1(x), m); x += Attn2(RMSNorm2(x), m), where m is
    the (mapped) text memory. No biases; the norms' epsilon is 1e-6 (a
    literal in diffusers, whatever the model's layer_norm_eps)."""

    def __init__(self, dim, num_heads, memory_dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.num_heads = int(num_heads)
        self.memory_dim = int(memory_dim)
        self.kv_mapper = (Dense(self.dim, use_bias=False,
                                name="kv_mapper")
                          if self.memory_dim != self.dim else None)
        head_dim = self.dim // self.num_heads
        self.norm_1 = keras.layers.RMSNormalization(epsilon=1e-6,
                                                    name="norm_1")
        self.attention_1 = MemoryAttention(self.num_heads, head_dim,
                                           use_bias=False, name="attention_1")
        self.norm_2 = keras.layers.RMSNormalization(epsilon=1e-6,
                                                    name="norm_2")
        self.attention_2 = MemoryAttention(self.num_heads, head_dim,
                                           use_bias=False, name="attention_2")
        self.build((None, None, self.dim))

    def build(self, x_shape):
        if self.kv_mapper is not None:
            self.kv_mapper.build((None, None, self.memory_dim))
        for norm, attention in ((self.norm_1, self.attention_1),
                                (self.norm_2, self.attention_2)):
            norm.build(x_shape)
            attention.build(x_shape, (None, None, self.dim))

    def project_memory(self, memory):
        """memory [B, T, M] -> both attentions' (key, value), each
        [B, T, heads, D / heads]: the same at every decoding step."""
        if self.kv_mapper is not None:
            memory = self.kv_mapper(tf.nn.silu(memory))
        return (self.attention_1.project_memory(memory),
                self.attention_2.project_memory(memory))

    def call(self, x, memory_key_values):
        """x [B, L, D]; `project_memory`'s output. No mask: aMUSEd attends
        to every text position, padding included."""
        first, second = memory_key_values
        x = x + self.attention_1.attend(self.norm_1(x), first, None)
        return x + self.attention_2.attend(self.norm_2(x), second, None)

    def get_config(self):
        config = super().get_config()
        config.update(dim=self.dim, num_heads=self.num_heads,
                      memory_dim=self.memory_dim)
        return config
