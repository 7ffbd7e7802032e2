import dataclasses

import pytest
import tensorflow as tf

from muse_tf.configs import VQGANConfig
from muse_tf.models.vqgan import VQGAN


@pytest.fixture(scope="module")
def vqgan(tiny_config):
    return VQGAN(tiny_config.vqgan)


def test_encode_decode_shapes(tiny_config, vqgan):
    c = tiny_config.vqgan
    images = tf.random.uniform([3, c.image_size, c.image_size, 3], -1, 1)
    ids = vqgan.encode(images)
    side = c.tokens_per_side
    assert ids.shape == (3, side, side) and ids.dtype == tf.int32
    assert int(tf.reduce_min(ids)) >= 0
    assert int(tf.reduce_max(ids)) < c.codebook_size
    decoded = vqgan.decode(ids)
    assert decoded.shape == images.shape
    assert float(tf.reduce_max(tf.abs(decoded))) <= 1.0


def test_a_grey_vqgan_decodes_grey_images_and_round_trips_its_config(
        tiny_config):
    grey = VQGAN(dataclasses.replace(tiny_config.vqgan, grey=True))
    assert grey.decoder.conv_out.kernel.shape[-1] == 1
    c = tiny_config.vqgan
    decoded = grey.decode(tf.random.uniform(
        [2, c.tokens_per_side, c.tokens_per_side], 0, c.codebook_size,
        tf.int32))
    assert decoded.shape[-1] == 3
    # Random weights, yet no pixel has colour: R = G = B.
    tf.debugging.assert_equal(decoded[..., :1], decoded[..., 1:2])
    tf.debugging.assert_equal(decoded[..., :1], decoded[..., 2:])
    assert VQGANConfig.from_dict(grey.config.to_dict()).grey


def test_fully_convolutional_encodes_other_sizes(tiny_config, vqgan):
    factor = tiny_config.vqgan.downsampling_factor
    ids = vqgan.encode(tf.zeros([1, 6 * factor, 4 * factor, 3]))
    assert ids.shape == (1, 6, 4)


@pytest.mark.parametrize("shape", [(16, 16, 3), (1, 16, 16), (1, 2, 16, 16, 3)])
def test_wrong_rank_image_is_a_value_error(vqgan, shape):
    with pytest.raises(ValueError, match="images must have shape"):
        vqgan.encode(tf.zeros(shape))


def test_quantizer_passes_straight_through_gradients(tiny_config, vqgan):
    z = tf.random.normal([2, 4, 4, tiny_config.vqgan.embedding_dim])
    with tf.GradientTape() as tape:
        tape.watch(z)
        quantized, _, _ = vqgan.quantizer(z)
        loss = tf.reduce_sum(quantized)
    grad = tape.gradient(loss, z)
    assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0
