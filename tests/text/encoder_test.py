
import numpy as np
import pytest
import tensorflow as tf

from muse_tf.configs import TextConfig
from muse_tf.text.encoder import HubTextEncoder, build_text_encoder


def test_tokenizer_matches_reference_ids(golden, golden_encoder):
    ids, mask = golden_encoder.tokenizer(tf.constant(golden["sentences"]))
    np.testing.assert_array_equal(ids.numpy(), golden["input_ids"])
    np.testing.assert_array_equal(mask.numpy(), golden["attention_mask"])


def test_states_match_reference_implementation(golden, golden_encoder):
    states, _ = golden_encoder(tf.constant(golden["sentences"]))
    valid = golden["attention_mask"]
    np.testing.assert_allclose(states.numpy()[valid], golden["states"][valid],
                               atol=2e-5)


def test_sentence_embeddings_match_reference(golden, golden_encoder):
    got = golden_encoder.sentence_embedding(tf.constant(golden["sentences"]))
    np.testing.assert_allclose(got.numpy(), golden["sentence_embeddings"],
                               atol=1e-5)


def test_long_prompt_is_truncated_to_fixed_length(golden_encoder):
    prompt = " ".join(["ladybug"] * 200)
    states, mask = golden_encoder(tf.constant([prompt, "a"]))
    n = golden_encoder.max_length
    assert states.shape == (2, n, 384)
    assert mask.numpy()[0].all() and mask.numpy()[1].sum() == 3


def test_hub_encoder_loads_a_savedmodel_by_path(hub_encoder_path):
    encoder = build_text_encoder(TextConfig(
        kind="hub", handle=hub_encoder_path, max_length=10, output_dim=8))
    assert isinstance(encoder, HubTextEncoder)
    states, mask = encoder(tf.constant(["a red ladybug", "cat"]))
    assert states.shape == (2, 10, 8)
    np.testing.assert_array_equal(mask.numpy().sum(1), [3, 1])
    # Padding beyond the module's own length is zeros and masked out.
    assert not states.numpy()[:, 6:].any()
    again, _ = encoder(tf.constant(["A red ladybug", "cat"]))
    np.testing.assert_allclose(states, again)


def test_hub_encoder_with_wrong_width_is_a_value_error(hub_encoder_path):
    with pytest.raises(ValueError, match=r"states \[batch, length, 16\]"):
        build_text_encoder(TextConfig(kind="hub", handle=hub_encoder_path,
                                      max_length=10, output_dim=16))
