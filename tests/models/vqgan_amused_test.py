"""aMUSEd's VQ-GAN (diffusers' `VQModel`) as our
`VQGAN(architecture="amused")`: exact against diffusers at random weights
(golden files of tests/golden/make_amused_vq_golden.py), and strict about
the config and the parameters it converts."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf
from fresh_process import run_in_fresh_process

from muse_tf.configs import VQGANConfig
from muse_tf.convert import amused_vqvae
from muse_tf.models.vqgan import VQGAN

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "golden")
sys.path.insert(0, GOLDEN)
import amused_params

TOLERANCE = 1e-4
TINY_TOKENS_PER_SIDE = 8  # 32-px golden images, 3 levels.


def _golden(name):
    with open(os.path.join(GOLDEN, f"amused_vq_{name}.json")) as f:
        meta = json.load(f)
    return meta, np.load(os.path.join(GOLDEN, f"amused_vq_{name}.npz"))


def _state_dict(meta):
    return amused_params.random_state_dict(meta["manifest"], meta["seed"])


@pytest.fixture(scope="module")
def tiny():
    meta, golden = _golden("tiny")
    vqgan = amused_vqvae.convert(meta["config"], _state_dict(meta),
                                 TINY_TOKENS_PER_SIDE)
    return meta, golden, vqgan


def _unclipped_decode(vqgan, jit_compile):
    """Token ids -> the decoder's pixels in diffusers' [0, 1], unclipped."""
    return tf.function(lambda ids: vqgan.decoder(vqgan.quantizer.lookup(ids)),
                       jit_compile=jit_compile)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "xla"])
def test_tiny_decode_of_token_ids_matches_diffusers(tiny, jit_compile):
    _, golden, vqgan = tiny
    ids = tf.constant(golden["decode_ids"])
    decoded = _unclipped_decode(vqgan, jit_compile)(ids).numpy()
    np.testing.assert_allclose(decoded, golden["decoded"], rtol=0,
                               atol=TOLERANCE)
    # `decode` clips as AmusedPipeline does, in our [-1, 1].
    ours = tf.function(vqgan.decode, jit_compile=jit_compile)(ids).numpy()
    np.testing.assert_allclose((ours + 1) / 2,
                               np.clip(golden["decoded"], 0, 1), rtol=0,
                               atol=TOLERANCE)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "xla"])
def test_tiny_encode_gives_diffusers_code_ids(tiny, jit_compile):
    _, golden, vqgan = tiny
    # The golden images are in diffusers' [0, 1]; ours in [-1, 1].
    images = tf.constant(golden["images"] * 2 - 1)
    ids = tf.function(vqgan.encode, jit_compile=jit_compile)(images)
    # Margins far above float32 differences make equal ids a fair test.
    assert golden["code_gaps"].min() > 1e-3
    np.testing.assert_array_equal(ids.numpy(), golden["code_ids"])


def amused_256_is_exact():
    """amused-256's VQ-GAN at the golden random weights: the pipeline's
    decode of 16x16 tokens to 256 px, XLA-compiled as the pipeline
    compiles it. (Not compiled, TensorFlow's CPU kernels sum a GroupNorm's
    262,144 values a group in float32 one after another and the pixels
    drift by up to 2e-4; XLA's reductions stay within 5e-6.)"""
    meta, golden = _golden("256")
    vqgan = amused_vqvae.convert(meta["config"], _state_dict(meta), 16)
    assert sum(int(np.prod(w.shape)) for w in vqgan.weights) == 146_244_675
    decoded = _unclipped_decode(vqgan, True)(
        tf.constant(golden["decode_ids"])).numpy()
    assert decoded.shape == (1, 256, 256, 3)
    np.testing.assert_allclose(decoded[:, ::8, ::8], golden["decoded"],
                               rtol=0, atol=TOLERANCE)
    top, left = golden["crop_origin"]
    np.testing.assert_allclose(decoded[:, top:top + 16, left:left + 16],
                               golden["crop"], rtol=0, atol=TOLERANCE)
    stats = [decoded.min(), decoded.max(), decoded.mean(), decoded.std(),
             np.clip(decoded, 0, 1).mean()]
    np.testing.assert_allclose(stats, golden["stats"], rtol=0,
                               atol=TOLERANCE)


@pytest.mark.full_size
def test_the_amused_256_vq_at_random_weights_is_exact():
    # 146 M parameters, held twice while they are assigned, and XLA's
    # compilation.
    run_in_fresh_process(__file__, "amused_256_is_exact()")


def test_the_amused_config_is_read_as_our_vqgan_config():
    meta, _ = _golden("256")
    assert amused_vqvae.vqgan_config(meta["config"]) == VQGANConfig(
        image_size=256, base_channels=128, channel_multipliers=(1, 2, 2, 4, 6),
        num_res_blocks=2, decoder_res_blocks=3, codebook_size=8192,
        embedding_dim=64, architecture="amused")
    assert amused_vqvae.vqgan_config(meta["config"], 32).image_size == 512
    # docs/design.md §10.4's count, from the state dict's shapes.
    assert sum(int(np.prod(s)) for s in meta["manifest"].values()) == (
        146_244_675)


@pytest.mark.parametrize("change, message", [
    ({"norm_type": "spatial"}, "norm_type = 'spatial' is not supported"),
    ({"mid_block_add_attention": True},
     ("mid_block_add_attention = True is not supported: our VQ-GAN has no "
      "attention")),
    ({"mid_block_add_attention": None},  # Absent: diffusers' default, True.
     "mid_block_add_attention = True"),
    ({"lookup_from_codebook": False}, "lookup_from_codebook = False"),
    ({"norm_num_groups": 16}, "norm_num_groups = 16"),
    ({"block_out_channels": [32, 48, 64]}, "block_out_channels"),
    ({"up_block_types": ["UpDecoderBlock2D"] * 2 + ["AttnUpDecoderBlock2D"]},
     "up_block_types"),
    ({"vq_embed_dim": 4}, "vq_embed_dim = 4"),
    ({"act_fn": "gelu"}, "act_fn = 'gelu'"),
    ({"layers_per_block": 0}, "layers_per_block = 0"),
    ({"use_post_quant_conv": False}, "use_post_quant_conv = False .* unknown"),
    ({"_class_name": "AutoencoderKL"}, "_class_name = 'AutoencoderKL'"),
])
def test_a_config_value_we_cannot_build_is_a_value_error_naming_it(
        change, message):
    meta, _ = _golden("tiny")
    config = {**meta["config"], **change}
    config = {k: v for k, v in config.items() if v is not None}
    with pytest.raises(ValueError, match=message):
        amused_vqvae.vqgan_config(config)


def test_keys_that_do_not_change_the_computation_are_accepted():
    meta, _ = _golden("tiny")
    config = {**meta["config"], "force_upcast": True, "sample_size": 7,
              "scaling_factor": 1.0, "_name_or_path": "amused/amused-256"}
    assert amused_vqvae.vqgan_config(config) == amused_vqvae.vqgan_config(
        meta["config"])


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("decoder.up_blocks.1.resnets.1.conv2.bias"),
     ("vqvae checkpoint has no parameter "
      "'decoder.up_blocks.1.resnets.1.conv2.bias'")),
    (lambda s: s.update({"decoder.mid_block.attentions.0.to_q.weight":
                         np.zeros((64, 64), np.float32)}),
     "unexpected parameter 'decoder.mid_block.attentions.0.to_q.weight'"),
    (lambda s: s.update({"quant_conv.weight": np.zeros((8, 8, 3, 3),
                                                       np.float32)}),
     (r"'quant_conv.weight' has shape \(8, 8, 3, 3\), expected "
      r"\(1, 1, 8, 8\)")),
], ids=["missing", "unexpected", "wrong-shape"])
def test_a_parameter_that_does_not_fit_is_a_value_error_naming_it(
        change, message):
    meta, _ = _golden("tiny")
    state_dict = _state_dict(meta)
    change(state_dict)
    with pytest.raises(ValueError, match=message):
        amused_vqvae.convert(meta["config"], state_dict,
                             TINY_TOKENS_PER_SIDE)


def test_the_amused_vqgan_round_trips_its_keras_config(tiny):
    _, golden, vqgan = tiny
    again = VQGAN.from_config(json.loads(json.dumps(vqgan.get_config())))
    assert again.config == vqgan.config
    again.set_weights(vqgan.get_weights())
    ids = tf.constant(golden["decode_ids"])
    np.testing.assert_array_equal(again.decode(ids), vqgan.decode(ids))
