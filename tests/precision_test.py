"""Choosing the precision, and what bf16 changes in a model's output."""

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.precision import choose, computing_in


def _cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nflags\t\t: fpu sse2 avx2 {flags}\n"
                    f"\nprocessor\t: 1\nflags\t\t: fpu sse2 avx2 {flags}\n")
    return str(path)


@pytest.mark.parametrize("flags, device_types, expected", [
    ("avx512f avx512_bf16", {"CPU"}, ("bf16", False, "avx512_bf16")),
    ("amx_bf16 amx_tile", {"CPU"}, ("bf16", False, "amx_bf16")),
    ("avx512f", {"CPU"}, ("fp32", True, "no AVX512-BF16 or AMX")),
    ("", {"CPU", "TPU"}, ("bf16", True, "TPU present")),
    ("", {"CPU", "GPU"}, ("bf16", True, "GPU present")),
])
def test_auto_picks_bf16_only_where_it_is_multiplied_natively(
        tmp_path, flags, device_types, expected):
    choice = choose("auto", device_types, _cpuinfo(tmp_path, flags))
    name, xla, reason = expected
    assert (choice.name, choice.xla) == (name, xla)
    assert reason in str(choice) and str(choice).startswith(
        f"precision {name} (auto: ")


def test_asked_precisions_are_kept_and_others_refused(tmp_path):
    no_bf16 = _cpuinfo(tmp_path, "")
    assert choose("bf16", {"CPU"}, no_bf16).name == "bf16"
    assert choose("fp32", {"TPU"}, no_bf16).dtype_policy == "float32"
    assert choose("bf16", {"CPU"}, no_bf16).dtype_policy == "mixed_bfloat16"
    assert choose("auto", {"CPU"}, str(tmp_path / "missing")).name == "fp32"
    with pytest.raises(ValueError, match="precision must be one of auto, "
                       "fp32, bf16, not 'fp16'"):
        choose("fp16")


def test_computing_in_bf16_changes_the_compute_not_the_weights(tiny_config):
    from muse_tf.models.transformer import MuseTransformer
    model = MuseTransformer(tiny_config.transformer)
    c = tiny_config.transformer
    tokens = tf.random.stateless_uniform([2, c.sequence_length], [1, 2], 0,
                                         c.codebook_size, tf.int32)
    states = tf.random.stateless_normal([2, 5, c.text_dim], [3, 4])
    mask = tf.ones([2, 5], tf.bool)
    before = [w.numpy() for w in model.weights]
    fp32 = model(tokens, states, mask)
    with computing_in([model], choose("bf16")):
        bf16 = model(tokens, states, mask)
    again = model(tokens, states, mask)
    assert bf16.dtype == tf.float32  # The sampler's logits stay float32.
    assert 0 < np.abs(bf16 - fp32).max() < 0.1
    np.testing.assert_array_equal(again, fp32)
    assert all(layer.dtype_policy.name == "float32"
               for layer in model._flatten_layers())
    for weight, value in zip(model.weights, before):
        assert weight.dtype == "float32"
        np.testing.assert_array_equal(weight.numpy(), value)


@pytest.fixture(scope="module")
def fashion_pipeline():
    import muse_tf
    return muse_tf.load_pipeline("fashion_32", precision="fp32")


def test_bf16_predicts_the_tokens_fp32_does(fashion_pipeline):
    """Token agreement of a trained model (the bundled fashion_32): one
    decoding step's most likely token at each masked position of
    half-masked token grids it generated. Tolerance: 95% equal; the rest are
    near-ties that bf16's rounding (8 mantissa bits) reorders. A whole
    generation's tokens agree far less: one reordered choice changes what
    every later step sees, so its quality is compared by FID instead
    (benchmarks/README.md)."""
    stage = fashion_pipeline.stages[0]
    model = stage.transformer
    c = model.config
    tokens = fashion_pipeline.tokens(list(range(8)), seed=3)
    masked = tf.random.stateless_uniform([8, c.sequence_length], [7, 8]) < .5
    inputs = tf.where(masked, c.mask_token_id, tokens)
    condition, _ = fashion_pipeline.conditions(list(range(8)))
    fp32 = model(inputs, *condition.model_inputs())
    with computing_in([model], choose("bf16")):
        bf16 = model(inputs, *condition.model_inputs())
    agree = tf.boolean_mask(tf.argmax(fp32, -1) == tf.argmax(bf16, -1),
                            masked)
    assert float(tf.reduce_mean(tf.cast(agree, tf.float32))) >= 0.95
