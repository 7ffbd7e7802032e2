"""Net2Net growth of the VQGAN decoder: the larger decoder starts as the
trained one."""

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.configs import VQGANConfig
from muse_tf.models.decoder_growth import grow_decoder
from muse_tf.models.vqgan import VQGAN


@pytest.mark.parametrize("channels, larger_channels", [
    (8, 16),     # GroupNorm over single channels.
    (64, 128),   # 32 groups of 2 (and 4) channels become groups of 4 (8).
])
def test_the_grown_decoder_decodes_as_the_trained_one(channels,
                                                      larger_channels):
    config = VQGANConfig(image_size=16, base_channels=channels,
                         channel_multipliers=(1, 2), num_res_blocks=1,
                         codebook_size=16, embedding_dim=8)
    trained = VQGAN(config)
    larger = VQGAN(VQGANConfig(**{**config.to_dict(),
                                  "decoder_channels": larger_channels,
                                  "decoder_res_blocks": 2}))
    # Trained-looking weights: GroupNorm scales and offsets off 1 and 0, so
    # a wrong grouping or channel order shows.
    for weight in trained.decoder.weights:
        weight.assign(tf.random.normal(weight.shape, stddev=0.2)
                      + (1.0 if "gamma" in weight.path else 0.0))
    codes = tf.random.normal([2, 8, 8, 8])
    before = larger.decoder(codes)

    grow_decoder(trained.decoder, larger.decoder)
    np.testing.assert_allclose(larger.decoder(codes), trained.decoder(codes),
                               atol=1e-4, rtol=1e-4)
    assert not np.allclose(before, trained.decoder(codes), atol=1e-2)

    grow_decoder(trained.decoder, larger.decoder, noise=0.01)
    difference = np.abs(larger.decoder(codes) - trained.decoder(codes))
    assert 0 < difference.mean() < 0.05 * np.abs(trained.decoder(codes)).mean()


def test_a_decoder_that_is_not_a_whole_multiple_is_refused():
    config = VQGANConfig(image_size=16, base_channels=8,
                         channel_multipliers=(1, 2), num_res_blocks=1,
                         codebook_size=16, embedding_dim=8)
    larger = VQGAN(VQGANConfig(**{**config.to_dict(), "decoder_channels": 12}))
    with pytest.raises(ValueError, match="whole multiple of the channels"):
        grow_decoder(VQGAN(config).decoder, larger.decoder)
