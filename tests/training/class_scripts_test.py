"""The class-conditional training scripts end to end on Fashion-MNIST
(a module of its own, so pytest-xdist can run it beside the other script
tests)."""

import os
import sys

import numpy as np
import pytest
from script_runs import (
    TRAINING,
    assert_holds_checkpoint,
    tensorboard_tags,
)
from script_runs import (
    main_in_process as _main,
)

from muse_tf.pipeline import MusePipeline

pytestmark = pytest.mark.slow


def test_class_conditional_scripts_train_on_fashion_mnist(tmp_path):
    def command(script, name, *flags):
        return [sys.executable, os.path.join(TRAINING, script), "--preset",
                "tiny_class", "--workdir", str(tmp_path / name), "--data",
                "fashion_mnist:test", "--batch-size", "8",
                "--steps-per-call", "2", *flags]

    _main(command("train_vqgan.py", "vqgan", "--num-steps", "2",
                  "--disc-channels", "8"))
    model_dir = str(tmp_path / "model")
    _main(command("train_class_conditional.py", "class", "--vqgan",
                  str(tmp_path / "vqgan"), "--num-steps", "4",
                  "--checkpoint-every", "2", "--sample-every", "2",
                  "--model-dir", model_dir))
    with np.load(tmp_path / "class" / "tokens.npz") as cached:
        assert cached["tokens"].shape == (10000, 64)
    assert "one_sample_per_class" in tensorboard_tags(
        str(tmp_path / "class"))
    trained = MusePipeline.from_pretrained(model_dir)
    images = trained([0, 9], seed=0)
    assert images.shape == (2, 32, 32, 3)

    # A snapshot of one checkpoint (--export-only; it encodes no data),
    # and a new run started from the model directory (--init-from): at
    # learning rate 0 it ends with the weights it started from.
    first = os.path.join(tmp_path, "class", "checkpoints", "ckpt-2")
    snapshot, further = str(tmp_path / "snapshot"), str(tmp_path / "further")
    _main(command("train_class_conditional.py", "export", "--vqgan",
                  model_dir, "--export-only", "--export-from", first,
                  "--model-dir", snapshot))
    assert not (tmp_path / "export" / "tokens.npz").exists()
    with pytest.raises(ValueError, match="--model-dir"):
        _main(command("train_class_conditional.py", "export", "--vqgan",
                      model_dir, "--export-only", "--export-from", first))
    assert_holds_checkpoint(
        MusePipeline.from_pretrained(snapshot).components["class_transformer"],
        first)
    _main(command("train_class_conditional.py", "further", "--vqgan",
                  model_dir, "--init-from", model_dir, "--num-steps", "2",
                  "--learning-rate", "0", "--model-dir", further))
    for a, b in zip(MusePipeline.from_pretrained(further).components[
            "class_transformer"].weights,
            trained.components["class_transformer"].weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
