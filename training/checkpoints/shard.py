"""Copies a TensorFlow checkpoint as data files of at most --max-mb each.

The checkpoints committed beside this script let a recipe go on from
where its runs stopped on a machine without them; a transformer
checkpoint with its optimizer state is one data file of over 100 MB,
more than Git hosts take in one file, and the repository keeps its files
under 50 MB. The copy holds the same tensors
(the object graph among them) under the same names, so it restores like
the original: TensorFlow reads each tensor from the shard its index names.

  python training/checkpoints/shard.py \\
      runs/emoji_next/transformer/checkpoints/ckpt-1250 \\
      training/checkpoints/emoji_next/transformer/checkpoints/ckpt-1250
"""

import argparse
import os
import tempfile

import tensorflow as tf


def shard(prefix, destination, max_mb):
    """Writes checkpoint `prefix` again at `destination`, its tensors in
    data files of at most `max_mb` MB (a larger tensor gets one of its
    own)."""
    reader = tf.train.load_checkpoint(prefix)
    groups, group_bytes = [{}], 0
    for name in sorted(reader.get_variable_to_shape_map()):
        value = reader.get_tensor(name)  # The object graph is bytes.
        size = len(value) if isinstance(value, bytes) else value.nbytes
        if groups[-1] and group_bytes + size > max_mb * 10**6:
            groups.append({})
            group_bytes = 0
        groups[-1][name] = value
        group_bytes += size
    with tempfile.TemporaryDirectory() as scratch:
        parts = []
        for index, tensors in enumerate(groups):
            part = os.path.join(scratch, str(index), "ckpt")
            tf.raw_ops.SaveV2(prefix=part, tensor_names=list(tensors),
                              shape_and_slices=[""] * len(tensors),
                              tensors=list(tensors.values()))
            parts.append(part)
        tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts,
                                      destination_prefix=destination,
                                      delete_old_dirs=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefix", help="a checkpoint, e.g. .../ckpt-1250")
    parser.add_argument("destination", help="the copy's prefix")
    parser.add_argument("--max-mb", type=float, default=45)
    args = parser.parse_args()
    shard(args.prefix, args.destination, args.max_mb)


if __name__ == "__main__":
    main()
