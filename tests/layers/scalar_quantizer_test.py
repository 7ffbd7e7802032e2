"""Finite scalar quantization: every code reachable, ids and vectors
consistent, gradients straight through."""

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.configs import VQGANConfig
from muse_tf.layers.scalar_quantizer import FiniteScalarQuantizer

LEVELS = (8, 5, 3)


def test_every_code_round_trips_through_its_vector():
    fsq = FiniteScalarQuantizer(LEVELS)
    ids = tf.range(fsq.codebook_size)[None, None]
    vectors = fsq.lookup(ids)
    assert vectors.shape == (1, 1, 8 * 5 * 3, 3)
    assert np.abs(vectors).max() <= 1.0
    # Inputs that land on each code's digits exactly (the inverse of the
    # bounding tanh) come back as the same ids and vectors.
    digits = vectors * fsq._half_width
    z = (np.arctanh((digits + fsq._offset) / fsq._half_range)
         - fsq._shift)
    quantized, round_trip, loss = fsq(z)
    np.testing.assert_array_equal(round_trip.numpy(), ids.numpy())
    np.testing.assert_allclose(quantized.numpy(), vectors.numpy(), atol=1e-6)
    assert float(loss) == 0.0


def test_random_inputs_use_the_whole_codebook_and_match_lookup():
    fsq = FiniteScalarQuantizer(LEVELS)
    z = tf.random.stateless_normal([64, 16, 16, 3], seed=[0, 1]) * 2.0
    quantized, ids, _ = fsq(z)
    assert len(np.unique(ids.numpy())) == fsq.codebook_size
    np.testing.assert_allclose(fsq.lookup(ids).numpy(), quantized.numpy(),
                               atol=1e-6)


def test_gradient_passes_the_rounding():
    fsq = FiniteScalarQuantizer(LEVELS)
    z = tf.Variable(tf.random.stateless_normal([2, 4, 4, 3], seed=[2, 3]))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(fsq(z)[0])
    grad = tape.gradient(loss, z).numpy()
    assert np.all(grad > 0)  # d tanh > 0 everywhere; rounding is skipped.


def test_wrong_channel_count_and_inconsistent_config_are_value_errors():
    with pytest.raises(ValueError, match="quantizes 3 channels, got 4"):
        FiniteScalarQuantizer(LEVELS)(tf.zeros([1, 2, 2, 4]))
    with pytest.raises(ValueError, match="levels must be integers >= 2"):
        FiniteScalarQuantizer((8, 1))
    with pytest.raises(ValueError, match="give 120 codes of 3 channels"):
        VQGANConfig(image_size=32, channel_multipliers=(1, 2),
                    codebook_size=128, embedding_dim=3, fsq_levels=LEVELS)
