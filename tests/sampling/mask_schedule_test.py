import math

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.sampling import mask_schedule

N = 64


def _reference(schedule, r):
    """MaskGIT's `mask_schedule.schedule` and Halton-MaskGIT's arccos
    (`Utils/masking_scheduler.py`), re-written in float32 numpy."""
    r = np.float32(r)
    n = np.float32(N)
    formulas = {
        "cosine": lambda: np.cos(np.float32(math.pi / 2) * r),
        "linear": lambda: 1 - r,
        "square": lambda: 1 - r**2,
        "cubic": lambda: 1 - r**3,
        "sqrt": lambda: 1 - np.sqrt(r),
        "log": lambda: -np.log2(r) / np.log2(n),
        "exp": lambda: 1 - np.exp2(-np.log2(n) * (1 - r)),
        "arccos": lambda: np.arccos(r) / np.float32(math.pi / 2),
    }
    return np.clip(formulas[schedule](), 1e-6, 1.0).astype(np.float32)


@pytest.mark.parametrize("schedule", mask_schedule.SCHEDULES)
def test_schedule_matches_formula(schedule):
    r = np.linspace(0.01, 1.0, 25, dtype=np.float32)
    got = mask_schedule.mask_ratio(r, schedule, N).numpy()
    np.testing.assert_allclose(got, _reference(schedule, r), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("schedule", mask_schedule.SCHEDULES)
def test_schedule_decreases_from_almost_all_masked(schedule):
    r = np.linspace(0.0, 1.0, 50, dtype=np.float32)
    got = mask_schedule.mask_ratio(r, schedule, N).numpy()
    # MaskGIT's exp form starts at 1 - 1/N, the others at exactly 1.
    assert got[0] >= 1 - 1 / N
    assert np.all(np.diff(got) <= 1e-7)
    assert got[-1] <= 1e-5


def test_float32_floor_matches_reference():
    # 16·cos(π/3) floors to 7 in float32 (the reference) but 8 in float64.
    ratio = mask_schedule.mask_ratio(2.0 / 3.0, "cosine").numpy()
    assert int(np.floor(np.float32(16) * ratio)) == 7


def test_cosine_masking_rate_has_mean_two_over_pi():
    rates = mask_schedule.sample_mask_rate(20000, tf.constant([3, 4]))
    assert abs(float(tf.reduce_mean(rates)) - 2 / math.pi) < 0.02


def test_random_mask_masks_ceil_rate_times_length():
    rates = tf.constant([1e-6, 0.1, 0.5, 0.64, 1.0])
    mask = mask_schedule.random_mask(5, 64, rates, tf.constant([1, 2]))
    counts = tf.reduce_sum(tf.cast(mask, tf.int32), -1).numpy()
    np.testing.assert_array_equal(
        counts, np.ceil(rates.numpy() * np.float32(64)).astype(int))


def test_random_mask_depends_on_seed():
    rates = tf.fill([4], 0.5)
    a = mask_schedule.random_mask(4, 64, rates, tf.constant([1, 2]))
    b = mask_schedule.random_mask(4, 64, rates, tf.constant([1, 3]))
    assert not np.array_equal(a.numpy(), b.numpy())


def test_unknown_schedule_names_it():
    with pytest.raises(ValueError, match="zigzag"):
        mask_schedule.mask_ratio(0.5, "zigzag")
