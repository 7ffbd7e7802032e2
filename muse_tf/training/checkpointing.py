"""Keras 3 models as tf.train.Checkpoint objects.

tf.train.Checkpoint follows a Keras 3 model's attributes, but not the
layers it holds in Python lists (our blocks), so those weights would be
missing from the model's side of a checkpoint. Exposing every variable by
its unique Keras path makes the checkpoint complete and readable by path,
e.g. to restore only the VQGAN of a VQGAN-training run.
"""

import tensorflow as tf


def model_variables(model):
    """{variable path: variable} for a built Keras model (trackable dict)."""
    variables = {v.path: v for v in model.variables}
    if len(variables) != len(model.variables):
        raise ValueError(f"{model.name} has variables with duplicate paths")
    return variables


def is_checkpoint(path):
    """Whether `path` is one checkpoint's prefix (DIR/ckpt-N), not a
    directory (local or remote, as TensorFlow's file system reads it)."""
    return tf.io.gfile.exists(path + ".index")


def find_checkpoint(path):
    """The checkpoint `path` names: one checkpoint's prefix as it is, or a
    directory's latest one; None if there is none."""
    return path if is_checkpoint(path) else tf.train.latest_checkpoint(path)


def restore_model(model, checkpoint, key):
    """Restores `model` from `checkpoint` (`find_checkpoint`), where it was
    saved under `key`; ValueError if there is none."""
    latest = find_checkpoint(checkpoint)
    if latest is None:
        raise ValueError(f"No checkpoint in {checkpoint}")
    status = tf.train.Checkpoint(**{key: model_variables(model)}).restore(
        latest)
    status.expect_partial().assert_existing_objects_matched()
    return latest
