import os

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.data import pretokenize
from muse_tf.data.pipeline import to_model_range
from muse_tf.models.vqgan import VQGAN
from muse_tf.presets import FASHION_MNIST_CLASSES

CAPTIONS = ["a red square", "a green circle", "", "a blue star, Apple style",
            "a cat"]


@pytest.fixture(scope="module")
def vqgan(tiny_config):
    return VQGAN(tiny_config.vqgan, name="vqgan")


def _examples(tiny_config):
    size = tiny_config.vqgan.image_size
    images = tf.random.stateless_uniform([len(CAPTIONS), size, size, 3],
                                         [4, 2], 0, 256, tf.int32)
    return tf.data.Dataset.from_tensor_slices(
        {"image": tf.cast(images, tf.uint8), "caption": CAPTIONS})


def test_fingerprint_changes_with_any_input():
    key_a = pretokenize.fingerprint(["a cat", "a dog"], np.arange(3))
    key_b = pretokenize.fingerprint(["a dog", "a cat"], np.arange(3))
    key_c = pretokenize.fingerprint(["a cat", "a dog"], np.arange(4))
    assert len({key_a, key_b, key_c}) == 3
    assert key_a == pretokenize.fingerprint(["a cat", "a dog"], np.arange(3))


def test_shards_hold_the_encoders_outputs(tiny_config, vqgan, text_encoder,
                                          tmp_path):
    out = str(tmp_path / "tokens")
    examples = _examples(tiny_config)
    metadata = pretokenize.write_token_shards(
        examples, vqgan, out, key="k1", text_encoder=text_encoder, batch_size=2,
        examples_per_shard=2)
    assert metadata["num_examples"] == len(CAPTIONS)
    assert len([f for f in os.listdir(out) if f.endswith(".tfrecord")]) == 3
    assert not os.path.exists(out + ".partial")

    records, read_back, (null_states, null_mask) = (
        pretokenize.read_token_shards(out))
    assert read_back == metadata
    batch = pretokenize.parse_token_batch(
        next(iter(records.batch(len(CAPTIONS)))), metadata)
    images = next(iter(examples.batch(len(CAPTIONS))))["image"]
    expected_tokens = tf.reshape(vqgan.encode(to_model_range(images)),
                                 [len(CAPTIONS), -1])
    np.testing.assert_array_equal(batch["tokens"], expected_tokens)
    states, mask = text_encoder(tf.constant(CAPTIONS))
    # float16 storage: within its precision of the float32 states.
    np.testing.assert_allclose(batch["text_states"], states, atol=2e-3,
                               rtol=2e-3)
    np.testing.assert_array_equal(batch["text_mask"], mask)
    assert batch["text_states"].shape[0] == len(CAPTIONS)  # Static.
    # The null condition is the empty caption's encoding.
    np.testing.assert_allclose(null_states, batch["text_states"][2:3],
                               atol=2e-3, rtol=2e-3)
    np.testing.assert_array_equal(null_mask, mask[2:3])


class _PooledEncoder(tf.Module):
    """The tiny encoder with a third output, a pooled vector per prompt,
    as CLIP's (aMUSEd's U-ViT is conditioned on it)."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def __call__(self, prompts):
        states, mask = self.encoder(prompts)
        return states, mask, 2.0 * states[:, 0] + 1.0


def test_shards_hold_a_pooled_output_when_the_encoder_gives_one(
        tiny_config, vqgan, text_encoder, tmp_path):
    out = str(tmp_path / "tokens")
    encoder = _PooledEncoder(text_encoder)
    metadata = pretokenize.write_token_shards(
        _examples(tiny_config), vqgan, out, key="k", text_encoder=encoder)
    records, _, (_, _, null_pooled) = pretokenize.read_token_shards(out)
    batch = pretokenize.parse_token_batch(
        next(iter(records.batch(len(CAPTIONS)))), metadata)
    _, _, pooled = encoder(tf.constant(CAPTIONS))
    # float16 storage, read back as float32.
    assert batch["text_pooled"].dtype == tf.float32
    np.testing.assert_allclose(batch["text_pooled"], pooled, atol=4e-3,
                               rtol=2e-3)
    np.testing.assert_allclose(null_pooled, pooled[2:3], atol=4e-3,
                               rtol=2e-3)


def test_rewritten_shards_replace_the_old_ones(tiny_config, vqgan,
                                               text_encoder, tmp_path):
    out = str(tmp_path / "tokens")
    examples = _examples(tiny_config)
    pretokenize.write_token_shards(examples, vqgan, out, "k1", text_encoder,
                                   examples_per_shard=2)
    pretokenize.write_token_shards(examples.take(2), vqgan, out, "k2",
                                   text_encoder, examples_per_shard=2)
    metadata = pretokenize.read_metadata(out)
    assert (metadata["key"], metadata["num_examples"]) == ("k2", 2)
    records, _, _ = pretokenize.read_token_shards(out)
    assert sum(1 for _ in records) == 2


def test_missing_or_empty_shards_are_value_errors(tiny_config, vqgan,
                                                  text_encoder, tmp_path):
    with pytest.raises(ValueError, match="No finished token shards"):
        pretokenize.read_token_shards(str(tmp_path / "none"))
    with pytest.raises(ValueError, match="no examples"):
        pretokenize.write_token_shards(
            _examples(tiny_config).take(0), vqgan, str(tmp_path / "empty"),
            "k", text_encoder)


def _class_examples(tiny_config, captions):
    size = tiny_config.vqgan.image_size
    return tf.data.Dataset.from_tensor_slices(
        {"image": tf.zeros([len(captions), size, size, 3], tf.uint8),
         "caption": captions})


@pytest.mark.parametrize("captions", [
    ["Trouser", "ankle boot", "9", "Bag"],
    [1, 9, 9, 8],  # A TFDS integer label read as the caption.
], ids=["names", "ids"])
def test_class_shards_read_the_class_from_captions(tiny_config, vqgan,
                                                   tmp_path, captions):
    out = str(tmp_path / "tokens")
    pretokenize.write_token_shards(_class_examples(tiny_config, captions),
                                   vqgan, out, "k",
                                   class_names=FASHION_MNIST_CLASSES)
    records, metadata, _ = pretokenize.read_token_shards(out)
    batch = pretokenize.parse_token_batch(
        next(iter(records.batch(4))), metadata)
    assert batch["class_id"].numpy().tolist() == [1, 9, 9, 8]


def test_a_caption_that_names_no_class_is_a_value_error(tiny_config, vqgan,
                                                        tmp_path):
    with pytest.raises(ValueError, match="unknown class 'unicorn'"):
        pretokenize.write_token_shards(
            _class_examples(tiny_config, ["Bag", "unicorn"]), vqgan,
            str(tmp_path / "tokens"), "k", class_names=FASHION_MNIST_CLASSES)
