import keras
import numpy as np
import pytest
import tensorflow as tf

from muse_tf.configs import UViTConfig
from muse_tf.training.distribute import make_strategy
from muse_tf.training.loop import NonFiniteLossError, run_training
from muse_tf.training.transformer_trainer import (
    TransformerTrainConfig,
    TransformerTrainer,
    UViTTrainer,
)

B, T = 8, 5


def _trainer(tiny_config, **kwargs):
    c = tiny_config.transformer
    null = np.zeros([1, T, c.text_dim], np.float32)
    return TransformerTrainer(c, null, np.ones([1, T], bool),
                              TransformerTrainConfig(**kwargs))


def _batches(tiny_config, text_scale=1.0, varied=False):
    """A fixed batch: two 'captions', each always with the same tokens
    (or, if `varied`, B different examples)."""
    c = tiny_config.transformer
    rng = np.random.default_rng(0)
    kinds = B if varied else 2
    patterns = rng.integers(0, c.codebook_size, [kinds, c.sequence_length])
    texts = rng.normal(size=[kinds, T, c.text_dim]).astype(np.float32)
    which = np.arange(B) % kinds
    batch = {"tokens": tf.constant(patterns[which], tf.int32),
             "text_states": tf.constant(texts[which] * text_scale),
             "text_mask": tf.ones([B, T], tf.bool)}
    return tf.data.Dataset.from_tensors(batch).repeat()


def test_training_lowers_masked_token_loss(tiny_config):
    trainer = _trainer(tiny_config, learning_rate=3e-3, warmup_steps=1)
    batches = iter(trainer.distribute(_batches(tiny_config)))
    losses = [float(trainer.train_steps(batches)["loss/masked_token"])
              for _ in range(30)]
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])
    # The default trainer's gradient step is XLA-compiled.
    compiled = trainer._local_gradients.experimental_get_compiler_ir(
        next(iter(_batches(tiny_config))), 0, B)
    assert "HloModule" in compiled(stage="hlo")


def test_masked_accuracy_on_a_fixed_subset_is_repeatable_and_rises(
        tiny_config):
    trainer = _trainer(tiny_config, learning_rate=3e-3, warmup_steps=1)
    subset = _batches(tiny_config).take(3)
    before = trainer.masked_accuracy(subset)
    assert before == trainer.masked_accuracy(subset)  # Same masks.
    batches = iter(trainer.distribute(_batches(tiny_config)))
    for _ in range(30):
        trainer.train_steps(batches)
    after = trainer.masked_accuracy(subset)
    assert 0.0 <= before < 0.2 and after > 0.5


def test_masking_matches_the_sampled_rates(tiny_config):
    trainer = _trainer(tiny_config)
    tokens = tf.zeros([64, tiny_config.transformer.sequence_length], tf.int32)
    inputs, mask = trainer.mask_batch(tokens, tf.constant([1, 2]))
    mask_id = tiny_config.transformer.mask_token_id
    np.testing.assert_array_equal(inputs.numpy() == mask_id, mask.numpy())
    assert mask.numpy().sum(axis=1).min() >= 1  # Never zero targets.


def test_condition_drop_uses_null_text_for_about_ten_percent(tiny_config):
    trainer = _trainer(tiny_config)
    states = tf.ones([4000, T, tiny_config.transformer.text_dim])
    dropped = trainer.drop_condition(
        {"text_states": states, "text_mask": tf.ones([4000, T], tf.bool)},
        tf.constant([3, 4]))["text_states"]
    rate = float(tf.reduce_mean(tf.cast(
        tf.reduce_all(dropped == 0.0, axis=[1, 2]), tf.float32)))
    assert abs(rate - 0.1) < 0.02


