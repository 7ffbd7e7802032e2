"""Endless, resumable streams of training batches.

A run that resumes from a checkpoint at step s must see the batches an
uninterrupted run would have seen from step s on; otherwise a restart
replays some examples and skips others. tf.data iterators of distributed
datasets cannot be saved in a checkpoint, so the position is not saved:
it is recomputed. Epoch e is the finite `examples` shuffled with a seed
derived from (seed, e), so any epoch can be rebuilt on its own; batch s
starts at example s·B, which is epoch s·B // N at offset s·B mod N. A
resumed stream rebuilds that epoch and skips the offset (at most one
epoch of raw records, before any parsing or decoding).

Per-example randomness (e.g. flips) is stateless, seeded by the example's
global position, so it repeats on resume too.
"""

import tensorflow as tf

_EPOCHS = 2**62  # "Forever", as a range bound.


def count_examples(examples):
    """The number of elements of a finite dataset (its cardinality when
    tf.data knows it, else one pass)."""
    count = int(examples.cardinality().numpy())
    if count >= 0:
        return count
    return int(examples.reduce(tf.constant(0, tf.int64),
                               lambda n, _: n + 1).numpy())


def training_stream(examples, num_examples, batch_size, start_step=0,
                    seed=0, shuffle_buffer=10000, transform=None):
    """Batches of `examples`, reshuffled each epoch, from step `start_step`.

    Args:
      examples: a finite dataset in a fixed order (one epoch).
      num_examples: its length (`count_examples`).
      batch_size: the global batch size; batches have a static shape
        (drop_remainder), as XLA and TPUs need.
      start_step: the number of batches already consumed (a resumed run's
        step), so the stream continues where that run stopped.
      seed: the run's data seed.
      shuffle_buffer: window of the per-epoch shuffle.
      transform: optional `fn(batch, first_index) -> batch`, applied to
        each batch; `first_index` (int64) is the global position of its
        first example, for stateless per-example randomness.
    """
    if num_examples < batch_size:
        raise ValueError(f"The data has {num_examples} examples, fewer than "
                         f"one batch of {batch_size}")
    first_epoch, offset = divmod(start_step * batch_size, num_examples)

    def epoch(index):
        # Dataset.shuffle mixes the global seed (tf.random.set_seed) into
        # its seed when one is set, and fails on a tensor seed if that
        # global seed is 0. The order must depend on (seed, epoch) alone,
        # so this function's graph (ours, built by flat_map) gets none.
        tf.compat.v1.get_default_graph().seed = None
        return examples.shuffle(shuffle_buffer, seed=seed * 100003 + index,
                                reshuffle_each_iteration=False)

    stream = tf.data.Dataset.range(first_epoch, _EPOCHS).flat_map(epoch)
    stream = stream.skip(offset).batch(batch_size, drop_remainder=True)
    if transform is not None:
        stream = stream.enumerate().map(
            lambda i, batch: transform(batch, (start_step + i) * batch_size),
            num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    # Every worker reads the same global batches and keeps its share, so
    # the position arithmetic above holds for multi-worker runs too.
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA)
    return stream.with_options(options).prefetch(tf.data.AUTOTUNE)


def flip_images(images, first_index, seed=0):
    """Flips each image left-right with probability 1/2, seeded by its
    global position (a `training_stream` transform for image batches)."""
    indices = first_index + tf.range(tf.shape(images)[0], dtype=tf.int64)

    def flip_one(args):
        image, index = args
        return tf.image.stateless_random_flip_left_right(
            image, tf.stack([tf.cast(seed, tf.int64), index]))

    return tf.map_fn(flip_one, (images, indices),
                     fn_output_signature=images.dtype)
