"""MuseTransformer: (image tokens, text states) -> logits (docs/design.md §3).

The base masked transformer of Muse: token embedding with a [MASK] id and
learned 2D positions, `num_layers` blocks of self-attention, cross-attention
to the projected text states, and MLP, then an MLM head with logits over the
codebook. The "null" condition for classifier-free guidance is the frozen
encoder's encoding of the empty prompt, so no extra weights are needed and a
negative prompt takes its place naturally.

Dimensions: B batch, L = side² image tokens, T text tokens, V codebook.
"""

import keras
import tensorflow as tf

from muse_tf.configs import TransformerConfig
from muse_tf.layers.attention import TransformerBlock
from muse_tf.layers.dense import Dense
from muse_tf.layers.embeddings import ImageTokenEmbedding
from muse_tf.layers.heads import MLMHead
from muse_tf.models.base import (
    BuiltFromConfig,
    DecodesFromMemory,
    ExportedByMuseServing,
    check_text_states,
)


@keras.saving.register_keras_serializable(package="muse_tf")
class MuseTransformer(BuiltFromConfig, DecodesFromMemory, ExportedByMuseServing,
                      keras.Model):
    """Masked image-token transformer conditioned on text states."""

    config_class = TransformerConfig

    def __init__(self, config: TransformerConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = c = config
        self.embedding = ImageTokenEmbedding(
            c.codebook_size, c.image_tokens_per_side, c.hidden_dim,
            c.dropout, name="embedding")
        self.text_projection = Dense(c.hidden_dim,
                                     name="text_projection")
        self.text_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                         name="text_norm")
        self.blocks = [TransformerBlock(c.hidden_dim, c.num_heads, c.mlp_dim,
                                        c.dropout, name=f"block_{i}")
                       for i in range(c.num_layers)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                          name="final_norm")
        self.head = MLMHead(c.hidden_dim, c.codebook_size, name="head")
        # One forward pass creates every variable, so weights load and the
        # optimizer builds before any training step.
        self(tf.zeros([1, c.sequence_length], tf.int32),
             tf.zeros([1, 1, c.text_dim]), tf.ones([1, 1], tf.bool))

    def attention_memory(self, text_states, text_mask):
        """text_states [B, T, text_dim], text_mask bool [B, T] -> the
        memory `logits_from_memory` takes (the text, projected by every
        block's cross-attention)."""
        check_text_states(text_states)
        text = self.text_norm(self.text_projection(text_states))
        return self._project_memory(text, text_mask)

    def call(self, token_ids, text_states, text_mask, training=False):
        """token_ids int32 [B, L]; text_states [B, T, text_dim]; text_mask
        bool [B, T]. Returns float32 logits [B, L, V]."""
        return self.logits_from_memory(
            token_ids, self.attention_memory(text_states, text_mask),
            training=training)
