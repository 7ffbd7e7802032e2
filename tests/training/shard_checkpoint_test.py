"""training/checkpoints/shard.py: a checkpoint copied as several data
files restores the same objects as the original."""

import glob
import importlib.util
import os

import numpy as np
import tensorflow as tf
from script_runs import ROOT


def _shard_module():
    path = os.path.join(ROOT, "training", "checkpoints", "shard.py")
    spec = importlib.util.spec_from_file_location("shard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_sharded_copy_restores_the_same_objects(tmp_path):
    weights = tf.Variable(tf.random.normal([300, 400]))  # 480 kB each.
    bias = tf.Variable(tf.random.normal([400]))
    step = tf.Variable(7, dtype=tf.int64)
    prefix = tf.train.Checkpoint(weights=weights, bias=bias, step=step).save(
        str(tmp_path / "original" / "ckpt"))

    copy = str(tmp_path / "copy" / "ckpt-1")
    _shard_module().shard(prefix, copy, max_mb=0.3)
    # The weights alone (larger than the cap), then everything else.
    sizes = sorted(os.path.getsize(f) for f in glob.glob(copy + ".data-*"))
    assert len(sizes) == 2 and sizes[0] < 0.3e6 < sizes[1]

    restored = [tf.Variable(tf.zeros([300, 400])),
                tf.Variable(tf.zeros([400])), tf.Variable(0, dtype=tf.int64)]
    tf.train.Checkpoint(weights=restored[0], bias=restored[1],
                        step=restored[2]).restore(copy).assert_consumed()
    for original, copied in zip((weights, bias, step), restored):
        np.testing.assert_array_equal(original.numpy(), copied.numpy())
