"""Decoding invariants of the parallel decoding loop, with a tiny model."""

import math
import os

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.configs import SamplerConfig
from muse_tf.models.transformer import MuseTransformer
from muse_tf.sampling.sampler import (
    choice_temperature_at,
    decode,
    sample_categorical,
    sampler_step,
)


@pytest.fixture(scope="module")
def model_and_text(tiny_config):
    c = tiny_config.transformer
    model = MuseTransformer(c)
    text = tf.random.stateless_normal([2, 5, c.text_dim], [0, 1])
    mask = tf.constant([[True] * 5, [True, True, False, False, False]])
    return model, text, mask


def _logits_fn(model_and_text):
    model, text, mask = model_and_text
    return lambda tokens, step=None: model(tokens, text, mask)


# Masked-token counts of the official MaskGIT decode (parallel_decode.py)
# at each step: rows [N masked, T steps, start step, the count in the
# input of each call...] (tests/golden/make_maskgit_golden.py).
_OFFICIAL_COUNTS = np.load(os.path.join(
    os.path.dirname(__file__), "..", "golden",
    "maskgit_decoding.npz"))["cases"].tolist()


@pytest.mark.parametrize("case", _OFFICIAL_COUNTS,
                         ids=lambda c: f"N{c[0]}-T{c[1]}-from{c[2]}")
def test_masked_counts_match_the_official_decode(case):
    masked, num_steps, start = case[:3]
    length, vocab = 1024, 32
    logits = tf.random.stateless_normal([1, length, vocab], [0, masked])
    counts = []

    def tokens_to_logits(tokens, step):
        # Eager: the while loop runs as a Python loop, so this records.
        counts.append(int(tf.reduce_sum(tf.cast(tokens == vocab, tf.int32))))
        return logits

    tokens = tf.where(tf.range(length)[None] < masked, vocab, 0)
    final = decode(tokens_to_logits, tokens, tf.constant([0, 1]),
                   num_steps=num_steps, mask_token_id=vocab,
                   start_step=start)
    assert counts == case[3:3 + num_steps - start]
    assert not (final.numpy() == vocab).any()


@pytest.mark.parametrize("num_steps", [1, 4, 12])
def test_each_step_keeps_known_tokens_and_samples_every_position(
        tiny_config, model_and_text, num_steps):
    c = tiny_config.transformer
    logits_fn = _logits_fn(model_and_text)
    tokens = tf.fill([2, c.sequence_length], c.mask_token_id)
    initial = tf.fill([2], c.sequence_length)
    for step in range(num_steps):
        previous = tokens.numpy()
        tokens, sampled = sampler_step(
            tokens, logits_fn(tokens), tf.constant(step), tf.constant([0, 7]),
            num_steps=num_steps, initial_masked=initial,
            mask_token_id=c.mask_token_id, choice_temperature=4.5)
        now = tokens.numpy()
        known = previous != c.mask_token_id
        # Known tokens never change, and are never re-masked.
        np.testing.assert_array_equal(now[known], previous[known])
        np.testing.assert_array_equal(sampled.numpy()[known], previous[known])
        assert (sampled.numpy() != c.mask_token_id).all()
        per_row = (now == c.mask_token_id).sum(axis=1)
        assert per_row[0] == per_row[1]


def _xla_decode(model_and_text, config, num_steps):
    logits_fn = _logits_fn(model_and_text)

    @tf.function(jit_compile=True)
    def run(tokens, seed):
        return decode(logits_fn, tokens, seed, num_steps=num_steps,
                      mask_token_id=config.mask_token_id)
    return run


def test_decode_compiles_under_xla_and_fills_every_position(
        tiny_config, model_and_text):
    c = tiny_config.transformer
    run = _xla_decode(model_and_text, c, 6)
    start = tf.fill([2, c.sequence_length], c.mask_token_id)
    out = run(start, tf.constant([1, 2])).numpy()
    assert out.shape == (2, c.sequence_length)
    assert ((out >= 0) & (out < c.codebook_size)).all()
    # The compiled function is really XLA: its HLO can be dumped.
    assert "HloModule" in run.experimental_get_compiler_ir(
        start, tf.constant([1, 2]))(stage="hlo")


