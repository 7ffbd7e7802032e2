"""Masked transformer training steps (MaskGIT §3.2, Muse §2.3-2.4).

Per example: draw a masking rate r = γ(u), mask ⌈r·L⌉ random tokens, and
score the cross-entropy (label smoothing 0.1) on masked positions only.
For classifier-free guidance, 10% of examples see the null condition (the
empty prompt's states) instead of their caption. Randomness is stateless,
derived from the step counter, so a resumed run draws the same masks.

The same step trains the three kinds of masked transformer; they differ
only in their model and condition:
  TransformerTrainer      base model; text states
  SuperResTrainer         super-res model; text states, plus the low-res
                          tokens, which are never dropped
  ClassConditionalTrainer MaskGIT's class-conditional model; a class id,
                          dropped to the learned null class
  UViTTrainer             aMUSEd's U-ViT (a converted model); text states
                          and CLIP's pooled vector, both dropped to the
                          empty prompt's

Distribution: the trainer runs under any tf.distribute strategy. Masks and
condition drops are drawn for the whole global batch and each replica takes
its rows, the loss is normalised by the global number of masked tokens, and
the gradient is clipped after the all-reduce (`replicated.py`) — so a step gives the same weights on one device or many.
"""

import dataclasses

import keras
import tensorflow as tf

from muse_tf import losses
from muse_tf.configs import SuperResConfig, TransformerConfig, UViTConfig
from muse_tf.models.class_conditional import CLASS_TRANSFORMERS
from muse_tf.models.super_res import MuseSuperRes
from muse_tf.models.transformer import MuseTransformer
from muse_tf.models.uvit_transformer import UViTTransformer
from muse_tf.sampling.mask_schedule import random_mask, sample_mask_rate
from muse_tf.training.checkpointing import model_variables
from muse_tf.training.replicated import (
    OncePerStep,
    ReplicatedTrainer,
    all_reduce_sum,
    apply_reduced_gradient,
    replica_rows,
)


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
    # XLA: required on TPU, and the faster fp32 step on a CPU too; bf16 on
    # a CPU runs faster without (`precision.Choice.xla`).
    jit_compile: bool = True


