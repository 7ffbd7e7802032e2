"""MaskGITTransformer: MaskGIT's released class-conditional transformer
(docs/design.md §9.2-9.3), so its ImageNet checkpoints run here.

A BERT: the class is a token of the sequence, at position 0, with id
`codebook_size + class_id` in the word-embedding table shared with the
image tokens; a learned 1D position table covers the class position and
the image tokens; `num_layers` post-LayerNorm blocks; the MLM head's
logits are its hidden states times the transposed word table plus a bias
(tied). The table's last row is [MASK]: our samplers write
`codebook_size` for a masked token, which the model reads as that row,
and the "null class" of guidance (`num_classes`) is the same row at the
class position, so fine-tuning with condition drops teaches it.

It speaks the interface of our decoding loops (`attention_memory`,
`logits_from_memory`): the "memory" is the class token's embedding, which
`logits_from_memory` puts at position 0 of the sequence.

Dimensions: B batch, L image tokens, D width, V vocabulary (codebook +
classes + [MASK]), K codebook.
"""

import keras
import tensorflow as tf

from muse_tf.configs import TransformerConfig
from muse_tf.layers.dense import Dense
from muse_tf.layers.post_norm_block import PostNormTransformerBlock
from muse_tf.models.base import (
    ClassConditional,
    ExportedByMuseServing,
    check_token_ids,
)

_EPSILON = 1e-12  # MaskGIT's LayerNorm epsilon, "from BERT".


class _ClassTokens(tf.Module):
    """Class ids -> their tokens' embeddings [B, D] (word rows
    codebook_size + id), the class embedding a ClassConditioner reads."""

    def __init__(self, word_embeddings, offset):
        super().__init__(name="class_tokens")
        self.word_embeddings = word_embeddings
        self.offset = offset

    @property
    def weights(self):
        return list(self.word_embeddings.weights)

    def __call__(self, class_ids):
        return self.word_embeddings(class_ids + self.offset)


@keras.saving.register_keras_serializable(package="muse_tf")
class MaskGITTransformer(ClassConditional, ExportedByMuseServing,
                         keras.Model):
    """(image tokens, class ids) -> logits over the codebook."""

    def __init__(self, config: TransformerConfig, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.config = c = config
        self.set_num_classes(num_classes)
        self.vocab_size = c.codebook_size + self.num_classes + 1
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        self.word_embeddings = keras.layers.Embedding(
            self.vocab_size, c.hidden_dim, embeddings_initializer=init,
            name="word_embeddings")
        self.position_embeddings = self.add_weight(
            name="position_embeddings", initializer=init,
            shape=(c.sequence_length + 1, c.hidden_dim))
        self.embedding_norm = keras.layers.LayerNormalization(
            epsilon=_EPSILON, name="embedding_norm")
        self.embedding_dropout = keras.layers.Dropout(c.dropout)
        self.blocks = [PostNormTransformerBlock(
            c.hidden_dim, c.num_heads, c.mlp_dim, c.dropout, _EPSILON,
            name=f"block_{i}") for i in range(c.num_layers)]
        self.head_dense = Dense(c.hidden_dim, name="head_dense")
        self.head_norm = keras.layers.LayerNormalization(epsilon=_EPSILON,
                                                         name="head_norm")
        self.head_bias = self.add_weight(name="head_bias",
                                         shape=(self.vocab_size,),
                                         initializer="zeros")
        self(tf.zeros([1, c.sequence_length], tf.int32),
             tf.zeros([1], tf.int32))

    @property
    def mask_row(self):
        """The word-table row of [MASK] (the official code writes -1)."""
        return self.vocab_size - 1

    @property
    def class_embedding(self):
        """class ids -> [B, D]: the class tokens' embeddings."""
        return _ClassTokens(self.word_embeddings, self.config.codebook_size)

    def decoding_model(self):
        """The model the decoding loops run: this one (the class is part
        of its sequence, not an embedding in front of a transformer)."""
        return self

    def attention_memory(self, class_states, mask=None):
        """The class token's embedding [B, 1, D] is the whole "memory"."""
        del mask  # One token, always present.
        return class_states

    def logits_from_memory(self, token_ids, memory, training=False):
        """token_ids int32 [B, L] in [0, codebook_size] (codebook_size:
        [MASK]); memory: the class token embeddings [B, 1, D]. Returns
        float32 logits [B, L, K]."""
        c = self.config
        check_token_ids("token_ids", token_ids, c.sequence_length)
        ids = tf.where(token_ids == c.mask_token_id, self.mask_row,
                       token_ids)
        x = tf.concat([tf.cast(memory, self.compute_dtype),
                       self.word_embeddings(ids)], axis=1)
        x = x + tf.cast(self.position_embeddings, self.compute_dtype)
        x = self.embedding_dropout(self.embedding_norm(x), training=training)
        for block in self.blocks:
            x = block(x, training=training)
        h = self.head_norm(keras.activations.gelu(
            self.head_dense(x[:, 1:]), approximate=True))
        # Tied head, cut to the codebook as the official inference cuts
        # its logits: class and [MASK] logits are never sampled.
        codes = tf.cast(self.word_embeddings.embeddings[:c.codebook_size],
                        self.compute_dtype)
        logits = tf.matmul(h, codes, transpose_b=True)
        return (tf.cast(logits, tf.float32)
                + tf.cast(self.head_bias[:c.codebook_size], tf.float32))

    def call(self, token_ids, class_ids, training=False):
        """token_ids int32 [B, L]; class_ids int32 [B] in [0, num_classes]
        (num_classes: the null class). Returns float32 logits [B, L, K]."""
        states = self.class_embedding(class_ids)[:, None, :]
        return self.logits_from_memory(token_ids, states, training=training)
