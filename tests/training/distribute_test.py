import time

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


def test_unknown_strategy_is_a_value_error():
    with pytest.raises(ValueError, match="one_device"):
        make_strategy("two_devices")