class TransformerTrainer(ReplicatedTrainer):
    """Owns the transformer, its AdamW optimizer and the step counter.

    Batches: {"tokens" int32 [B, L], "text_states" [B, T, text_dim],
    "text_mask" bool [B, T]}."""

    def __init__(self, config: TransformerConfig, null_states, null_mask,
                 train_config=TransformerTrainConfig(), strategy=None):
        """null_states [1, T, text_dim] and null_mask [1, T]: the encoding of
        the empty prompt, the condition of dropped examples. `strategy`:
        the tf.distribute strategy (default: the current one)."""
        # {batch key: the empty prompt's value}: what a dropped example's
        # condition becomes, entry by entry.
        self.null_text = {
            "text_states": tf.constant(null_states, tf.float32),
            "text_mask": tf.constant(null_mask, tf.bool)}
        self._build_model_and_optimizer(config, train_config, strategy)

    def build_model(self, config):
        return MuseTransformer(config, name="transformer")

    def _build_model_and_optimizer(self, config, train_config, strategy):
        self.config = config
        self.train_config = tc = train_config
        self.strategy = strategy or tf.distribute.get_strategy()
        with self.strategy.scope():
            self.model = self.build_model(config)
            self.learning_rate = OncePerStep(
                keras.optimizers.schedules.CosineDecay(
                    0.0, tc.decay_steps, warmup_target=tc.learning_rate,
                    warmup_steps=tc.warmup_steps))
            # No clipnorm here: Keras would clip each replica's share of
            # the gradient; _replica_step clips the all-reduced one.
            self.optimizer = keras.optimizers.AdamW(
                self.learning_rate, weight_decay=tc.weight_decay,
                beta_1=tc.beta_1, beta_2=tc.beta_2)
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(
                0, dtype=tf.int64, name="step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.checkpoint = tf.train.Checkpoint(
            step=self.step, transformer=model_variables(self.model),
            optimizer=self.optimizer)
        self._local_gradients = tf.function(self._gradients,
                                            jit_compile=tc.jit_compile)
        self._eval_counts = tf.function(self._replica_eval_counts)
        self._build_step_loop()

    def mask_batch(self, tokens, seed, rows=None):
        """(inputs with [MASK], bool mask) for int32 tokens [B, L].

        rows: optional (first_row, global_batch): masks are drawn for the
        global batch and rows first_row.. first_row + B are used, so every
        replica masks its examples as a single device would.
        """
        tc = self.train_config
        batch, length = tokens.shape
        rate_seed, mask_seed = tf.unstack(
            tf.random.experimental.stateless_split(seed, 2))
        global_batch = batch if rows is None else rows[1]
        rates = sample_mask_rate(global_batch, rate_seed, tc.schedule, length)
        mask = random_mask(global_batch, length, rates, mask_seed)
        if rows is not None:
            mask = mask[rows[0]:rows[0] + batch]
        return tf.where(mask, self.config.mask_token_id, tokens), mask

    def dropped(self, batch, seed, rows=None):
        """bool [B]: which examples see the null condition (a random 10%,
        drawn for the global batch)."""
        global_batch = batch if rows is None else rows[1]
        drop = tf.random.stateless_uniform([global_batch], seed) < (
            self.train_config.condition_drop_rate)
        if rows is not None:
            drop = drop[rows[0]:rows[0] + batch]
        return drop

    def drop_condition(self, text, seed, rows=None):
        """`text` ({key of `null_text`: [B, ...]}) with every entry of a
        random 10% of examples replaced by the null text's: one draw for
        all entries, so a dropped example sees the empty prompt whole."""
        drop = self.dropped(tf.shape(text["text_states"])[0], seed, rows)
        dropped = {}
        for key, null in self.null_text.items():
            where = tf.reshape(drop, [-1] + [1] * (null.shape.rank - 1))
            dropped[key] = tf.where(where, null, text[key])
        return dropped

    def dropped_condition(self, batch, seed, rows):
        """`batch` with the condition of a random 10% of its examples
        replaced by the null one (`seed`, `rows` as in `mask_batch`)."""
        return {**batch, **self.drop_condition(batch, seed, rows)}

    def logits(self, inputs, batch, training):
        """The model's logits for masked `inputs` under the batch's
        condition."""
        return self.model(inputs, batch["text_states"], batch["text_mask"],
                          training=training)

    def _gradients(self, batch, first_row, global_batch):
        """One replica's rows of a global batch -> (gradients of the summed
        masked-token loss, [loss sum, masked count, correct count])."""
        seeds = tf.random.experimental.stateless_split(
            tf.stack([tf.cast(self.step, tf.int32), self.train_config.seed]),
            2)
        rows = (first_row, global_batch)
        inputs, mask = self.mask_batch(batch["tokens"], seeds[0], rows)
        with tf.GradientTape() as tape:
            logits = self.logits(
                inputs, self.dropped_condition(batch, seeds[1], rows),
                training=True)
            loss_sum = losses.masked_token_loss(
                logits, batch["tokens"], mask,
                self.train_config.label_smoothing, reduction="sum")
        variables = self.model.trainable_variables
        weights = tf.cast(mask, tf.float32)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, tf.int32),
                                   batch["tokens"]), tf.float32)
        stats = tf.stack([loss_sum, tf.reduce_sum(weights),
                          tf.reduce_sum(correct * weights)])
        return tape.gradient(loss_sum, variables), stats

    METRICS = ("loss/masked_token", "accuracy/masked_token", "learning_rate")

    def masked_accuracy(self, dataset):
        """Masked-token accuracy on `dataset` (a fixed set of global
        batches, e.g. a subset of the training tokens): batch i's masks
        come from a seed fixed by i, no condition is dropped and dropout
        is off, so successive calls measure the same task and say when
        training has stopped improving."""
        counts = tf.zeros([2])
        for index, batch in enumerate(self.distribute(dataset)):
            counts += self.strategy.experimental_local_results(
                self.strategy.run(self._eval_counts,
                                  args=(batch, tf.constant(index))))[0]
        return float(counts[0] / tf.maximum(counts[1], 1.0))

    def _replica_eval_counts(self, batch, index):
        """[correct, masked] counts of a global batch, all-reduced."""
        rows = replica_rows(batch["tokens"].shape[0])
        seed = tf.stack([index, self.train_config.seed + 1])
        inputs, mask = self.mask_batch(batch["tokens"], seed, rows)
        logits = self.logits(inputs, batch, training=False)
        correct = tf.equal(tf.argmax(logits, -1, tf.int32), batch["tokens"])
        weights = tf.cast(mask, tf.float32)
        return all_reduce_sum(tf.stack([
            tf.reduce_sum(tf.cast(correct, tf.float32) * weights),
            tf.reduce_sum(weights)]))

    def _replica_step(self, batch):
        local_batch = batch["tokens"].shape[0]
        grads, stats = all_reduce_sum(self._local_gradients(
            batch, *replica_rows(local_batch)))
        count = tf.maximum(stats[1], 1.0)
        learning_rate = apply_reduced_gradient(
            self.optimizer, [g / count for g in grads],
            self.model.trainable_variables, self.learning_rate,
            clip_norm=self.train_config.clipnorm)
        self.step.assign_add(1)
        return {"loss/masked_token": stats[0] / count,
                "accuracy/masked_token": stats[2] / count,
                "learning_rate": learning_rate}


