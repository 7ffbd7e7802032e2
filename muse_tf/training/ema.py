"""Offline EMA: an exponential moving average of saved checkpoints.

Muse averages checkpoints saved during training (every 5k steps, decay
0.7) after the run, instead of holding an EMA of the weights in memory
while it trains (docs/design.md §7). The average runs oldest to newest:

    ema_1 = w_1;   ema_i = decay * ema_{i-1} + (1 - decay) * w_i

so the newest checkpoint weighs (1 - decay), the one before it
decay * (1 - decay), and so on.

The result is written as a checkpoint of the same objects as its inputs:
every model variable is the average, and everything else (the step, the
optimizer's slots, the object graph that lets `tf.train.Checkpoint`
restore it) is the newest checkpoint's. So it works for any trainer, and
`restore`/`--export-from` read it like any checkpoint of the run.
"""

import os

import numpy as np
import tensorflow as tf

# Checkpoint keys that hold no model weight: the object graph, the step
# counter and the optimizer (whose moments are not weights to average).
_NOT_WEIGHTS = ("_CHECKPOINTABLE_OBJECT_GRAPH", "step/", "optimizer/",
                "save_counter/")


def checkpoints_in(directory):
    """The checkpoint prefixes a CheckpointManager keeps in `directory`,
    oldest first; ValueError if there are none. (TensorFlow already joins
    the state file's relative entries to `directory`.)"""
    state = tf.train.get_checkpoint_state(directory)
    if state is None or not state.all_model_checkpoint_paths:
        raise ValueError(f"No checkpoints in {directory!r}")
    return list(state.all_model_checkpoint_paths)


def is_weight(key, dtype):
    """True for the checkpoint entries the EMA averages."""
    return dtype.is_floating and not key.startswith(_NOT_WEIGHTS)


def average_checkpoints(paths, output_dir, decay=0.7):
    """Writes the EMA of the checkpoints `paths` (oldest first) to
    `output_dir` and returns its prefix.

    Raises ValueError for a decay outside [0, 1), no paths, or checkpoints
    that do not hold the same weights.
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    if not paths:
        raise ValueError("No checkpoints to average")
    newest = tf.train.load_checkpoint(paths[-1])
    dtypes = newest.get_variable_to_dtype_map()
    newest_shapes = newest.get_variable_to_shape_map()
    weights = sorted(k for k, d in dtypes.items() if is_weight(k, d))
    ema = {}
    for path in paths:
        reader = tf.train.load_checkpoint(path)
        shapes = reader.get_variable_to_shape_map()
        missing = [k for k in weights
                   if shapes.get(k) != newest_shapes[k]]
        if missing:
            raise ValueError(f"{path} does not hold the weights of "
                             f"{paths[-1]} (e.g. {missing[0]!r})")
        for key in weights:
            value = reader.get_tensor(key).astype(np.float64)
            ema[key] = value if key not in ema else (
                decay * ema[key] + (1.0 - decay) * value)

    keys = sorted(dtypes)
    tensors = [tf.constant(ema[k].astype(dtypes[k].as_numpy_dtype))
               if k in ema else tf.constant(newest.get_tensor(k))
               for k in keys]
    os.makedirs(output_dir, exist_ok=True)
    step = os.path.basename(paths[-1]).rpartition("-")[2]
    prefix = os.path.join(output_dir, f"ema-{step}")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=keys,
                      shape_and_slices=[""] * len(keys), tensors=tensors)
    tf.compat.v1.train.update_checkpoint_state(output_dir, prefix)
    return prefix
