import numpy as np
import pytest
import tensorflow as tf

from muse_tf.data import stream

N, B = 10, 4


def _batches(start_step, count, transform=None, seed=0):
    examples = tf.data.Dataset.range(N)
    ds = stream.training_stream(examples, N, B, start_step, seed,
                                shuffle_buffer=N, transform=transform)
    return [b for b in ds.take(count).as_numpy_iterator()]


def test_each_epoch_is_a_new_permutation():
    flat = np.concatenate(_batches(0, 5))  # 20 examples: two epochs.
    first, second = flat[:N], flat[N:]
    assert sorted(first) == sorted(second) == list(range(N))
    assert list(first) != list(second)


def test_a_resumed_stream_continues_where_the_run_stopped():
    uninterrupted = _batches(0, 9)  # Crosses three epoch boundaries.
    for start in (1, 3, 7):
        resumed = _batches(start, 9 - start)
        for a, b in zip(uninterrupted[start:], resumed):
            np.testing.assert_array_equal(a, b)


def test_transform_sees_global_positions_and_repeats_on_resume():
    def tag(batch, first_index):
        return batch, first_index + tf.range(B, dtype=tf.int64)

    positions = [p for _, p in _batches(0, 3, tag)]
    np.testing.assert_array_equal(np.concatenate(positions), np.arange(12))
    np.testing.assert_array_equal(_batches(2, 1, tag)[0][1], positions[2])


def test_flips_depend_only_on_position_and_seed():
    images = tf.reshape(tf.range(8 * 2 * 3 * 1), [8, 2, 3, 1])
    a = stream.flip_images(images, tf.constant(0, tf.int64))
    b = stream.flip_images(images, tf.constant(0, tf.int64))
    np.testing.assert_array_equal(a, b)
    flipped = [not np.array_equal(a[i], images[i]) for i in range(8)]
    assert 0 < sum(flipped) < 8
    for i in range(8):
        assert (np.array_equal(a[i], images[i])
                or np.array_equal(a[i], images[i][:, ::-1]))


def test_too_little_data_for_one_batch_is_a_value_error():
    with pytest.raises(ValueError, match="fewer than one batch"):
        stream.training_stream(tf.data.Dataset.range(3), 3, B)


def test_count_examples_without_a_known_cardinality():
    ds = tf.data.Dataset.range(7).filter(lambda x: x % 2 == 0)
    assert stream.count_examples(ds) == 4
    assert stream.count_examples(tf.data.Dataset.range(5)) == 5


def test_order_depends_on_the_data_seed_not_the_global_seed():
    tf.random.set_seed(0)
    a = _batches(0, 3)
    tf.random.set_seed(123)
    np.testing.assert_array_equal(a, _batches(0, 3))
    assert not np.array_equal(a, _batches(0, 3, seed=1))
