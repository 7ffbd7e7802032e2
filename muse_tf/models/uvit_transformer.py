"""UViTTransformer: aMUSEd's masked U-ViT (diffusers `UVit2DModel`;
docs/design.md §10.2, §10.3), for converted aMUSEd checkpoints.

(token ids, text states, pooled text, micro-conditions) -> logits over the
codebook. The ids are embedded (table row, RMSNorm, 1x1 conv) on the
token grid, pass a down conv stage, 22 AdaLN transformer layers on the
flattened grid and an up conv stage, and a 1x1-conv head gives the logits.
There is no position embedding: the conv stages' depthwise convolutions
are what tells positions apart. Everything is conditioned on
  - the text memory: RMSNorm(Linear(text states)), attended to by every
    layer and (mapped to the stages' width) by the stages' attention
    blocks, all 77 CLIP positions, padding included (no mask);
  - the conditioning vector c = MLP(pooled ‖ sinusoids of the 5
    micro-conditions), which scales and shifts every ConvNeXt block and
    every transformer layer's three norms.
Neither depends on the image tokens, so `attention_memory` computes them
once per prompt (with every key/value projection of the text and every
modulation from c), and `logits_from_memory` runs the rest at each
decoding step. The [MASK] id is the embedding table's last row
(`UViTConfig.mask_token_id`, 8255), which our samplers write.

Dimensions: B batch, S = sample_size the token grid's side, L = S² image
tokens (row-major), T text tokens, V codebook.
"""

import math
import typing

import keras
import tensorflow as tf

from muse_tf.configs import UViTConfig
from muse_tf.layers.adaln_transformer_block import AdaLNTransformerBlock
from muse_tf.layers.dense import Dense
from muse_tf.layers.uvit_stage import UViTStage
from muse_tf.models.base import (
    BuiltFromConfig,
    ExportedByMuseServing,
    check_text_states,
    check_token_ids,
)


class UViTMemory(typing.NamedTuple):
    """What `logits_from_memory` needs besides the tokens: each part's
    modulations and key/value projections of the text."""

    down: tuple
    layers: tuple
    up: tuple