class SuperResTrainer(TransformerTrainer):
    """Trains a MuseSuperRes. Batches add "low_res_tokens" int32 [B, l]:
    the low-res VQGAN's tokens of the same images (never masked, never
    dropped: they are what the model sharpens)."""

    def build_model(self, config: SuperResConfig):
        return MuseSuperRes(config, name="super_res")

    def logits(self, inputs, batch, training):
        return self.model(inputs, batch["text_states"], batch["text_mask"],
                          batch["low_res_tokens"], training=training)


class ClassConditionalTrainer(TransformerTrainer):
    """Trains a class-conditional transformer (MaskGIT's class-conditional
    mode: ours, or MaskGIT's own architecture for a converted model). Batches: {"tokens" int32 [B, L], "class_id" int32 [B]}; a
    dropped example's class becomes the null class, whose embedding is
    learned."""

    def __init__(self, config: TransformerConfig, num_classes,
                 train_config=TransformerTrainConfig(), strategy=None):
        self.num_classes = int(num_classes)
        self._build_model_and_optimizer(config, train_config, strategy)

    def build_model(self, config):
        cls = CLASS_TRANSFORMERS[config.architecture]
        return cls(config, self.num_classes, name="class_transformer")

    def dropped_condition(self, batch, seed, rows):
        class_ids = batch["class_id"]
        drop = self.dropped(tf.shape(class_ids)[0], seed, rows)
        return {**batch, "class_id": tf.where(
            drop, self.model.null_class_id, class_ids)}

    def logits(self, inputs, batch, training):
        return self.model(inputs, batch["class_id"], training=training)


class UViTTrainer(TransformerTrainer):
    """Fine-tunes aMUSEd's U-ViT (a converted model). Batches add
    "text_pooled" float32 [B, P], CLIP's projected pooled output, which
    modulates the U-ViT beside the states it attends to; the
    micro-conditions are the config's defaults. aMUSEd's unconditional
    input is the encoding of "", so a dropped example gets the empty
    prompt's states and pooled vector, and guidance keeps working."""

    def __init__(self, config: UViTConfig, null_states, null_mask,
                 null_pooled, train_config=TransformerTrainConfig(),
                 strategy=None):
        """null_pooled [1, P]: the empty prompt's pooled vector; the rest
        as in TransformerTrainer."""
        super().__init__(config, null_states, null_mask, train_config,
                         strategy)
        self.null_text["text_pooled"] = tf.constant(null_pooled, tf.float32)

    def build_model(self, config):
        return UViTTransformer(config, name="transformer")

    def logits(self, inputs, batch, training):
        return self.model(inputs, batch["text_states"], batch["text_pooled"],
                          training=training)
