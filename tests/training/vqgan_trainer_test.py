import numpy as np
import tensorflow as tf

from muse_tf.training.vqgan_trainer import VQGANTrainConfig, VQGANTrainer


def test_training_lowers_reconstruction_loss(tiny_config):
    c = tiny_config.vqgan
    trainer = VQGANTrainer(c, VQGANTrainConfig(
        learning_rate=3e-3, warmup_steps=1, disc_start=10**9,
        disc_channels=8))
    rng = np.random.default_rng(0)
    # Smooth images: a few colour blobs, the kind of content a VQGAN fits.
    coarse = rng.uniform(-1, 1, [4, 4, 4, 3]).astype(np.float32)
    images = tf.image.resize(coarse, [c.image_size, c.image_size])
    losses = [float(trainer.train_step(images)["loss/reconstruction"])
              for _ in range(40)]
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3])
    assert int(trainer.step.numpy()) == 40
