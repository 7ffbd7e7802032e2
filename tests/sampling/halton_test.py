"""Decoding in the Halton order (Besnier et al., ICLR 2025) against the
authors' HaltonSampler (tests/golden/make_halton_golden.py), and its
invariants: each position uncovered once, known tokens kept, XLA."""

import dataclasses
import itertools
import os
import types

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.conditioning import Condition
from muse_tf.configs import SamplerConfig
from muse_tf.sampling.guided import generate_tokens
from muse_tf.sampling.halton import halton_order, halton_ranks
from muse_tf.sampling.sampler import decode, masked_count_after_step
from muse_tf.sampling.settings import StageSettings, seed_pair

_GOLDEN = np.load(os.path.join(os.path.dirname(__file__), "..", "golden",
                               "halton_decoding.npz"))
_DECODES = sorted(
    (int(side), int(steps)) for _, side, steps in (
        k.split("_") for k in _GOLDEN.files if k.startswith("uncovered_")))
# Halton-MaskGIT's decoding: its order, arccos schedule and count rule.
_REFERENCE = {"unmask_order": "halton", "schedule": "arccos",
              "mask_count_rule": "halton"}
_VOCAB = 4


def _uncovered_at(tokens, num_steps, **options):
    """Runs `decode` eagerly on uniform logits and returns, per example,
    the 0-based step at which each position was uncovered (-1: known)."""
    batch, length = tokens.shape
    logits = tf.zeros([batch, length, _VOCAB])
    masked = []

    def tokens_to_logits(current, step):
        # Eager: the while loop runs as a Python loop, so this records.
        masked.append(current.numpy() == _VOCAB)
        return logits

    final = decode(tokens_to_logits, tokens, tf.constant([0, 1]),
                   num_steps=num_steps, mask_token_id=_VOCAB, **options)
    masked.append(final.numpy() == _VOCAB)
    steps = np.full([batch, length], -1)
    for step, (before, after) in enumerate(itertools.pairwise(masked)):
        # Once uncovered, a position is never masked again.
        assert not (after & ~before).any()
        steps[before & ~after] = step
    return steps


@pytest.mark.parametrize("side", [4, 8, 12, 16, 24, 32])
def test_order_is_the_authors_build_halton_mask(side):
    np.testing.assert_array_equal(halton_order(side),
                                  _GOLDEN[f"order_{side}"])


def test_order_covers_grids_beyond_the_authors_10000_points():
    # Their 10,000 points reach 4,090 of a 64x64 grid's cells (every
    # cell up to 49x49); ours are drawn until all are, so the order is a
    # permutation.
    order = halton_order(64)
    np.testing.assert_array_equal(np.sort(order), np.arange(64 * 64))
    ranks = halton_ranks(64 * 64)
    np.testing.assert_array_equal(ranks[order], np.arange(64 * 64))
    with pytest.raises(ValueError, match="square token grid"):
        halton_ranks(24)


@pytest.mark.parametrize("side, num_steps", _DECODES,
                         ids=lambda v: str(v))
def test_decode_uncovers_what_the_authors_sampler_does_at_each_step(
        side, num_steps):
    tokens = tf.fill([1, side * side], _VOCAB)
    got = _uncovered_at(tokens, num_steps, **_REFERENCE)
    np.testing.assert_array_equal(got[0],
                                  _GOLDEN[f"uncovered_{side}_{num_steps}"])


def test_halton_counts_match_the_authors_under_xla():
    # One compiled function for every case: T and N are runtime inputs.
    @tf.function(jit_compile=True)
    def counts(num_steps, total):
        steps = tf.minimum(tf.range(32), num_steps - 1)
        return masked_count_after_step(steps, num_steps, total, total,
                                       "arccos", "halton")

    for side, num_steps in _DECODES:
        length = side * side
        per_step = np.bincount(_GOLDEN[f"uncovered_{side}_{num_steps}"],
                               minlength=num_steps)
        expected = length - np.cumsum(per_step)
        got = counts(tf.constant(num_steps), tf.constant(length)).numpy()
        np.testing.assert_array_equal(got[:num_steps], expected[:32])


