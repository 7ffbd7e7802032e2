"""VQGAN training step: reconstruction + codebook/commitment + adversarial
(+ perceptual).

Muse trains its VQGAN with reconstruction, perceptual (0.05) and adversarial
(0.1) losses (docs/design.md §2). Its perceptual loss needs ImageNet VGG
weights, which no package this project can install ships; with
`perceptual_weight` the step adds `losses.PerceptualLoss` on the bundled
FID Inception's features instead. The reconstruction loss is L1 as in
taming-transformers, which keeps edges sharper than L2. The discriminator joins after `disc_start`
steps, once reconstructions are meaningful, and uses the hinge loss.

Distribution (`replicated.py`): each replica's losses are means over its
examples divided by the replica count, so the all-reduced gradient is the
gradient of the global-batch mean; clipping follows the all-reduce.
"""

import dataclasses

import keras
import tensorflow as tf

from muse_tf import losses
from muse_tf.configs import VQGANConfig
from muse_tf.models.discriminator import PatchDiscriminator
from muse_tf.models.vqgan import VQGAN
from muse_tf.training.checkpointing import model_variables
from muse_tf.training.replicated import (
    OncePerStep,
    ReplicatedTrainer,
    all_reduce_sum,
    apply_reduced_gradient,
)


@dataclasses.dataclass(frozen=True)
class VQGANTrainConfig:
    learning_rate: float = 2e-4  # Peak, after warm-up; cosine decay after.
    warmup_steps: int = 200
    decay_steps: int = 100000
    beta_1: float = 0.9  # Adam betas of Muse Table 5.
    beta_2: float = 0.99
    adversarial_weight: float = 0.1
    disc_start: int = 2000
    disc_channels: int = 64
    clipnorm: float = 1.0
    perceptual_weight: float = 0.0  # 0: no perceptual loss.
    # Muse's decoder fine-tuning (docs/design.md §2): train only the decoder
    # (and discriminator); the encoder and codebook, and so the tokens the
    # transformers know, stay fixed.
    decoder_only: bool = False
    # XLA, except bf16 on a CPU (`precision.Choice.xla`).
    jit_compile: bool = True


class VQGANTrainer(ReplicatedTrainer):
    """Owns the VQGAN, discriminator, optimizer and the step counter."""

    def __init__(self, config: VQGANConfig,
                 train_config: VQGANTrainConfig = VQGANTrainConfig(),
                 strategy=None):
        self.config = config
        self.train_config = tc = train_config
        self.strategy = strategy or tf.distribute.get_strategy()
        with self.strategy.scope():
            self.vqgan = VQGAN(config, name="vqgan")
            if tc.decoder_only:
                self.vqgan.encoder.trainable = False
                self.vqgan.quantizer.trainable = False
            self.discriminator = PatchDiscriminator(tc.disc_channels,
                                                    name="discriminator")
            self.discriminator(tf.zeros([1, config.image_size,
                                         config.image_size, 3]))
            self.perceptual = (losses.PerceptualLoss()
                               if tc.perceptual_weight else None)

            self.learning_rate = OncePerStep(
                keras.optimizers.schedules.CosineDecay(
                    0.0, tc.decay_steps, alpha=0.1,
                    warmup_target=tc.learning_rate,
                    warmup_steps=tc.warmup_steps))
            # One Adam over both networks: Adam is per-variable, so this is
            # two optimizers with the same settings, with one all-reduce
            # per update instead of two whose order would have to match on
            # every replica.
            self.optimizer = keras.optimizers.Adam(
                self.learning_rate, beta_1=tc.beta_1, beta_2=tc.beta_2)
            # Built now so a checkpoint restores its slots eagerly.
            self.optimizer.build(self._variables())
            self.step = tf.Variable(
                0, dtype=tf.int64, name="step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.checkpoint = tf.train.Checkpoint(
            step=self.step, vqgan=model_variables(self.vqgan),
            discriminator=model_variables(self.discriminator),
            optimizer=self.optimizer)
        self._local_gradients = tf.function(self._gradients,
                                            jit_compile=tc.jit_compile)
        self._build_step_loop()

    def _variables(self):
        return (self.vqgan.trainable_variables
                + self.discriminator.trainable_variables)

    def _gradients(self, images, replicas):
        """This replica's images -> (generator and discriminator gradients
        of its share of the global losses, {name: share of each loss},
        per-code counts [codebook_size])."""
        tc = self.train_config
        use_gan = tf.cast(self.step >= tc.disc_start, tf.float32)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            recon, ids, quantizer_loss = self.vqgan(images, training=True)
            reconstruction_loss = tf.reduce_mean(tf.abs(images - recon))
            perceptual_loss = (self.perceptual(images, recon)
                               if self.perceptual else tf.constant(0.0))
            fake_logits = self.discriminator(recon)
            generator_loss = losses.generator_adversarial_loss(fake_logits)
            total = (reconstruction_loss + quantizer_loss
                     + tc.perceptual_weight * perceptual_loss
                     + use_gan * tc.adversarial_weight * generator_loss)
            real_logits = self.discriminator(images)
            disc_loss = losses.hinge_discriminator_loss(
                real_logits, self.discriminator(tf.stop_gradient(recon)))
            total_share = total / replicas
            disc_share = disc_loss / replicas
        g_grads = g_tape.gradient(total_share,
                                  self.vqgan.trainable_variables)
        d_grads = [use_gan * g for g in d_tape.gradient(
            disc_share, self.discriminator.trainable_variables)]
        flat_ids = tf.reshape(ids, [-1])
        code_counts = tf.math.unsorted_segment_sum(
            tf.ones_like(flat_ids, tf.float32), flat_ids,
            self.config.codebook_size)
        shares = {"loss/total": total,
                  "loss/reconstruction": reconstruction_loss,
                  "loss/quantizer": quantizer_loss,
                  "loss/perceptual": perceptual_loss,
                  "loss/generator_adversarial": generator_loss,
                  "loss/discriminator": disc_loss}
        return g_grads, d_grads, {k: v / replicas
                                  for k, v in shares.items()}, code_counts

    METRICS = ("loss/total", "loss/reconstruction", "loss/quantizer",
               "loss/perceptual", "loss/generator_adversarial", "loss/discriminator",
               "codebook/used_in_batch", "learning_rate")

    def _replica_step(self, images):
        """images: float32 [B, H, W, 3] in [-1, 1]. Returns scalar metrics."""
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        g_grads, d_grads, metrics, code_counts = all_reduce_sum(
            self._local_gradients(images, replicas))
        metrics["learning_rate"] = apply_reduced_gradient(
            self.optimizer, g_grads + d_grads, self._variables(),
            self.learning_rate, clip_norm=self.train_config.clipnorm)
        self.step.assign_add(1)
        metrics["codebook/used_in_batch"] = tf.reduce_sum(
            tf.cast(code_counts > 0, tf.float32))
        return metrics
