"""UViTTransformer and its converter (muse_tf/convert/amused_transformer.py):
the logits of diffusers' UVit2DModel at random weights (golden files of
tests/golden/make_amused_uvit_golden.py), eager and XLA-compiled, at two
tiny configs and the real amused-256 and amused-512 ones; the decoding
loops' split into memory and steps; strict conversion; serialization."""

import json
import os
import resource
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from fresh_process import run_in_fresh_process

from muse_tf.configs import UViTConfig
from muse_tf.convert import amused_transformer
from muse_tf.models.uvit_transformer import UViTTransformer

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden")
sys.path.insert(0, GOLDEN)
import amused_params
import make_amused_uvit_golden  # numpy alone at import time

TOLERANCE = 1e-4
PARAMETERS = {"256": 603_537_664, "512": 608_257_792}


class _Golden:
    """One golden file: the reference config, weights and inputs."""

    def __init__(self, name):
        data = np.load(os.path.join(GOLDEN, f"amused_uvit_{name}.npz"))
        self.config = json.loads(str(data["config"]))
        self.manifest = json.loads(str(data["manifest"]))
        self.weight_seed = int(data["weight_seed"])
        ids = data["input_ids"]
        self.token_ids = tf.constant(ids.reshape(ids.shape[0], -1))
        text = make_amused_uvit_golden.golden_text_states(
            tuple(data["text_shape"]), int(data["text_seed"]))
        np.testing.assert_array_equal(text.reshape(-1)[:8],
                                      data["text_head"])
        self.text_states = tf.constant(text)
        self.pooled = tf.constant(data["pooled"])
        self.micro_conds = tf.constant(data["micro_conds"])
        self.positions, self.codes = data["positions"], data["codes"]
        self.logits = data["logits"]

    def state_dict(self):
        return amused_params.random_state_dict(self.manifest,
                                               self.weight_seed)

    def inputs(self):
        return (self.token_ids, self.text_states, self.pooled,
                self.micro_conds)

    def max_abs_diff(self, logits):
        kept = np.asarray(logits)[:, self.positions][:, :, self.codes]
        return float(np.abs(kept - self.logits).max())


@pytest.fixture(scope="module", params=["tiny", "tiny_resample"])
def tiny(request):
    golden = _Golden(request.param)
    return golden, amused_transformer.build_transformer(golden.config,
                                                        golden.state_dict())


def test_tiny_logits_match_diffusers_eager_and_xla(tiny):
    golden, model = tiny
    eager = model(*golden.inputs())
    assert eager.dtype == tf.float32
    assert eager.shape == (2, model.config.sequence_length,
                           model.config.codebook_size)
    assert golden.max_abs_diff(eager) <= TOLERANCE

    @tf.function(jit_compile=True)
    def compiled(token_ids, text_states, pooled, micro_conds):
        # As the decoding loops run it: the memory once, then the steps.
        memory = model.attention_memory(
            text_states, tf.ones(tf.shape(text_states)[:2], tf.bool), pooled,
            micro_conds)
        return model.logits_from_memory(token_ids, memory)

    assert golden.max_abs_diff(compiled(*golden.inputs())) <= TOLERANCE


def test_memory_then_steps_compute_what_call_computes(tiny):
    golden, model = tiny
    token_ids, text_states, pooled, micro_conds = golden.inputs()
    memory = model.attention_memory(text_states, None, pooled, micro_conds)
    np.testing.assert_allclose(model.logits_from_memory(token_ids, memory),
                               model(*golden.inputs()), rtol=0, atol=1e-6)
    defaults = tf.constant([model.config.micro_conds] * 2, tf.float32)
    np.testing.assert_allclose(
        model(token_ids, text_states, pooled),
        model(token_ids, text_states, pooled, defaults), rtol=0, atol=1e-6)
    assert model.decoding_model() is model


def test_mixed_bfloat16_gives_float32_logits_near_float32s(tiny):
    golden, model = tiny
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        half = UViTTransformer(model.config)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    half.set_weights(model.get_weights())
    logits = half(*golden.inputs())
    assert logits.dtype == tf.float32
    assert golden.max_abs_diff(logits) < 0.2  # bfloat16 has 8 bits.


def real_config_is_exact(name):
    """The real amused-{name} architecture at the golden random weights:
    logits within TOLERANCE, parameter count as docs/design.md §10.2."""
    start = time.time()
    golden = _Golden(name)
    model = amused_transformer.build_transformer(golden.config,
                                                 golden.state_dict())
    built = time.time()
    diff = golden.max_abs_diff(model(*golden.inputs()))
    assert model.count_params() == PARAMETERS[name], model.count_params()
    assert diff <= TOLERANCE, diff
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"amused-{name}: max abs diff {diff:.2e}; build and convert "
          f"{built - start:.0f} s, forward {time.time() - built:.0f} s, "
          f"peak {peak:.1f} GB")


