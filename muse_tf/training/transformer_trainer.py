"""Masked transformer training step (MaskGIT §3.2, Muse §2.4).

Per example: draw a masking rate r = γ(u), mask ⌈r·L⌉ random tokens, and
score the cross-entropy (label smoothing 0.1) on masked positions only.
For classifier-free guidance, 10% of examples see the null condition (the
empty prompt's states) instead of their caption. Randomness is stateless,
derived from the step counter, so a resumed run draws the same masks.
"""

import dataclasses

import keras
import tensorflow as tf

from muse_tf import losses
from muse_tf.configs import TransformerConfig
from muse_tf.models.transformer import MuseTransformer
from muse_tf.sampling.mask_schedule import random_mask, sample_mask_rate
from muse_tf.training.checkpointing import model_variables


@dataclasses.dataclass(frozen=True)
class TransformerTrainConfig:
    learning_rate: float = 5e-4
    warmup_steps: int = 500
    decay_steps: int = 20000  # Cosine decay to 0 (Muse Table 4).
    weight_decay: float = 0.045
    beta_1: float = 0.9  # Muse/MaskGIT betas.
    beta_2: float = 0.96
    clipnorm: float = 1.0
    label_smoothing: float = 0.1
    condition_drop_rate: float = 0.1
    schedule: str = "cosine"
    seed: int = 0
    # XLA: required on TPU, and on this CPU the faster step too (see
    # benchmarks/README.md).
    jit_compile: bool = True


class TransformerTrainer:
    """Owns the transformer, its AdamW optimizer and the step counter."""

    def __init__(self, config: TransformerConfig, null_states, null_mask,
                 train_config=TransformerTrainConfig()):
        """null_states [1, T, text_dim] and null_mask [1, T]: the encoding of
        the empty prompt, the condition of dropped examples."""
        self.config = config
        self.train_config = tc = train_config
        self.model = MuseTransformer(config, name="transformer")
        self.null_states = tf.constant(null_states, tf.float32)
        self.null_mask = tf.constant(null_mask, tf.bool)
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, tc.decay_steps, warmup_target=tc.learning_rate,
            warmup_steps=tc.warmup_steps)
        self.optimizer = keras.optimizers.AdamW(
            schedule, weight_decay=tc.weight_decay, beta_1=tc.beta_1,
            beta_2=tc.beta_2, clipnorm=tc.clipnorm)
        self.optimizer.build(self.model.trainable_variables)
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.checkpoint = tf.train.Checkpoint(
            step=self.step, transformer=model_variables(self.model),
            optimizer=self.optimizer)
        self.train_step = tf.function(self._train_step,
                                      jit_compile=tc.jit_compile)

    def mask_batch(self, tokens, seed):
        """Returns (inputs with [MASK], bool mask) for int32 tokens [B, L]."""
        tc = self.train_config
        batch, length = tokens.shape
        rate_seed, mask_seed = tf.unstack(
            tf.random.experimental.stateless_split(seed, 2))
        rates = sample_mask_rate(batch, rate_seed, tc.schedule, length)
        mask = random_mask(batch, length, rates, mask_seed)
        return tf.where(mask, self.config.mask_token_id, tokens), mask

    def drop_condition(self, text_states, text_mask, seed):
        """Replaces the text of a random 10% of examples by the null text."""
        batch = tf.shape(text_states)[0]
        drop = tf.random.stateless_uniform([batch], seed) < (
            self.train_config.condition_drop_rate)
        text_states = tf.where(drop[:, None, None], self.null_states,
                               text_states)
        text_mask = tf.where(drop[:, None], self.null_mask, text_mask)
        return text_states, text_mask

    def _train_step(self, batch):
        """batch: dict with tokens int32 [B, L], text_states float [B, T, D],
        text_mask bool [B, T]. Returns scalar metrics."""
        seeds = tf.random.experimental.stateless_split(
            tf.stack([tf.cast(self.step, tf.int32), self.train_config.seed]),
            2)
        inputs, mask = self.mask_batch(batch["tokens"], seeds[0])
        text_states, text_mask = self.drop_condition(
            batch["text_states"], batch["text_mask"], seeds[1])
        with tf.GradientTape() as tape:
            logits = self.model(inputs, text_states, text_mask, training=True)
            loss = losses.masked_token_loss(
                logits, batch["tokens"], mask,
                self.train_config.label_smoothing)
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(
            zip(tape.gradient(loss, variables), variables))
        self.step.assign_add(1)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, tf.int32),
                                   batch["tokens"]), tf.float32)
        weights = tf.cast(mask, tf.float32)
        return {"loss/masked_token": loss,
                "accuracy/masked_token": tf.reduce_sum(correct * weights)
                / tf.reduce_sum(weights),
                "learning_rate": self.optimizer.learning_rate}