def test_a_uvit_drop_gives_the_empty_prompts_states_and_pooled_together():
    # aMUSEd's unconditional input is the encoding of "": both parts.
    width, n = 16, 2000
    config = UViTConfig(
        hidden_size=width, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=width, in_channels=width, block_out_channels=width,
        block_num_heads=2, num_res_blocks=1, vocab_size=72, codebook_size=64,
        encoder_hidden_size=width, cond_embed_dim=width,
        micro_cond_encode_dim=2, micro_cond_embed_dim=10, sample_size=4)
    trainer = UViTTrainer(config, np.zeros([1, T, width]),
                          np.ones([1, T], bool), np.zeros([1, width]))
    dropped = trainer.drop_condition(
        {"text_states": tf.ones([n, T, width]),
         "text_mask": tf.ones([n, T], tf.bool),
         "text_pooled": tf.ones([n, width])}, tf.constant([3, 4]))
    states_dropped = tf.reduce_all(dropped["text_states"] == 0.0, [1, 2])
    pooled_dropped = tf.reduce_all(dropped["text_pooled"] == 0.0, 1)
    np.testing.assert_array_equal(states_dropped, pooled_dropped)
    rate = float(tf.reduce_mean(tf.cast(pooled_dropped, tf.float32)))
    assert abs(rate - 0.1) < 0.02


@pytest.mark.slow
def test_run_resumes_from_the_last_checkpoint(tiny_config, tmp_path,
                                              capsys):
    workdir = str(tmp_path)
    first = _trainer(tiny_config)
    run_training(first, lambda _: _batches(tiny_config), workdir, num_steps=4,
                 checkpoint_every=2, summary_every=2)
    assert (f"starting {workdir} at step 0: no checkpoint in "
            f"{workdir}/checkpoints yet\n") in capsys.readouterr().out
    weights = [v.numpy() for v in first.model.variables]

    second = _trainer(tiny_config)
    run_training(second, lambda _: _batches(tiny_config), workdir, num_steps=4)
    assert (f"resuming {workdir} from step 4 ({workdir}/checkpoints/ckpt-4)"
            "\n") in capsys.readouterr().out
    assert int(second.step.numpy()) == 4  # Nothing left to do: restored.
    for a, b in zip(weights, second.model.variables):
        np.testing.assert_array_equal(a, b.numpy())
    assert int(second.optimizer.iterations.numpy()) == 4
    run_training(second, lambda _: _batches(tiny_config), workdir, num_steps=6)
    assert int(second.step.numpy()) == 6
    assert tf.train.latest_checkpoint(f"{workdir}/checkpoints").endswith("-6")


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(
        tiny_config, tmp_path):
    workdir = str(tmp_path)
    trainer = _trainer(tiny_config)
    run_training(trainer, lambda _: _batches(tiny_config), workdir, num_steps=2,
                 checkpoint_every=2)
    with pytest.raises(NonFiniteLossError, match="ckpt-2"):
        run_training(trainer, lambda _: _batches(tiny_config, text_scale=np.nan),
                     workdir, num_steps=4, checkpoint_every=1)
    assert tf.train.latest_checkpoint(f"{workdir}/checkpoints").endswith("-2")


def test_mixed_bfloat16_step_keeps_float32_weights(tiny_config):
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        trainer = _trainer(tiny_config, learning_rate=3e-3, warmup_steps=1)
    finally:
        keras.config.set_dtype_policy("float32")
    metrics = trainer.train_steps(
        iter(trainer.distribute(_batches(tiny_config))), 2)
    assert np.isfinite(float(metrics["loss/masked_token"]))
    assert trainer.model.compute_dtype == "bfloat16"
    assert {v.dtype for v in trainer.model.weights} == {"float32"}


@pytest.mark.slow
def test_mirrored_step_equals_one_device_step(tiny_config):
    """Two replicas on the global batch give one device's loss and weights
    (with the default, XLA-compiled gradient step)."""
    results = []
    for strategy in (make_strategy("one_device"),
                     make_strategy("mirrored")):
        keras.utils.set_random_seed(0)
        c = tiny_config.transformer
        trainer = TransformerTrainer(
            c, np.zeros([1, T, c.text_dim], np.float32), np.ones([1, T], bool),
            TransformerTrainConfig(learning_rate=1e-2, warmup_steps=1),
            strategy=strategy)
        metrics = trainer.train_steps(
            iter(trainer.distribute(_batches(tiny_config, varied=True))), 3)
        results.append((float(metrics["loss/masked_token"]),
                        [v.numpy() for v in trainer.model.weights],
                        int(trainer.step.numpy())))
    (loss_a, weights_a, steps_a), (loss_b, weights_b, steps_b) = results
    assert steps_a == steps_b == 3
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-5)
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_allclose(a, b, atol=1e-4)
