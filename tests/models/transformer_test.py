import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from muse_tf.models.discriminator import PatchDiscriminator
from muse_tf.models.transformer import MuseTransformer
from muse_tf.models.vqgan import VQGAN
from muse_tf.text.bert import BertEncoder


def _inputs(c, batch=2):
    tokens = tf.random.stateless_uniform(
        [batch, c.sequence_length], [0, 1], 0, c.codebook_size + 1, tf.int32)
    text = tf.random.stateless_normal([batch, 5, c.text_dim], [0, 2])
    return tokens, text, tf.ones([batch, 5], tf.bool)


def test_logits_shape_and_dtype(tiny_config):
    c = tiny_config.transformer
    logits = MuseTransformer(c)(*_inputs(c))
    assert logits.shape == (2, c.sequence_length, c.codebook_size)
    assert logits.dtype == tf.float32


def test_padded_text_positions_are_ignored(tiny_config):
    c = tiny_config.transformer
    model = MuseTransformer(c)
    tokens, text, _ = _inputs(c)
    mask = tf.constant([[True, True, False, False, False]] * 2)
    changed = tf.concat([text[:, :2], 100.0 + text[:, 2:]], axis=1)
    np.testing.assert_allclose(model(tokens, text, mask),
                               model(tokens, changed, mask), atol=1e-5)
    assert not np.allclose(model(tokens, text, tf.ones_like(mask)),
                           model(tokens, changed, tf.ones_like(mask)))


def test_wrong_token_shape_is_a_value_error(tiny_config):
    c = tiny_config.transformer
    _, text, mask = _inputs(c)
    with pytest.raises(ValueError, match="token_ids"):
        MuseTransformer(c)(tf.zeros([2, 7], tf.int32), text, mask)


def _round_trip(model):
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    return keras.saving.deserialize_keras_object(config)


def test_transformer_config_round_trip_keeps_outputs(tiny_config, tmp_path):
    c = tiny_config.transformer
    model = MuseTransformer(c)
    restored = _round_trip(model)
    assert restored.config == model.config
    path = str(tmp_path / "t.weights.h5")
    model.save_weights(path)
    restored.load_weights(path)
    inputs = _inputs(c)
    np.testing.assert_allclose(model(*inputs), restored(*inputs), atol=1e-6)


def test_vqgan_config_round_trip_keeps_outputs(tiny_config, tmp_path):
    model = VQGAN(tiny_config.vqgan)
    restored = _round_trip(model)
    assert restored.config == model.config
    path = str(tmp_path / "v.weights.h5")
    model.save_weights(path)
    restored.load_weights(path)
    ids = tf.zeros([1, 8, 8], tf.int32) + tf.range(8)
    np.testing.assert_allclose(model.decode(ids), restored.decode(ids),
                               atol=1e-6)


def test_discriminator_and_bert_config_round_trip():
    disc = PatchDiscriminator(8, 2)
    disc(tf.zeros([1, 16, 16, 3]))
    assert _round_trip(disc).get_config() == disc.get_config()
    bert = BertEncoder(vocab_size=50, hidden_dim=16, num_layers=1,
                       num_heads=2, intermediate_dim=32, max_positions=16)
    assert _round_trip(bert).get_config() == bert.get_config()
