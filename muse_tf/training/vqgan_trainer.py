"""VQGAN training step: reconstruction + codebook/commitment + adversarial.

MUSE_NOTES §2 lists reconstruction, perceptual (0.05) and adversarial (0.1)
losses. The perceptual loss needs ImageNet VGG weights, which no package
this project can install ships, so it is left out; the reconstruction loss
is L1 as in taming-transformers, which keeps edges sharper than L2 without
it. The discriminator joins after `disc_start` steps, once reconstructions
are meaningful, and uses the hinge loss.
"""

import dataclasses

import keras
import tensorflow as tf

from muse_tf import losses
from muse_tf.configs import VQGANConfig
from muse_tf.models.discriminator import PatchDiscriminator
from muse_tf.models.vqgan import VQGAN
from muse_tf.training.checkpointing import model_variables


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


class VQGANTrainer:
    """Owns the VQGAN, discriminator, optimizers and the step counter."""

    def __init__(self, config: VQGANConfig,
                 train_config: VQGANTrainConfig = VQGANTrainConfig()):
        self.config = config
        self.train_config = tc = train_config
        self.vqgan = VQGAN(config, name="vqgan")
        self.discriminator = PatchDiscriminator(tc.disc_channels,
                                                name="discriminator")
        self.discriminator(tf.zeros([1, config.image_size, config.image_size,
                                     3]))  # Creates its variables.
        def adam():
            schedule = keras.optimizers.schedules.CosineDecay(
                0.0, tc.decay_steps, alpha=0.1, warmup_target=tc.learning_rate,
                warmup_steps=tc.warmup_steps)
            return keras.optimizers.Adam(schedule, beta_1=tc.beta_1,
                                         beta_2=tc.beta_2,
                                         clipnorm=tc.clipnorm)

        self.generator_optimizer = adam()
        self.discriminator_optimizer = adam()
        # Built now so a checkpoint restores their slots eagerly.
        self.generator_optimizer.build(self.vqgan.trainable_variables)
        self.discriminator_optimizer.build(
            self.discriminator.trainable_variables)
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.checkpoint = tf.train.Checkpoint(
            step=self.step, vqgan=model_variables(self.vqgan),
            discriminator=model_variables(self.discriminator),
            generator_optimizer=self.generator_optimizer,
            discriminator_optimizer=self.discriminator_optimizer)

    @tf.function(jit_compile=True)
    def train_step(self, images):
        """images: float32 [B, H, W, 3] in [-1, 1]. Returns scalar metrics."""
        tc = self.train_config
        use_gan = tf.cast(self.step >= tc.disc_start, tf.float32)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            recon, ids, quantizer_loss = self.vqgan(images, training=True)
            reconstruction_loss = tf.reduce_mean(tf.abs(images - recon))
            fake_logits = self.discriminator(recon)
            generator_loss = losses.generator_adversarial_loss(fake_logits)
            total = (reconstruction_loss + quantizer_loss
                     + use_gan * tc.adversarial_weight * generator_loss)
            real_logits = self.discriminator(images)
            disc_loss = losses.hinge_discriminator_loss(
                real_logits, self.discriminator(tf.stop_gradient(recon)))
        g_vars = self.vqgan.trainable_variables
        self.generator_optimizer.apply_gradients(
            zip(g_tape.gradient(total, g_vars), g_vars))
        d_vars = self.discriminator.trainable_variables
        d_grads = [use_gan * g for g in d_tape.gradient(disc_loss, d_vars)]
        self.discriminator_optimizer.apply_gradients(zip(d_grads, d_vars))
        self.step.assign_add(1)
        codes_used = tf.size(tf.unique(tf.reshape(ids, [-1]))[0])
        return {"loss/total": total,
                "loss/reconstruction": reconstruction_loss,
                "loss/quantizer": quantizer_loss,
                "loss/generator_adversarial": generator_loss,
                "loss/discriminator": disc_loss,
                "codebook/used_in_batch": tf.cast(codes_used, tf.float32),
                "learning_rate": self.generator_optimizer.learning_rate}