def test_with_our_schedule_the_counts_are_the_confidence_decodes():
    # The order alone changes which positions, not how many per step.
    tokens = tf.fill([1, 64], _VOCAB)
    halton = _uncovered_at(tokens, 8, unmask_order="halton")
    confidence = _uncovered_at(tokens, 8, choice_temperature=0.0)
    np.testing.assert_array_equal(np.bincount(halton[0]),
                                  np.bincount(confidence[0]))
    order_steps = halton[0][halton_order(8)]
    assert (np.diff(order_steps) >= 0).all()


@pytest.mark.parametrize("rule", ["maskgit", "halton"])
def test_inpainting_keeps_known_tokens_and_uncovers_the_rest_in_order(rule):
    rng = np.random.default_rng(0)
    side, num_steps = 8, 6
    hole = rng.random([2, side * side]) < 0.6
    known = rng.integers(0, _VOCAB, hole.shape)
    start = tf.constant(np.where(hole, _VOCAB, known), tf.int32)
    steps = _uncovered_at(start, num_steps, unmask_order="halton",
                          schedule="arccos", mask_count_rule=rule)
    for row in range(2):
        assert ((steps[row] >= 0) == hole[row]).all()
        # Every unknown position once, in the Halton order of the unknown.
        along = steps[row][halton_order(side)]
        along = along[along >= 0]
        assert (np.diff(along) >= 0).all()
        assert along[-1] == num_steps - 1


class _RecordingModel:
    """A `DecodesFromMemory` stand-in with uniform logits that records the
    tokens of each step (eagerly)."""

    config = types.SimpleNamespace(mask_token_id=_VOCAB)

    def __init__(self):
        self.masked = []

    def attention_memory(self, *inputs):
        return ()

    def logits_from_memory(self, tokens, memory):
        self.masked.append(tokens.numpy()[:1] == _VOCAB)
        return tf.zeros(tokens.shape + [_VOCAB])


def test_sampler_config_reaches_the_guided_loop():
    model = _RecordingModel()
    sampler = dataclasses.replace(SamplerConfig(num_steps=8), **_REFERENCE)
    condition = Condition(tf.zeros([1, 2, 3]), tf.ones([1, 2], tf.bool))
    generate_tokens(model, sampler, tf.fill([1, 64], _VOCAB), condition,
                    condition, seed_pair(tf.constant(3, tf.int64)),
                    StageSettings(tf.constant(8), tf.constant(2.0)))
    per_step = [int(a.sum() - b.sum())
                for a, b in itertools.pairwise(model.masked)]
    expected = np.bincount(_GOLDEN["uncovered_8_8"])
    assert per_step == expected[:-1].tolist()


@pytest.mark.parametrize("rule", ["maskgit", "halton"])
def test_halton_decode_compiles_under_xla_and_keeps_known_tokens(rule):
    @tf.function(jit_compile=True)
    def run(tokens, num_steps):
        logits = tf.random.stateless_normal(tokens.shape + [_VOCAB], [0, 5])
        return decode(lambda current, step: logits, tokens,
                      tf.constant([1, 2]), num_steps=num_steps,
                      mask_token_id=_VOCAB, unmask_order="halton",
                      schedule="arccos", mask_count_rule=rule)

    rng = np.random.default_rng(1)
    hole = rng.random([2, 256]) < 0.7
    known = rng.integers(0, _VOCAB, hole.shape)
    start = tf.constant(np.where(hole, _VOCAB, known), tf.int32)
    for num_steps in (1, 12):
        out = run(start, tf.constant(num_steps)).numpy()
        np.testing.assert_array_equal(out[~hole], known[~hole])
        assert ((out >= 0) & (out < _VOCAB)).all()
    assert run.experimental_get_tracing_count() == 1


def test_sampler_config_names_an_unknown_order_or_rule():
    with pytest.raises(ValueError, match="unmask_order 'random'"):
        SamplerConfig(unmask_order="random")
    with pytest.raises(ValueError, match="mask_count_rule 'ceil'"):
        SamplerConfig(mask_count_rule="ceil")
    config = SamplerConfig(**_REFERENCE)
    assert SamplerConfig.from_dict(config.to_dict()) == config
