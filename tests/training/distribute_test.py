import time

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.training.distribute import make_strategy


def test_tpu_strategy_without_a_tpu_fails_fast_with_a_clear_message():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="no TPU reachable"):
        make_strategy("tpu", tpu="grpc://127.0.0.1:1")
    with pytest.raises(ValueError, match="no TPU reachable"):
        make_strategy("tpu", tpu="no-such-tpu")
    assert time.perf_counter() - start < 30


def test_one_device_and_mirrored_strategies():
    assert isinstance(make_strategy("one_device"),
                      tf.distribute.OneDeviceStrategy)
    mirrored = make_strategy("mirrored")
    assert isinstance(mirrored, tf.distribute.MirroredStrategy)
    # conftest splits the CPU in two; mirrored uses both.
    assert mirrored.num_replicas_in_sync == 2


def test_strategies_made_twice_do_not_mix_up_their_all_reduces():
    # Two MirroredStrategy objects over the same devices would reuse the
    # same collective keys: the second all-reduce of another shape fails.
    for size in (3, 5):
        strategy = make_strategy("mirrored")

        @tf.function
        def total(strategy=strategy, size=size):
            return strategy.run(
                lambda: tf.distribute.get_replica_context().all_reduce(
                    "sum", tf.ones([size])))

        result = strategy.experimental_local_results(total())[0]
        np.testing.assert_array_equal(result, np.full([size], 2.0))


def test_unknown_strategy_is_a_value_error():
    with pytest.raises(ValueError, match="one_device"):
        make_strategy("two_devices")
