"""The decoding loop computes the attention memory once per call, not once
per step; these tests hold that speed-up to the per-step forward pass."""

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.conditioning import Condition
from muse_tf.layers.attention import MemoryAttention
from muse_tf.models.super_res import MuseSuperRes
from muse_tf.models.transformer import MuseTransformer
from muse_tf.presets import get_config
from muse_tf.sampling.guided import generate_tokens
from muse_tf.sampling.settings import StageSettings, seed_pair


class EveryStepForward:
    """`model` as the loop called it before the split: the whole forward
    pass, memory included, at every step."""

    def __init__(self, model):
        self.model = model
        self.config = model.config

    def attention_memory(self, *condition):
        return condition

    def logits_from_memory(self, tokens, condition):
        return self.model(tokens, *condition)


def test_attend_to_projected_memory_equals_keras_attention():
    layer = MemoryAttention(2, 8)
    query = tf.random.stateless_normal([2, 5, 16], [1, 1])
    memory = tf.random.stateless_normal([2, 3, 16], [1, 2])
    mask = tf.constant([[[True, True, False]], [[True, False, False]]])
    expected = layer(query, memory, attention_mask=mask)
    got = layer.attend(query, layer.project_memory(memory), mask)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def _condition(config, batch, extra=()):
    states = tf.random.stateless_normal([batch, 5, config.text_dim], [2, 1])
    mask = tf.constant([[True] * 5, [True, True, True, False, False]])
    return (Condition(states, mask),
            Condition(tf.zeros_like(states), tf.ones_like(mask))), extra


@pytest.mark.parametrize("stage", ["base", "super_res"])
def test_memory_once_per_call_gives_the_tokens_of_a_full_forward_per_step(
        stage):
    cascade = get_config("tiny_cascade")
    if stage == "base":
        model = MuseTransformer(cascade.transformer)
        extra = ()
    else:
        model = MuseSuperRes(cascade.super_res.transformer)
        extra = (tf.random.stateless_uniform(
            [2, model.config.low_res_sequence_length], [3, 1], 0,
            model.config.low_res_codebook_size, tf.int32),)
    config = model.config
    condition, extra = _condition(config, 2, extra)
    start = tf.fill([2, config.sequence_length], config.mask_token_id)
    seed = seed_pair(tf.constant(7, tf.int64))

    def tokens(m):
        run = tf.function(lambda: generate_tokens(
            m, cascade.sampler, start, *condition, seed,
            StageSettings(tf.constant(6), tf.constant(3.0)),
            extra_inputs=extra), jit_compile=True)
        return run().numpy()

    np.testing.assert_array_equal(tokens(model),
                                  tokens(EveryStepForward(model)))
