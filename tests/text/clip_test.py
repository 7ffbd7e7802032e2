"""aMUSEd's CLIP tokenizer and text encoder against transformers (golden
files of tests/golden/make_amused_clip_golden.py): identical ids, eager,
in a tf.function and from a SavedModel, for both pad tokens aMUSEd's
files may name and an `added_tokens_decoder`; states and pooled output within 1e-4 at random weights;
a strict weight mapping."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf
from fresh_process import run_in_fresh_process

from muse_tf.convert import amused_text
from muse_tf.text.clip_tokenizer import CLIPTokenizer

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "golden")
sys.path.insert(0, GOLDEN)
import amused_params
import clip_vocab

TOLERANCE = 1e-4
LAYOUTS = tuple(clip_vocab.LAYOUTS)


def _golden(name):
    golden = np.load(os.path.join(GOLDEN, f"amused_clip_{name}.npz"))
    return {k: json.loads(str(golden[k])) if golden[k].dtype.kind == "U"
            else golden[k] for k in golden.files}


@pytest.fixture(scope="module")
def golden_ids():
    with open(os.path.join(GOLDEN, "amused_clip_tokenizer.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def tokenizer_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("clip_tokenizers")
    return {layout: clip_vocab.write_tokenizer_folder(str(root / layout),
                                                      **files)
            for layout, files in clip_vocab.LAYOUTS.items()}


@pytest.fixture(scope="module")
def tokenizers(tokenizer_dirs):
    return {layout: CLIPTokenizer.from_folder(path)
            for layout, path in tokenizer_dirs.items()}


def _assert_ids(ids, expected, prompts):
    for got, want, prompt in zip(np.asarray(ids), expected, prompts):
        assert got.tolist() == want, prompt


# === Tokenizer ===

@pytest.mark.parametrize("layout", LAYOUTS)
def test_ids_match_transformers_eager_and_in_a_tf_function(
        tokenizers, golden_ids, layout):
    tokenizer, prompts = tokenizers[layout], golden_ids["prompts"]
    expected = golden_ids["ids"][layout]
    assert len(prompts) >= 20
    ids = tokenizer(tf.constant(prompts))
    assert ids.dtype == tf.int32 and ids.shape == (len(prompts), 77)
    _assert_ids(ids, expected, prompts)
    graph = tf.function(tokenizer, input_signature=[
        tf.TensorSpec([None], tf.string)])
    _assert_ids(graph(tf.constant(prompts)), expected, prompts)
    _assert_ids(graph(tf.constant(prompts[::-1])), expected[::-1],
                prompts[::-1])  # Words now come from the cache.


def test_the_folder_gives_the_pad_and_length(tokenizers):
    assert tokenizers["bang_pad"].pad_id == 0
    assert tokenizers["eos_pad"].pad_id == 49407
    assert (tokenizers["bang_pad"].bos_id,
            tokenizers["bang_pad"].eos_id) == (49406, 49407)
    assert tokenizers["bang_pad"].sequence_length == 77


def test_the_special_tokens_map_wins_over_the_config(tmp_path):
    # As in transformers: the config's pad is "!", the map's 49407.
    path = clip_vocab.write_tokenizer_folder(str(tmp_path))
    with open(tmp_path / "tokenizer_config.json") as f:
        config = json.load(f)
    with open(tmp_path / "tokenizer_config.json", "w") as f:
        json.dump({**config, "pad_token": "!"}, f)
    assert CLIPTokenizer.from_folder(path).pad_id == 49407


def test_a_saved_model_tokenizes_as_transformers(
        tokenizers, golden_ids, tmp_path):
    module = tf.Module()
    module.tokenizer = tokenizers["bang_pad"]
    module.tokenize = tf.function(module.tokenizer, input_signature=[
        tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    prompts = golden_ids["prompts"]
    _assert_ids(loaded.tokenize(tf.constant(prompts)),
                golden_ids["ids"]["bang_pad"], prompts)


def test_a_special_token_missing_from_the_vocabulary_is_an_error():
    with pytest.raises(ValueError, match="'<pad>' is not in the vocabulary"):
        CLIPTokenizer({"a</w>": 0, "<|startoftext|>": 1,
                       "<|endoftext|>": 2}, [], pad_token="<pad>")


# === Text encoder ===

def _encoder(golden, tokenizer):
    encoder = amused_text.build_encoder(golden["config"], tokenizer)
    amused_text.load_weights(encoder, amused_params.random_state_dict(
        golden["manifest"], int(golden["seed"])))
    return encoder


def _assert_matches_transformers(encoder, golden):
    states, pooled = tf.function(encoder.encode_ids)(golden["ids"])
    positions = golden["positions"]
    np.testing.assert_allclose(states.numpy()[:, positions],
                               golden["states"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(pooled.numpy(), golden["pooled"], rtol=0,
                               atol=TOLERANCE)


@pytest.fixture(scope="module")
def tiny(tokenizers):
    golden = _golden("tiny")
    return golden, _encoder(golden, tokenizers["eos_pad"])


def test_tiny_states_and_pooled_match_transformers(tiny):
    golden, encoder = tiny
    _assert_matches_transformers(encoder, golden)
    assert not encoder.backbone.trainable and not encoder.projection.trainable
    # keras-hub fixes 1e-6; at random weights the difference is ~3e-6.
    assert encoder.backbone.layer_norm.epsilon == 1e-5
    assert all(not w.trainable for w in encoder.weights)


def test_prompts_in_give_the_states_of_their_ids(tiny, tokenizers):
    golden, encoder = tiny
    for (prompt, layout), ids in zip(golden["prompts"], golden["ids"]):
        assert tokenizers[layout]([prompt]).numpy()[0].tolist() == ids.tolist()
    rows = [row for row, (_, layout) in enumerate(golden["prompts"])
            if layout == "eos_pad"]  # The encoder's tokenizer's.
    prompts = [golden["prompts"][row][0] for row in rows]
    states, mask, pooled = tf.function(encoder)(tf.constant(prompts))
    assert mask.dtype == tf.bool and mask.shape == (len(rows), 77)
    assert bool(tf.reduce_all(mask))
    np.testing.assert_allclose(states.numpy(), golden["states"][rows],
                               rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(pooled.numpy(), golden["pooled"][rows],
                               rtol=0, atol=TOLERANCE)


def clip_l14_is_exact():
    """CLIP-L/14 as aMUSEd configures it, at the golden random weights."""
    golden = _golden("l14")
    tokenizer = CLIPTokenizer.from_folder(clip_vocab.write_tokenizer_folder(
        os.path.join(os.environ["CLIP_TEST_DIR"], "tokenizer")))
    _assert_matches_transformers(_encoder(golden, tokenizer), golden)


@pytest.mark.full_size
def test_clip_l14_at_random_weights_matches_transformers(tmp_path):
    # 124 M parameters, held twice while assigned.
    run_in_fresh_process(__file__, "clip_l14_is_exact()",
                         env={"CLIP_TEST_DIR": str(tmp_path)})


# === Strict weights ===

def _tiny_weights(golden, **changes):
    weights = amused_params.random_state_dict(golden["manifest"],
                                              int(golden["seed"]))
    weights.update(changes)
    return {k: v for k, v in weights.items() if v is not None}


def test_the_position_ids_buffer_is_ignored(tiny):
    golden, encoder = tiny
    buffer = np.arange(77, dtype=np.int64)[None]
    amused_text.load_weights(encoder, _tiny_weights(
        golden, **{"text_model.embeddings.position_ids": buffer}))
    _assert_matches_transformers(encoder, golden)


@pytest.mark.parametrize("changes, message", [
    ({"text_projection.weight": None},
     "has no parameter 'text_projection.weight'"),
    ({"text_model.pooler.weight": np.zeros(3, np.float32)},
     "unexpected parameter 'text_model.pooler.weight'"),
    ({"text_model.encoder.layers.1.self_attn.q_proj.weight":
      np.zeros((32, 33), np.float32)},
     (r"'text_model.encoder.layers.1.self_attn.q_proj.weight' has shape "
      r"\(32, 33\)")),
    ({"text_model.encoder.layers.0.self_attn.out_proj.bias":
      np.zeros(31, np.float32)},
     r"'text_model.encoder.layers.0.self_attn.out_proj.bias' has shape"),
    ({"text_model.final_layer_norm.weight": np.zeros(33, np.float32)},
     r"'text_model.final_layer_norm.weight' has shape \(33,\)"),
])
def test_a_missing_unexpected_or_misshapen_parameter_is_named(
        tiny, changes, message):
    golden, encoder = tiny
    with pytest.raises(ValueError, match=message):
        amused_text.load_weights(encoder, _tiny_weights(golden, **changes))


def test_an_activation_other_than_quick_gelu_is_an_error(tiny, tokenizers):
    golden, _ = tiny
    config = {**golden["config"], "hidden_act": "gelu"}
    with pytest.raises(ValueError, match="hidden_act 'gelu'"):
        amused_text.build_encoder(config, tokenizers["bang_pad"])


def test_a_diffusers_folder_loads(tiny, tokenizer_dirs, tmp_path):
    from safetensors.numpy import save_file

    golden, _ = tiny
    os.makedirs(tmp_path / "text_encoder")
    with open(tmp_path / "text_encoder" / "config.json", "w") as f:
        json.dump(golden["config"], f)
    save_file(amused_params.random_state_dict(golden["manifest"],
                                              int(golden["seed"])),
              str(tmp_path / "text_encoder" / "model.safetensors"))
    os.symlink(tokenizer_dirs["eos_pad"], tmp_path / "tokenizer")
    encoder = amused_text.load_encoder(str(tmp_path))
    _assert_matches_transformers(encoder, golden)
