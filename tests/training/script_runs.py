"""What the training-job tests share: job command lines, running one in
this process, and reading what a run wrote (checkpoint weights,
TensorBoard tags)."""

import os
import sys

import numpy as np
import tensorflow as tf

from muse_tf.training import recipe

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def job_command(job, *flags):
    """The command line of `muse-tf train JOB FLAGS` in a new process."""
    return [sys.executable, "-m", "muse_tf.cli", "train", job, *flags]


def main_in_process(command):
    """Runs a `job_command` in this process (its ValueErrors raised)."""
    recipe.run_job(command[4], command[5:])


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