@pytest.mark.full_size
@pytest.mark.parametrize("name", ["256", "512"])
def test_the_real_amused_architectures_at_random_weights_are_exact(name):
    # 6 GB: 600 M parameters as numpy arrays and as variables.
    out = run_in_fresh_process(__file__, f"real_config_is_exact({name!r})")
    print(out.strip().splitlines()[-1])


def test_the_real_manifests_have_the_documented_parameter_counts():
    for name, count in PARAMETERS.items():
        manifest = _Golden(name).manifest
        assert sum(int(np.prod(s)) for s in manifest.values()) == count
        assert len(manifest) == {"256": 474, "512": 478}[name]


# === Strictness ===

@pytest.fixture(scope="module")
def tiny_golden():
    return _Golden("tiny")


@pytest.mark.parametrize("change, message", [
    (lambda p: p.pop("transformer_layers.1.ff.net.2.weight"),
     ("transformer checkpoint has no parameter "
      "'transformer_layers.1.ff.net.2.weight'")),
    (lambda p: p.update({"up_block.upsample.conv.weight":
                         np.zeros((16, 16, 2, 2), np.float32)}),
     "unexpected parameter 'up_block.upsample.conv.weight'"),
    (lambda p: p.update({"mlm_layer.conv2.weight":
                         np.zeros((64, 12), np.float32)}),
     (r"'mlm_layer.conv2.weight' has shape \(64, 12\), expected "
      r"\(64, 12, 1, 1\)")),
    (lambda p: p.update({"down_block.attention_blocks.0.attn2.to_k.weight":
                         np.zeros((16, 17), np.float32)}),
     (r"'down_block.attention_blocks.0.attn2.to_k.weight' has shape "
      r"\(16, 17\), expected \(16, 16\)")),
], ids=["missing", "unexpected", "wrong-shape-conv", "wrong-shape-heads"])
def test_a_parameter_that_does_not_fit_is_a_value_error_naming_it(
        tiny_golden, change, message):
    state_dict = tiny_golden.state_dict()
    change(state_dict)
    with pytest.raises(ValueError, match=message):
        amused_transformer.build_transformer(tiny_golden.config, state_dict)


@pytest.mark.parametrize("change, message", [
    ({"use_bias": True}, "use_bias=True is not supported"),
    ({"ln_elementwise_affine": False},
     "ln_elementwise_affine=False is not supported"),
    ({"hidden_dropout": 0.1}, "hidden_dropout=0.1 is not supported"),
    ({"downsample": True}, "downsample .True. and upsample .False."),
    ({"norm_type": "layer_norm"}, "key 'norm_type' is not one of"),
    ({"micro_cond_embed_dim": 41}, "micro_cond_embed_dim 41 must be 5 x"),
])
def test_a_config_we_cannot_compute_is_a_value_error_naming_it(
        tiny_golden, change, message):
    with pytest.raises(ValueError, match=message):
        UViTConfig.from_diffusers({**tiny_golden.config, **change})


def test_the_config_reads_diffusers_json_and_round_trips():
    config = UViTConfig.from_diffusers(
        {**_Golden("512").config, "_class_name": "UVit2DModel",
         "_diffusers_version": "0.25.0.dev0"})
    assert config == UViTConfig(sample_size=32, downsample=True,
                                upsample=True,
                                micro_conds=(512.0, 512.0, 0.0, 0.0, 6.0))
    assert (config.sequence_length, config.image_tokens_per_side,
            config.inner_tokens_per_side, config.mask_token_id) == (
                1024, 32, 16, 8255)
    assert UViTConfig.from_dict(json.loads(json.dumps(
        config.to_dict()))) == config
    assert UViTConfig.from_diffusers(_Golden("256").config) == UViTConfig()


# === Keras serialization ===

def test_the_model_saves_and_reloads_with_its_weights(tiny_golden,
                                                      tmp_path):
    model = amused_transformer.build_transformer(tiny_golden.config,
                                                 tiny_golden.state_dict())
    serialized = json.loads(json.dumps(
        keras.saving.serialize_keras_object(model)))
    assert UViTConfig.from_dict(
        serialized["config"]["config"]) == model.config
    path = str(tmp_path / "uvit.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is UViTTransformer
    assert restored.config == model.config
    np.testing.assert_array_equal(restored(*tiny_golden.inputs()),
                                  model(*tiny_golden.inputs()))