def test_same_seed_same_tokens_other_seed_other_tokens(
        tiny_config, model_and_text):
    c = tiny_config.transformer
    run = _xla_decode(model_and_text, c, 4)
    start = tf.fill([2, c.sequence_length], c.mask_token_id)
    a = run(start, tf.constant([5, 6])).numpy()
    b = run(start, tf.constant([5, 6])).numpy()
    other = run(start, tf.constant([5, 7])).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, other)


def test_decode_keeps_known_tokens(tiny_config, model_and_text):
    c = tiny_config.transformer
    run = _xla_decode(model_and_text, c, 4)
    rng = np.random.default_rng(0)
    known = rng.integers(0, c.codebook_size, [2, c.sequence_length])
    hole = rng.random([2, c.sequence_length]) < 0.5
    start = np.where(hole, c.mask_token_id, known).astype(np.int32)
    out = run(tf.constant(start), tf.constant([3, 3])).numpy()
    np.testing.assert_array_equal(out[~hole], known[~hole])
    assert (out != c.mask_token_id).all()


def test_num_steps_is_a_runtime_input(tiny_config, model_and_text):
    c = tiny_config.transformer
    logits_fn = _logits_fn(model_and_text)

    @tf.function(jit_compile=True)
    def run(tokens, num_steps):
        return decode(logits_fn, tokens, tf.constant([0, 0]),
                      num_steps=num_steps, mask_token_id=c.mask_token_id)

    start = tf.fill([2, c.sequence_length], c.mask_token_id)
    for steps in (1, 5):
        out = run(start, tf.constant(steps)).numpy()
        assert (out != c.mask_token_id).all()
    assert run.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("jit_compile", [False, True])
def test_sample_categorical_draws_from_the_softmax(jit_compile):
    # 40,000 draws from one row with a -inf entry (top-k filtering): the
    # frequencies match the softmax within sampling noise (sd < 0.0025)
    # and the excluded entry is never drawn.
    logits = tf.constant([2.0, -math.inf, 0.5, 1.0, -1.0, 0.0])
    rows = tf.tile(logits[None], [40_000, 1])
    draw = tf.function(sample_categorical, jit_compile=jit_compile)
    samples = draw(rows, tf.constant([3, 4])).numpy()
    assert samples.shape == (40_000,)
    frequencies = np.bincount(samples, minlength=6) / len(samples)
    np.testing.assert_allclose(frequencies, tf.nn.softmax(logits).numpy(),
                               atol=0.012)
    assert frequencies[1] == 0
    assert not np.array_equal(samples, draw(rows, tf.constant([3, 5])))


@pytest.mark.parametrize("jit_compile", [False, True])
def test_sample_categorical_over_many_codes_in_blocks(jit_compile):
    # 1,000 codes (blocks of 32, the last one padded), 20 excluded: over
    # 100,000 draws the frequencies are within total variation 0.05 of the
    # softmax (measured 0.025, numpy's own sampler 0.026: sampling noise;
    # a block or offset error shifts whole blocks of mass), the excluded
    # codes never drawn.
    logits = tf.random.stateless_normal([1000], [0, 1]) * 2.0
    excluded = np.arange(400, 420)
    logits = tf.tensor_scatter_nd_update(
        logits, excluded[:, None], tf.fill([20], -math.inf))
    rows = tf.tile(logits[None], [100_000, 1])
    draw = tf.function(sample_categorical, jit_compile=jit_compile)
    samples = draw(rows, tf.constant([7, 8])).numpy()
    frequencies = np.bincount(samples, minlength=1000) / len(samples)
    distance = np.abs(frequencies - tf.nn.softmax(logits).numpy()).sum() / 2
    assert distance < 0.05, distance
    assert frequencies[excluded].sum() == 0


