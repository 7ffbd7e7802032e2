"""The super-res transformer and the class-conditional transformer."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from muse_tf.conditioning import Condition
from muse_tf.configs import SamplerConfig
from muse_tf.models.class_conditional import ClassConditionalTransformer
from muse_tf.models.super_res import MuseSuperRes
from muse_tf.presets import get_config
from muse_tf.sampling.guided import generate_tokens
from muse_tf.sampling.settings import StageSettings


@pytest.fixture(scope="module")
def sr_config():
    return get_config("tiny_cascade").super_res.transformer


@pytest.fixture(scope="module")
def super_res(sr_config):
    return MuseSuperRes(sr_config)


def _inputs(c, batch=2):
    high = tf.random.stateless_uniform(
        [batch, c.sequence_length], [0, 1], 0, c.codebook_size + 1, tf.int32)
    low = tf.random.stateless_uniform(
        [batch, c.low_res_sequence_length], [0, 2], 0,
        c.low_res_codebook_size, tf.int32)
    text = tf.random.stateless_normal([batch, 5, c.text_dim], [0, 3])
    return high, text, tf.ones([batch, 5], tf.bool), low


def _round_trip(model):
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    return keras.saving.deserialize_keras_object(config)


def test_logits_depend_on_the_low_res_tokens_and_the_text(super_res,
                                                          sr_config):
    high, text, mask, low = _inputs(sr_config)
    logits = super_res(high, text, mask, low)
    assert logits.shape == (2, sr_config.sequence_length,
                            sr_config.codebook_size)
    other_low = (low + 1) % sr_config.low_res_codebook_size
    assert not np.allclose(logits, super_res(high, text, mask, other_low))
    assert not np.allclose(logits, super_res(high, text + 1.0, mask, low))


def test_wrong_low_res_shape_is_a_value_error(super_res, sr_config):
    high, text, mask, _ = _inputs(sr_config)
    with pytest.raises(ValueError, match="low_res_tokens"):
        super_res(high, text, mask, tf.zeros([2, 5], tf.int32))


def test_super_res_config_round_trip_keeps_outputs(super_res, sr_config,
                                                   tmp_path):
    restored = _round_trip(super_res)
    assert restored.config == super_res.config
    path = str(tmp_path / "sr.weights.h5")
    super_res.save_weights(path)
    restored.load_weights(path)
    inputs = _inputs(sr_config)
    np.testing.assert_allclose(super_res(*inputs), restored(*inputs),
                               atol=1e-6)


def test_super_res_decoding_changes_only_masked_positions(super_res,
                                                          sr_config):
    high, text, mask, low = _inputs(sr_config)
    known = high % sr_config.codebook_size
    masked = tf.random.stateless_uniform(known.shape, [5, 5]) < 0.5
    start = tf.where(masked, sr_config.mask_token_id, known)
    out = generate_tokens(
        super_res, SamplerConfig(num_steps=3), start, Condition(text, mask),
        Condition(tf.zeros_like(text), mask), tf.constant([1, 2]),
        StageSettings(tf.constant(3), tf.constant(2.0)),
        extra_inputs=(low,)).numpy()
    np.testing.assert_array_equal(out[~masked.numpy()],
                                  known.numpy()[~masked.numpy()])
    assert (out >= 0).all() and (out < sr_config.codebook_size).all()


def test_class_conditional_logits_follow_the_class(tiny_config):
    c = tiny_config.transformer
    model = ClassConditionalTransformer(c, num_classes=10)
    tokens = tf.fill([2, c.sequence_length], c.mask_token_id)
    a = model(tokens, tf.constant([1, 1]))
    b = model(tokens, tf.constant([1, model.null_class_id]))
    np.testing.assert_allclose(a[0], b[0], atol=1e-6)
    assert not np.allclose(a[1], b[1])


def test_class_conditional_config_round_trip_keeps_outputs(tiny_config,
                                                           tmp_path):
    c = tiny_config.transformer
    model = ClassConditionalTransformer(c, num_classes=10)
    restored = _round_trip(model)
    assert restored.get_config() == model.get_config()
    path = str(tmp_path / "cc.weights.h5")
    model.save_weights(path)
    restored.load_weights(path)
    tokens = tf.fill([1, c.sequence_length], c.mask_token_id)
    np.testing.assert_allclose(model(tokens, tf.constant([3])),
                               restored(tokens, tf.constant([3])), atol=1e-6)
