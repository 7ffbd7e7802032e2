"""MuseSuperRes: (high-res tokens, low-res tokens, text) -> logits.

Muse's second stage (docs/design.md §4). The low-res tokens (the base
model's output, never masked) pass through `num_encoder_layers` of
self-attention; their output is concatenated with the projected text states,
and that joint memory is the cross-attention key/value of `num_layers`
decoder layers that predict the masked high-res tokens. So each high-res
position sees both the picture it must sharpen and the prompt. Masking, loss
and condition drop (of the text only: the low-res tokens always condition)
are the base model's.

Dimensions: B batch, L = side² high-res tokens, l low-res tokens, T text
tokens, V high-res codebook.
"""

import keras
import tensorflow as tf

from muse_tf.configs import SuperResConfig
from muse_tf.layers.attention import TransformerBlock
from muse_tf.layers.dense import Dense
from muse_tf.layers.embeddings import ImageTokenEmbedding
from muse_tf.layers.heads import MLMHead
from muse_tf.models.base import (
    BuiltFromConfig,
    DecodesFromMemory,
    ExportedByMuseServing,
    check_text_states,
    check_token_ids,
)


@keras.saving.register_keras_serializable(package="muse_tf")
class MuseSuperRes(BuiltFromConfig, DecodesFromMemory, ExportedByMuseServing,
                   keras.Model):
    """Masked high-res token transformer conditioned on low-res tokens and
    text states."""

    config_class = SuperResConfig

    def __init__(self, config: SuperResConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = c = config
        self.low_res_embedding = ImageTokenEmbedding(
            c.low_res_codebook_size, c.low_res_tokens_per_side, c.hidden_dim,
            c.dropout, name="low_res_embedding")
        self.encoder_blocks = [
            TransformerBlock(c.hidden_dim, c.num_heads, c.mlp_dim, c.dropout,
                             cross_attention=False, name=f"encoder_{i}")
            for i in range(c.num_encoder_layers)]
        self.encoder_norm = keras.layers.LayerNormalization(
            epsilon=1e-6, name="encoder_norm")
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
        # One forward pass creates every variable.
        self(tf.zeros([1, c.sequence_length], tf.int32),
             tf.zeros([1, 1, c.text_dim]), tf.ones([1, 1], tf.bool),
             tf.zeros([1, c.low_res_sequence_length], tf.int32))

    def attention_memory(self, text_states, text_mask, low_res_tokens,
                         training=False):
        """text_states [B, T, text_dim], text_mask bool [B, T],
        low_res_tokens int32 [B, l] -> the memory `logits_from_memory`
        takes: the encoded low-res tokens followed by the projected text,
        projected by every block's cross-attention."""
        check_text_states(text_states)
        check_token_ids("low_res_tokens", low_res_tokens,
                        self.config.low_res_sequence_length)
        low_res = self.low_res_embedding(low_res_tokens, training=training)
        for block in self.encoder_blocks:
            low_res = block(low_res, training=training)
        text = self.text_norm(self.text_projection(text_states))
        memory = tf.concat([self.encoder_norm(low_res), text], axis=1)
        memory_mask = tf.concat(
            [tf.ones(tf.shape(low_res)[:2], tf.bool),
             tf.cast(text_mask, tf.bool)], axis=1)
        return self._project_memory(memory, memory_mask)

    def call(self, token_ids, text_states, text_mask, low_res_tokens,
             training=False):
        """token_ids int32 [B, L] high-res ids with [MASK]s; text_states
        [B, T, text_dim]; text_mask bool [B, T]; low_res_tokens int32
        [B, l]. Returns float32 logits [B, L, V]."""
        memory = self.attention_memory(text_states, text_mask, low_res_tokens,
                                       training=training)
        return self.logits_from_memory(token_ids, memory, training=training)