def test_choice_annealings_reach_zero_at_or_after_the_last_step():
    # aMUSEd's linspace(2, 0, 12): 2 at the first step, 0 at the last;
    # MaskGIT's 2·(1 − (t+1)/T) is already below 2 at the first.
    steps = tf.range(12)
    linspace = choice_temperature_at(steps, 12, 2.0, "linspace").numpy()
    np.testing.assert_allclose(linspace, np.linspace(2, 0, 12), atol=1e-6)
    maskgit = choice_temperature_at(steps, 12, 2.0, "maskgit").numpy()
    np.testing.assert_allclose(maskgit, 2 * (1 - np.arange(1, 13) / 12),
                               atol=1e-6)
    with pytest.raises(ValueError, match="choice annealing 'cosine'"):
        choice_temperature_at(steps, 12, 2.0, "cosine")


@pytest.mark.parametrize("mask_count_from, expected", [
    # 48 of 64 tokens masked; after step 0 of 4 the cosine schedule keeps
    # ⌊N·cos(π/8)⌋ masked: N = 48 masked, or N = 64 the whole sequence
    # (clamped to the 47 still unknown).
    ("masked", math.floor(48 * math.cos(math.pi / 8))),
    ("length", 47)])
def test_mask_counts_from_the_masked_tokens_or_the_sequence(
        mask_count_from, expected):
    vocab, length = 16, 64
    logits = tf.random.stateless_normal([1, length, vocab], [0, 2])
    counts = []

    def tokens_to_logits(tokens, step):
        counts.append(int(tf.reduce_sum(tf.cast(tokens == vocab, tf.int32))))
        return logits

    tokens = tf.where(tf.range(length)[None] < 48, vocab, 3)
    decode(tokens_to_logits, tokens, tf.constant([0, 1]), num_steps=4,
           mask_token_id=vocab, mask_count_from=mask_count_from)
    assert counts[:2] == [48, expected]


def test_temperature_zero_samples_the_most_likely_token():
    vocab, length = 16, 64
    logits = tf.random.stateless_normal([2, length, vocab], [0, 3])
    tokens = tf.fill([2, length], vocab)
    _, sampled = sampler_step(
        tokens, logits, 0, tf.constant([0, 1]), num_steps=4,
        initial_masked=tf.fill([2], length), mask_token_id=vocab,
        choice_temperature=0.0, temperature=0.0)
    np.testing.assert_array_equal(sampled, tf.argmax(logits, -1))


def test_sampler_config_names_an_unknown_variant():
    with pytest.raises(ValueError, match="choice_annealing 'linear'"):
        SamplerConfig(choice_annealing="linear")
    with pytest.raises(ValueError, match="mask_count_from 'all'"):
        SamplerConfig(mask_count_from="all")
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        SamplerConfig(temperature=-1.0)


@pytest.mark.parametrize("cutoff, masked", [("rank", 14), ("value", 0)])
def test_tied_confidences_are_cut_by_rank_or_by_value(cutoff, masked):
    # Every position sees the same logits and no noise: all confidences
    # tie. By rank, the scheduled ⌊16·cos(π/8)⌋ = 14 stay masked; by value
    # (MaskGIT's and aMUSEd's code), none is below the cut-off.
    vocab, length = 8, 16
    logits = tf.tile(tf.random.stateless_normal([1, 1, vocab], [0, 4]),
                     [1, length, 1])
    tokens = tf.fill([1, length], vocab)
    next_tokens, _ = sampler_step(
        tokens, logits, 0, tf.constant([0, 1]), num_steps=4,
        initial_masked=tf.fill([1], length), mask_token_id=vocab,
        choice_temperature=0.0, temperature=0.0, cutoff=cutoff)
    assert int(tf.reduce_sum(tf.cast(next_tokens == vocab, tf.int32))) == (
        masked)