@keras.saving.register_keras_serializable(package="muse_tf")
class UViTTransformer(BuiltFromConfig, ExportedByMuseServing, keras.Model):
    """aMUSEd's masked transformer over an S x S grid of VQ tokens."""

    config_class = UViTConfig

    def __init__(self, config: UViTConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = c = config
        eps = c.layer_norm_eps
        self.text_projection = Dense(
            c.hidden_size, use_bias=False, name="text_projection")
        self.text_norm = keras.layers.RMSNormalization(epsilon=eps,
                                                       name="text_norm")
        self.cond_in = Dense(c.hidden_size, use_bias=False,
                             name="cond_in")
        self.cond_out = Dense(c.hidden_size, use_bias=False,
                              name="cond_out")
        self.token_embedding = keras.layers.Embedding(
            c.vocab_size, c.in_channels, name="token_embedding")
        self.embedding_norm = keras.layers.RMSNormalization(
            epsilon=eps, name="embedding_norm")
        self.embedding_projection = Dense(
            c.block_out_channels, use_bias=False, name="embedding_projection")
        stage = {"channels": c.block_out_channels,
                 "num_blocks": c.num_res_blocks,
                 "num_heads": c.block_num_heads, "cond_dim": c.hidden_size,
                 "epsilon": eps}
        self.down_stage = UViTStage(
            **stage, resample="down" if c.downsample else None,
            name="down_stage")
        self.to_hidden_norm = keras.layers.RMSNormalization(
            epsilon=eps, name="to_hidden_norm")
        self.to_hidden = Dense(c.hidden_size, use_bias=False,
                               name="to_hidden")
        self.blocks = [
            AdaLNTransformerBlock(c.hidden_size, c.num_attention_heads,
                                  c.intermediate_size, eps,
                                  name=f"block_{i}")
            for i in range(c.num_hidden_layers)]
        self.from_hidden_norm = keras.layers.RMSNormalization(
            epsilon=eps, name="from_hidden_norm")
        self.from_hidden = Dense(
            c.block_out_channels, use_bias=False, name="from_hidden")
        self.up_stage = UViTStage(
            **stage, resample="up" if c.upsample else None, name="up_stage")
        self.head_in = Dense(c.in_channels, use_bias=False,
                             name="head_in")
        self.head_norm = keras.layers.RMSNormalization(epsilon=eps,
                                                       name="head_norm")
        self.head_out = Dense(c.codebook_size, use_bias=False,
                              name="head_out")
        self._build_layers()

    def _build_layers(self):
        """Creates every variable from the config's widths, without a
        forward pass (a full-size one costs seconds and gigabytes)."""
        c = self.config
        self.text_projection.build((None, None, c.encoder_hidden_size))
        self.text_norm.build((None, None, c.hidden_size))
        self.cond_in.build((None, c.cond_embed_dim + c.micro_cond_embed_dim))
        self.cond_out.build((None, c.hidden_size))
        self.token_embedding.build((None, None))
        grid = (None, None, None)
        self.embedding_norm.build(grid + (c.in_channels,))
        self.embedding_projection.build(grid + (c.in_channels,))
        self.to_hidden_norm.build((None, None, c.block_out_channels))
        self.to_hidden.build((None, None, c.block_out_channels))
        self.from_hidden_norm.build((None, None, c.hidden_size))
        self.from_hidden.build((None, None, c.hidden_size))
        self.head_in.build(grid + (c.block_out_channels,))
        self.head_norm.build(grid + (c.in_channels,))
        self.head_out.build(grid + (c.in_channels,))
        self.built = True

    def decoding_model(self):
        """The model the decoding loops run: this one."""
        return self

    def micro_cond_embedding(self, micro_conds):
        """micro_conds [B, 5] -> float32 [B, 5 x micro_cond_encode_dim]:
        [cos(v f_k), sin(v f_k)] for each value v, f_k = 10000^(-k/half),
        k < half (diffusers' `get_timestep_embedding`, cos first)."""
        half = self.config.micro_cond_encode_dim // 2
        frequencies = tf.exp(-math.log(10000.0)
                             * tf.range(half, dtype=tf.float32) / half)
        angles = tf.cast(micro_conds, tf.float32)[:, :, None] * frequencies
        embedding = tf.concat([tf.cos(angles), tf.sin(angles)], -1)
        return tf.reshape(embedding, [-1, 5 * 2 * half])

    def attention_memory(self, text_states, text_mask, pooled,
                         micro_conds=None):
        """Everything of a prompt the decoding steps reuse.

        Args:
          text_states: float32 [B, T, encoder_hidden_size] (CLIP's
            penultimate hidden states).
          text_mask: bool [B, T], accepted for the decoding loops'
            interface and not used: aMUSEd attends to all T positions.
          pooled: float32 [B, cond_embed_dim] (CLIP's projected pooled
            output).
          micro_conds: float32 [B, 5] [width, height, crop top, crop left,
            aesthetic score], or None for the config's `micro_conds`.

        Returns:
          A UViTMemory for `logits_from_memory`.
        """
        del text_mask  # aMUSEd has no text mask (docs/design.md §10.3).
        check_text_states(text_states)
        batch = tf.shape(text_states)[0]
        if micro_conds is None:
            micro_conds = tf.broadcast_to(
                tf.constant(self.config.micro_conds, tf.float32), [batch, 5])
        text = self.text_norm(self.text_projection(text_states))
        cond = tf.concat(
            [tf.cast(pooled, self.compute_dtype),
             tf.cast(self.micro_cond_embedding(micro_conds),
                     self.compute_dtype)], -1)
        cond = self.cond_out(tf.nn.silu(self.cond_in(cond)))
        return UViTMemory(
            down=self.down_stage.memory(cond, text),
            layers=tuple((block.modulations(cond), block.project_memory(text))
                         for block in self.blocks),
            up=self.up_stage.memory(cond, text))

    def logits_from_memory(self, token_ids, memory, training=False):
        """token_ids int32 [B, L] (row-major, [MASK] = mask_token_id);
        memory: `attention_memory`'s. Returns float32 logits [B, L, V]."""
        del training  # No dropout: aMUSEd's is 0 (UViTConfig checks it).
        c = self.config
        check_token_ids("token_ids", token_ids, c.sequence_length)
        x = self.token_embedding(tf.reshape(
            token_ids, [-1, c.sample_size, c.sample_size]))
        x = self.embedding_projection(self.embedding_norm(x))
        x = self.down_stage(x, memory.down)
        side, channels = c.inner_tokens_per_side, c.block_out_channels
        x = tf.reshape(x, [-1, side * side, channels])
        x = self.to_hidden(self.to_hidden_norm(x))
        for block, (modulations, key_value) in zip(self.blocks,
                                                   memory.layers):
            x = block(x, modulations, key_value)
        x = self.from_hidden(self.from_hidden_norm(x))
        x = self.up_stage(tf.reshape(x, [-1, side, side, channels]),
                          memory.up)
        logits = self.head_out(self.head_norm(self.head_in(x)))
        # float32 logits: the sampler's softmax and Gumbel ranking need them.
        return tf.cast(tf.reshape(logits, [-1, c.sequence_length,
                                           c.codebook_size]), tf.float32)

    def call(self, token_ids, text_states, pooled, micro_conds=None,
             training=False):
        """token_ids int32 [B, L]; text_states float32 [B, T,
        encoder_hidden_size]; pooled float32 [B, cond_embed_dim];
        micro_conds float32 [B, 5] or None (the config's). Returns float32
        logits [B, L, V]."""
        memory = self.attention_memory(text_states, None, pooled,
                                       micro_conds)
        return self.logits_from_memory(token_ids, memory, training=training)
