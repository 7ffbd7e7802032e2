import numpy as np

from muse_tf.data import pretokenize


def test_cache_is_reused_only_for_the_same_inputs(tmp_path):
    path = str(tmp_path / "states.npy")
    calls = []

    def make(value):
        calls.append(value)
        return np.full([2], value, np.float32)

    key_a = pretokenize.fingerprint(["a cat", "a dog"], np.arange(3))
    key_b = pretokenize.fingerprint(["a dog", "a cat"], np.arange(3))
    assert key_a != key_b

    np.testing.assert_array_equal(
        pretokenize.cached(path, lambda: make(1), key_a), [1, 1])
    np.testing.assert_array_equal(
        pretokenize.cached(path, lambda: make(2), key_a), [1, 1])
    # Same file name, other captions: the stale array must not come back.
    np.testing.assert_array_equal(
        pretokenize.cached(path, lambda: make(3), key_b), [3, 3])
    assert calls == [1, 3]
