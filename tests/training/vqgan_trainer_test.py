import keras
import numpy as np
import pytest
import tensorflow as tf

from muse_tf.training.distribute import make_strategy
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
    batches = iter(trainer.distribute(
        tf.data.Dataset.from_tensors(images).repeat()))
    losses = [float(trainer.train_steps(batches)["loss/reconstruction"])
              for _ in range(40)]
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3])
    assert int(trainer.step.numpy()) == 40


def test_mixed_bfloat16_step_keeps_float32_weights(tiny_config):
    c = tiny_config.vqgan
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        trainer = VQGANTrainer(c, VQGANTrainConfig(disc_start=0,
                                                   disc_channels=8))
    finally:
        keras.config.set_dtype_policy("float32")
    images = tf.zeros([2, c.image_size, c.image_size, 3])
    metrics = trainer.train_steps(iter(trainer.distribute(
        tf.data.Dataset.from_tensors(images).repeat())), 2)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert trainer.vqgan.compute_dtype == "bfloat16"
    assert {v.dtype for v in trainer.vqgan.weights
            + trainer.discriminator.weights} == {"float32"}


def test_checkpoints_restore_slots_saved_with_a_plain_schedule(tiny_config,
                                                               tmp_path):
    """Every run before OncePerStep was checkpointed by an Adam with a plain
    schedule: its slots restore in place."""
    trainer = VQGANTrainer(tiny_config.vqgan,
                           VQGANTrainConfig(disc_channels=8))
    variables = (trainer.vqgan.trainable_variables
                 + trainer.discriminator.trainable_variables)
    plain = keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(0.0, 10))
    plain.build(variables)
    for i, slot in enumerate(plain.variables):
        slot.assign(tf.fill(slot.shape, tf.cast(i, slot.dtype)))
    path = tf.train.Checkpoint(optimizer=plain).save(str(tmp_path / "ckpt"))
    tf.train.Checkpoint(optimizer=trainer.optimizer).restore(
        path).assert_consumed()
    for restored, saved in zip(trainer.optimizer.variables, plain.variables,
                               strict=True):
        np.testing.assert_array_equal(restored.numpy(), saved.numpy())
    # The optimizer's config (its schedule's too) round-trips.
    again = keras.optimizers.Adam.from_config(trainer.optimizer.get_config())
    assert again.get_config() == trainer.optimizer.get_config()


@pytest.mark.slow
def test_mirrored_step_equals_one_device_step(tiny_config):
    """Two replicas on the global batch give one device's losses and
    weights, the adversarial terms included."""
    c = tiny_config.vqgan
    images = tf.random.stateless_uniform([4, c.image_size, c.image_size, 3],
                                         [1, 2], -1.0, 1.0)
    results = []
    for strategy in (make_strategy("one_device"),
                     make_strategy("mirrored")):
        keras.utils.set_random_seed(0)
        trainer = VQGANTrainer(c, VQGANTrainConfig(
            learning_rate=1e-3, warmup_steps=1, disc_start=1,
            disc_channels=8), strategy=strategy)
        metrics = trainer.train_steps(iter(trainer.distribute(
            tf.data.Dataset.from_tensors(images).repeat())), 3)
        results.append(({k: float(v) for k, v in metrics.items()},
                        [v.numpy() for v in trainer.vqgan.weights
                         + trainer.discriminator.weights]))
    (metrics_a, weights_a), (metrics_b, weights_b) = results
    for name, value in metrics_a.items():
        np.testing.assert_allclose(value, metrics_b[name], rtol=1e-4,
                                   err_msg=name)
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_perceptual_loss_is_zero_on_equal_images_and_grows_with_damage():
    from muse_tf.losses import PerceptualLoss

    perceptual = PerceptualLoss()
    rng = np.random.default_rng(0)
    coarse = rng.uniform(-1, 1, [4, 8, 8, 3]).astype(np.float32)
    images = tf.image.resize(coarse, [32, 32], method="nearest")
    noisy = images + rng.normal(0, 0.02, images.shape).astype(np.float32)
    blurred = tf.image.resize(tf.image.resize(images, [8, 8]), [32, 32])
    slightly = float(perceptual(images, noisy))
    # Zero up to float32 rounding: oneDNN may round the two copies of one
    # image differently in one batch (2.9e-14 on an AVX2-only CPU).
    assert float(perceptual(images, images)) < 1e-6 * slightly
    assert 0 < slightly < float(perceptual(images, blurred))


@pytest.mark.slow
def test_a_step_with_the_perceptual_loss_adds_it_to_the_total(tiny_config):
    c = tiny_config.vqgan
    trainer = VQGANTrainer(c, VQGANTrainConfig(
        learning_rate=3e-3, warmup_steps=1, disc_start=10**9,
        disc_channels=8, perceptual_weight=0.25))
    images = tf.image.resize(np.random.default_rng(1).uniform(
        -1, 1, [2, 4, 4, 3]).astype(np.float32), [c.image_size] * 2)
    batches = iter(trainer.distribute(
        tf.data.Dataset.from_tensors(images).repeat()))
    metrics = [trainer.train_steps(batches) for _ in range(2)]
    assert all(float(m["loss/perceptual"]) > 0 for m in metrics)
    # The total holds the weighted perceptual loss.
    m = metrics[-1]
    np.testing.assert_allclose(
        float(m["loss/total"]),
        float(m["loss/reconstruction"]) + float(m["loss/quantizer"])
        + 0.25 * float(m["loss/perceptual"]), rtol=1e-5)


def test_load_vqgan_takes_one_checkpoint_of_a_run_or_its_latest(tiny_config,
                                                                tmp_path):
    """A tokenizer frozen at a measured step stays that step's weights while
    its run writes later checkpoints."""
    from muse_tf.training.checkpointing import model_variables
    from muse_tf.training.jobs.vqgan import load_vqgan
    trainer = VQGANTrainer(tiny_config.vqgan,
                           VQGANTrainConfig(disc_channels=8))
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(vqgan=model_variables(trainer.vqgan)),
        str(tmp_path / "checkpoints"), max_to_keep=None)
    kernel = trainer.vqgan.trainable_variables[0]
    prefixes = []
    for step in (1, 2):
        kernel.assign(tf.fill(kernel.shape, float(step)))
        prefixes.append(manager.save(checkpoint_number=step))
    for path, step in ((prefixes[0], 1), (str(tmp_path), 2)):
        vqgan, source = load_vqgan(tiny_config.vqgan, path)
        loaded = {v.path: v for v in vqgan.trainable_variables}[kernel.path]
        assert source.endswith(f"ckpt-{step}")
        np.testing.assert_array_equal(loaded.numpy(), float(step))
