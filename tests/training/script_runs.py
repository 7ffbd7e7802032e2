"""What the training-script tests share: running a script's `main` in this
process, and reading what a run wrote (checkpoint weights, TensorBoard
tags)."""

import importlib
import os
import sys

import numpy as np
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAINING = os.path.join(ROOT, "training")


def main_in_process(command):
    """Runs a training script's command line ([python, script, flags...])
    through the script's `main` in this process."""
    if TRAINING not in sys.path:
        sys.path.append(TRAINING)  # The scripts import train_lib.
    script = os.path.basename(command[1]).removesuffix(".py")
    importlib.import_module(script).main(command[2:])


def checkpoint_weights(checkpoint_path, prefix):
    """{key: value} of the model variables saved under `prefix`."""
    reader = tf.train.load_checkpoint(checkpoint_path)
    return {k: reader.get_tensor(k)
            for k in reader.get_variable_to_shape_map()
            if k.startswith(prefix) and "OPTIMIZER_SLOT" not in k}


def assert_holds_checkpoint(model, checkpoint_path):
    """`model`'s weights are the transformer's in the checkpoint."""
    weights = checkpoint_weights(checkpoint_path, "transformer/")
    assert len(model.weights) == len(weights)
    for v in model.weights:
        # Checkpoint keys escape the "/" of variable paths as ".S".
        key = f"transformer/{v.path.replace('/', '.S')}/.ATTRIBUTES/" \
            "VARIABLE_VALUE"
        np.testing.assert_allclose(v.numpy(), weights[key], rtol=1e-6)


def tensorboard_tags(workdir):
    tags = set()
    for path in tf.io.gfile.glob(os.path.join(workdir, "logs", "*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {v.tag for v in event.summary.value}
    return tags
