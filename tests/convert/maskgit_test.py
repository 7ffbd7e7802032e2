"""MaskGIT's released checkpoints through `muse-tf convert maskgit`: exact
against the official Flax modules at random weights (golden files of
tests/golden/make_maskgit_golden.py), strict about the parameters, and a
model directory that generates, edits, exports, serves and fine-tunes."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf
from fresh_process import run_in_fresh_process
from PIL import Image

from muse_tf import cli
from muse_tf.convert import maskgit
from muse_tf.pipeline import MusePipeline

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden")
sys.path.insert(0, GOLDEN)
import maskgit_params
import tf1_serving
from fine_tuning import fine_tune

TINY_TOKENIZER = os.path.join(GOLDEN, "maskgit", "tokenizer_tiny_checkpoint")
TINY_TRANSFORMER = os.path.join(GOLDEN, "maskgit", "maskgit_tiny_checkpoint")
TOLERANCE = 1e-4


def _golden(name):
    return np.load(os.path.join(GOLDEN, f"maskgit_{name}.npz"))


def _spec(golden, part):
    return [(path, tuple(shape))
            for path, shape in json.loads(str(golden[f"{part}_spec"]))]


def _tiny_params():
    return (maskgit.read_params(TINY_TOKENIZER, "tokenizer")[0],
            maskgit.read_params(TINY_TRANSFORMER, "transformer")[0])


@pytest.fixture(scope="module")
def tiny_converted():
    return maskgit.convert_params(*_tiny_params())


def _assert_matches_official(config, models, golden):
    """Logits, code ids and decoded pixels against the official modules',
    each computed XLA-compiled, as the pipeline computes them."""
    transformer, vqgan = models["class_transformer"], models["vqgan"]
    codebook = config.vqgan.codebook_size
    ids = golden["input_ids"]
    # The official sequence: class token (codebook + label) at 0, -1 for
    # [MASK]; ours: the image tokens, codebook_size for [MASK].
    tokens = np.where(ids[:, 1:] == -1, codebook, ids[:, 1:])
    logits = tf.function(transformer, jit_compile=True)(
        tf.constant(tokens), tf.constant(ids[:, 0] - codebook)).numpy()
    positions = golden["logit_positions"]
    image = positions > 0  # Position 0 (the class token) is not predicted.
    np.testing.assert_allclose(logits[:, positions[image] - 1],
                               golden["logits"][:, image], rtol=0,
                               atol=TOLERANCE)

    batch, size = ids.shape[0], config.vqgan.image_size
    images = maskgit_params.golden_images(batch, size) * 2 - 1  # Ours.
    code_ids = tf.function(vqgan.encode, jit_compile=True)(images)
    np.testing.assert_array_equal(code_ids.numpy(), golden["code_ids"])

    @tf.function(jit_compile=True)
    def decode(ids):  # Unclipped, in the official [0, 1] range.
        return vqgan.decoder(vqgan.quantizer.lookup(ids))

    stride = int(golden["decode_stride"])
    decoded = decode(tf.constant(golden["decode_ids"])).numpy()
    assert decoded.shape == (batch, size, size, 3)
    np.testing.assert_allclose(decoded[:, ::stride, ::stride],
                               golden["decoded"], rtol=0, atol=TOLERANCE)


def test_tiny_flax_files_compute_what_the_official_modules_compute(
        tiny_converted):
    _assert_matches_official(*tiny_converted, _golden("tiny"))


def imagenet256_is_exact():
    """The released 256 architecture at the golden random weights."""
    golden = _golden("imagenet256")
    tokenizer = maskgit_params.random_params(_spec(golden, "tokenizer"), 20)
    transformer = maskgit_params.random_params(_spec(golden, "transformer"),
                                               10)
    config, models = maskgit.convert_params(tokenizer, transformer)
    _assert_matches_official(config, models, golden)


@pytest.mark.full_size
def test_the_imagenet256_architecture_at_random_weights_is_exact():
    # 3 GB: 226 M parameters held twice, and XLA's compilation.
    run_in_fresh_process(__file__, "imagenet256_is_exact()")


def test_the_architecture_is_read_from_the_official_256_tree():
    golden = _golden("imagenet256")
    shapes = {}
    for part in ("tokenizer", "transformer"):
        # Shapes are all the config needs: zero-size views, no memory.
        shapes[part] = {path: np.broadcast_to(np.float32(0), shape)
                        for path, shape in _spec(golden, part)}
    config = maskgit.model_config(shapes["tokenizer"], shapes["transformer"])
    t, v = config.transformer, config.vqgan
    assert (t.num_layers, t.hidden_dim, t.num_heads, t.mlp_dim,
            t.image_tokens_per_side) == (24, 768, 16, 3072, 16)
    assert (v.image_size, v.base_channels, v.channel_multipliers,
            v.num_res_blocks, v.codebook_size, v.embedding_dim) == (
                256, 128, (1, 1, 2, 2, 4), 2, 1024, 256)
    assert config.classes.class_names[207] == "golden retriever"
    # The parameter counts of docs/design.md §9.2 and §9.4.
    assert maskgit.parameter_count(shapes["transformer"]) == 172_457_193
    assert maskgit.parameter_count(shapes["tokenizer"]) == 54_515_587


@pytest.mark.parametrize("change, message", [
    (lambda p: p.pop("TransformerLayer_1/Mlp_0/layer_output/bias"),
     ("transformer checkpoint has no parameter "
      "'TransformerLayer_1/Mlp_0/layer_output/bias'")),
    (lambda p: p.update({"TransformerLayer_0/extra/kernel": np.zeros(3)}),
     "unexpected parameter 'TransformerLayer_0/extra/kernel'"),
    (lambda p: p.update({"MlmLayer_0/mlm_bias/bias": np.zeros(7)}),
     r"'MlmLayer_0/mlm_bias/bias' has shape \(7,\), expected \(1065,\)"),
], ids=["missing", "unexpected", "wrong-shape"])
def test_a_parameter_that_does_not_fit_is_a_value_error_naming_it(
        change, message):
    tokenizer, transformer = _tiny_params()
    change(transformer)
    with pytest.raises(ValueError, match=message):
        maskgit.convert_params(tokenizer, transformer)


def _flax_bytes(tree):
    """A tree of numpy arrays as Flax's `to_bytes` writes it (arrays as
    msgpack extension 1: shape, dtype name, bytes)."""
    import msgpack

    def pack(x):
        if isinstance(x, np.ndarray):
            return msgpack.ExtType(1, msgpack.packb(
                (x.shape, x.dtype.name, x.tobytes("C")), use_bin_type=True))
        raise TypeError(type(x))

    return msgpack.packb(tree, default=pack, use_bin_type=True)


def test_a_file_that_is_not_a_flax_checkpoint_is_a_value_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not msgpack")
    with pytest.raises(ValueError, match="not a Flax checkpoint"):
        maskgit.read_params(str(path), "tokenizer")
    path.write_bytes(_flax_bytes({"batch_stats": {"x": np.zeros(2)}}))
    with pytest.raises(ValueError, match="has no 'params' collection"):
        maskgit.read_params(str(path), "tokenizer")


def test_collections_other_than_params_are_reported_not_read(tmp_path,
                                                             capsys):
    tree = {"params": maskgit_params.unflatten(
        maskgit.read_params(TINY_TRANSFORMER, "transformer")[0]),
        "ema": {"step": np.zeros((), np.int32)}}
    path = tmp_path / "maskgit_checkpoint"
    path.write_bytes(_flax_bytes(tree))
    params, others = maskgit.read_params(str(path), "transformer")
    assert others == ["ema"] and len(params) == len(
        maskgit.read_params(TINY_TRANSFORMER, "transformer")[0])
    assert cli.main(["convert", "maskgit", "--tokenizer", TINY_TOKENIZER,
                     "--transformer", str(path),
                     str(tmp_path / "model")]) == 0
    assert ("not read (the official inference does not use them either): "
            "ema") in capsys.readouterr().out


def test_the_converted_model_decodes_as_the_official_inference(
        tiny_converted):
    config, models = tiny_converted
    sampler = config.sampler
    assert (sampler.num_steps, sampler.schedule, sampler.choice_temperature,
            sampler.temperature, sampler.guided,
            sampler.inpaint_start_step) == (16, "cosine", 4.5, 1.0, False, 2)
    pipe = MusePipeline(config, models)
    with pytest.raises(ValueError, match="guidance_scale must be 0"):
        pipe(["tench"], guidance_scale=2.0)
    with pytest.raises(ValueError, match="without classifier-free guidance"):
        pipe(["tench"], negative_prompts=["goldfish"])
    with pytest.raises(ValueError, match="'panda' names 2 classes"):
        pipe(["panda"])  # The giant and the lesser panda.
    # A whole name, a synonym and an id of a class draw the same image; a
    # whole name wins over another class's synonym.
    images = [pipe([name], seed=3) for name in (
        "Tinca tinca", "tench, Tinca tinca", 0, "cardigan", 474)]
    np.testing.assert_array_equal(images[0], images[1])
    np.testing.assert_array_equal(images[0], images[2])
    np.testing.assert_array_equal(images[3], images[4])


# === The command line: convert, generate, inpaint, export, serve ===

@pytest.fixture(scope="module")
def converted_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("maskgit") / "model")
    assert cli.main(["convert", "maskgit", "--tokenizer", TINY_TOKENIZER,
                     "--transformer", TINY_TRANSFORMER, out]) == 0
    return out


def test_convert_writes_a_model_directory_every_verb_takes(
        converted_dir, tmp_path, capsys):
    out = str(tmp_path / "gen")
    assert cli.main(["generate", "golden retriever", "tench", "--model",
                     converted_dir, "--output", out]) == 0
    files = sorted(os.listdir(out))
    assert files == ["000_golden-retriever.png", "001_tench-tinca-tinca.png"]
    image = np.asarray(Image.open(os.path.join(out, files[0])))
    assert image.shape == (16, 16, 3)
    Image.fromarray(np.zeros((16, 16), np.uint8) + 255).save(
        tmp_path / "mask.png")
    assert cli.main(["inpaint", os.path.join(out, files[0]),
                     str(tmp_path / "mask.png"), "goldfish", "--model",
                     converted_dir, "--output", str(tmp_path / "inp")]) == 0
    assert cli.main(["generate", "unicorn", "--model", converted_dir]) == 2
    assert "not one of the model's 1000 class names" in capsys.readouterr().err


@pytest.mark.slow
def test_the_exported_converted_model_serves_class_ids_through_tf1(
        converted_dir, tmp_path):
    saved = str(tmp_path / "muse" / "1")
    assert cli.main(["export", converted_dir, saved, "--precision",
                     "fp32"]) == 0
    served = tf1_serving.serve(saved, class_id=[207, 0], seed=5)
    assert [list(tf.io.decode_png(p).shape) for p in served] == [
        [16, 16, 3]] * 2
    pipe = MusePipeline.from_pretrained(converted_dir, precision="fp32")
    assert served == [tf.io.encode_png(i).numpy()
                      for i in pipe([207, 0], seed=5)]


# === Fine-tuning with our class-conditional trainer ===

@pytest.mark.slow
def test_a_converted_model_fine_tunes_on_captioned_images(converted_dir,
                                                         tmp_path):
    tuned = fine_tune(converted_dir, ["golden retriever", "tench",
                                      "goldfish", "golden retriever"], 16,
                      tmp_path)
    before = MusePipeline.from_pretrained(converted_dir)
    after = MusePipeline.from_pretrained(str(tuned))
    assert after.config == before.config
    old = before.components["class_transformer"].head_bias.numpy()
    new = after.components["class_transformer"].head_bias.numpy()
    assert not np.allclose(old, new)
    assert after(["goldfish"], seed=0).shape == (1, 16, 16, 3)
