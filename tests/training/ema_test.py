import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from muse_tf import cli
from muse_tf.training import ema
from muse_tf.training.checkpointing import model_variables


def _run_state(width=3):
    """A model, optimizer and step tracked the way the trainers do."""
    model = keras.Sequential([keras.layers.Dense(width, name="dense")])
    model.build([None, 2])
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(model.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(step=step, model=model_variables(model),
                                     optimizer=optimizer)
    return model, optimizer, step, checkpoint


@pytest.fixture
def saved_run(tmp_path):
    """Three checkpoints whose weights are 1, 2 and 4 everywhere."""
    model, optimizer, step, checkpoint = _run_state()
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path / "ckpt"),
                                         max_to_keep=None)
    for value in (1.0, 2.0, 4.0):
        for v in model.weights:
            v.assign(tf.fill(v.shape, value))
        for v in optimizer.variables:
            v.assign(tf.cast(tf.fill(v.shape, value * 10), v.dtype))
        step.assign_add(100)
        manager.save(checkpoint_number=int(step.numpy()))
    return str(tmp_path / "ckpt")


def test_ema_averages_weights_and_keeps_the_rest_of_the_newest(
        saved_run, tmp_path):
    paths = ema.checkpoints_in(saved_run)
    assert [p.rsplit("-", 1)[1] for p in paths] == ["100", "200", "300"]
    prefix = ema.average_checkpoints(paths, str(tmp_path / "ema"), decay=0.7)

    model, optimizer, step, checkpoint = _run_state()
    checkpoint.restore(tf.train.latest_checkpoint(str(tmp_path / "ema"))
                       ).assert_consumed()
    assert prefix.endswith("ema-300")
    expected = 0.7 * (0.7 * 1.0 + 0.3 * 2.0) + 0.3 * 4.0
    for v in model.weights:
        np.testing.assert_allclose(v.numpy(), expected, rtol=1e-6)
    assert int(step.numpy()) == 300
    moments = [v for v in optimizer.variables if "iteration" not in v.path]
    for v in moments:
        np.testing.assert_allclose(v.numpy(), 40.0)


def test_checkpoints_in_a_relative_directory_are_found(
        saved_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = ema.checkpoints_in("ckpt")
    assert paths == [os.path.join("ckpt", f"ckpt-{n}")
                     for n in (100, 200, 300)]
    for path in paths:
        assert tf.train.load_checkpoint(path) is not None


def test_ema_with_zero_decay_is_the_newest_checkpoint(saved_run, tmp_path):
    ema.average_checkpoints(ema.checkpoints_in(saved_run),
                            str(tmp_path / "ema"), decay=0.0)
    model, _, _, checkpoint = _run_state()
    checkpoint.restore(tf.train.latest_checkpoint(str(tmp_path / "ema")))
    for v in model.weights:
        np.testing.assert_allclose(v.numpy(), 4.0)


def test_ema_rejects_bad_arguments(saved_run, tmp_path):
    paths = ema.checkpoints_in(saved_run)
    with pytest.raises(ValueError, match="decay"):
        ema.average_checkpoints(paths, str(tmp_path / "a"), decay=1.0)
    with pytest.raises(ValueError, match="No checkpoints"):
        ema.checkpoints_in(str(tmp_path / "nothing"))
    # A checkpoint of another model cannot join the average.
    other = _run_state(width=5)[3]
    other_path = other.write(str(tmp_path / "other" / "ckpt"))
    with pytest.raises(ValueError, match="does not hold the weights"):
        ema.average_checkpoints([other_path] + paths, str(tmp_path / "b"))


def test_ema_command(saved_run, tmp_path, capsys):
    out = str(tmp_path / "ema")
    assert cli.main(["train", "ema", saved_run, out, "--decay", "0.5",
                     "--last", "2"]) == 0
    assert "ckpt-200, ckpt-300" in capsys.readouterr().out
    model, _, _, checkpoint = _run_state()
    checkpoint.restore(tf.train.latest_checkpoint(out))
    for v in model.weights:
        np.testing.assert_allclose(v.numpy(), 0.5 * 2.0 + 0.5 * 4.0)
    assert cli.main(["train", "ema", str(tmp_path / "none"), out]) == 2
