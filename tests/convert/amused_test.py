"""diffusers' aMUSEd folders through `muse-tf convert amused`: a whole tiny
generation equal to `AmusedPipeline`'s (golden file of
tests/golden/make_amused_pipeline_golden.py), strict about the folder, and
a model directory that generates, edits, exports and serves.

The diffusers folder is written here from the golden file's description
of the one `save_pretrained` wrote (each part's config.json and tensor
names and shapes) with the same seeded weights, through `safetensors`."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from safetensors.numpy import save_file

from muse_tf import cli, model_dir
from muse_tf.convert import amused
from muse_tf.pipeline import MusePipeline

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden")
sys.path.insert(0, GOLDEN)
import amused_params
import clip_vocab
import tf1_serving
from fine_tuning import fine_tune

_GOLDEN = np.load(os.path.join(GOLDEN, "amused_pipeline_tiny.npz"))
PROMPTS = json.loads(str(_GOLDEN["prompts"]))


def write_folder(path, drop=None, extra=None):
    """The tiny diffusers folder at `path`; `drop` leaves out a key
    ("part/key"), `extra` adds one ("part/key")."""
    described = json.loads(str(_GOLDEN["folder"]))
    seed = int(_GOLDEN["seed"])
    for part in ("transformer", "vqvae", "text_encoder"):
        entry = described[part]
        os.makedirs(path / part)
        (path / part / "config.json").write_text(json.dumps(entry["config"]))
        shapes = {k: shape for k, (shape, _) in entry["tensors"].items()}
        tensors = amused_params.random_state_dict(shapes, seed)
        if drop and drop.startswith(part + "/"):
            del tensors[drop[len(part) + 1:]]
        if extra and extra.startswith(part + "/"):
            tensors[extra[len(part) + 1:]] = np.zeros([2], np.float32)
        save_file(tensors, str(path / part / entry["file"]))
    (path / "model_index.json").write_text(
        json.dumps(described["model_index.json"]))
    os.makedirs(path / "scheduler")
    (path / "scheduler" / "scheduler_config.json").write_text(
        json.dumps(described["scheduler/scheduler_config.json"]))
    clip_vocab.write_tokenizer_folder(str(path / "tokenizer"))
    return str(path)


@pytest.fixture(scope="module")
def converted_dir(tmp_path_factory):
    folder = write_folder(tmp_path_factory.mktemp("amused") / "tiny")
    out = str(tmp_path_factory.mktemp("converted") / "amused_tiny")
    assert cli.main(["convert", "amused", folder, out]) == 0
    return out


def test_a_whole_generation_gives_amused_pipelines_tokens(converted_dir):
    # Greedy on both sides (the golden script's argmax and temperature
    # (0, 0)): guidance 10 against "", 12 steps, as AmusedPipeline.
    pipe = MusePipeline.from_pretrained(
        converted_dir, precision="fp32").with_sampler(
        temperature=0.0, choice_temperature=0.0)
    tokens = np.asarray(pipe.tokens(PROMPTS, seed=0))
    np.testing.assert_array_equal(tokens, _GOLDEN["tokens"])
    # Our images are uint8; diffusers' float pixels before rounding.
    images = np.asarray(pipe.decode(tokens)).astype(np.float32) / 255
    np.testing.assert_allclose(images, _GOLDEN["images"],
                               atol=0.5 / 255 + 1e-4)


def test_the_converted_sampler_is_amuseds_decoding(converted_dir):
    config = MusePipeline.from_pretrained(converted_dir).config
    assert config.sampler == amused.sampler_config()
    assert config.sampler.guidance_scale == 9.0  # diffusers' 10.
    assert config.text.kind == "clip"
    assert sorted(os.listdir(converted_dir)) == [
        "model.json", "text_encoder", "tokenizer",
        "transformer.weights.h5", "vqgan.weights.h5"]


@pytest.mark.parametrize("change, message", [
    ({"drop": "transformer/mlm_layer.conv2.weight"},
     "has no parameter 'mlm_layer.conv2.weight'"),
    ({"extra": "vqvae/decoder.extra.weight"},
     "unexpected parameter 'decoder.extra.weight'"),
    ({"drop": "text_encoder/text_projection.weight"},
     "has no parameter 'text_projection.weight'"),
])
def test_a_parameter_that_does_not_fit_is_a_value_error_naming_it(
        tmp_path, change, message):
    folder = write_folder(tmp_path / "bad", **change)
    with pytest.raises(ValueError, match=message):
        amused.convert_folder(folder)


def test_a_folder_that_is_not_amuseds_is_a_one_line_cli_error(
        tmp_path, capsys):
    folder = write_folder(tmp_path / "other")
    os.remove(os.path.join(folder, "vqvae", "config.json"))
    assert cli.main(["convert", "amused", folder,
                     str(tmp_path / "out")]) == 2
    assert "vqvae/config.json does not exist" in capsys.readouterr().err
    assert cli.main(["convert", "amused", str(tmp_path / "none"),
                     str(tmp_path / "out")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    folder = write_folder(tmp_path / "resaved")
    os.remove(os.path.join(folder, "tokenizer", "vocab.json"))
    assert cli.main(["convert", "amused", folder,
                     str(tmp_path / "out")]) == 2
    assert "has no vocab.json" in capsys.readouterr().err


def test_the_converted_model_generates_inpaints_and_edits_from_the_cli(
        converted_dir, tmp_path):
    out = str(tmp_path / "gen")
    assert cli.main(["generate", "a red apple", "--model", converted_dir,
                     "--output", out]) == 0
    (image,) = [os.path.join(out, f) for f in os.listdir(out)]
    assert np.asarray(Image.open(image)).shape == (32, 32, 3)
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(
        tmp_path / "mask.png")
    assert cli.main(["inpaint", image, str(tmp_path / "mask.png"),
                     "a green pear", "--model", converted_dir, "--output",
                     str(tmp_path / "inpainted")]) == 0
    assert cli.main(["edit", image, "a green pear", "--model",
                     converted_dir, "--iterations", "1", "--output",
                     str(tmp_path / "edited")]) == 0


@pytest.mark.slow
def test_the_exported_converted_model_serves_prompts_through_tf1(
        converted_dir, tmp_path):
    # The CLIP tokenizer runs in the graph: prompt strings in, PNGs out,
    # in a fresh process through the TF1 loader, as TF Serving loads it.
    saved = str(tmp_path / "amused" / "1")
    assert cli.main(["export", converted_dir, saved, "--precision",
                     "fp32"]) == 0
    prompts = ["a red apple", "Ünïcödé"]
    served = tf1_serving.serve(saved, prompt=prompts, seed=5)
    pipe = MusePipeline.from_pretrained(converted_dir, precision="fp32")
    assert served == [tf.io.encode_png(i).numpy()
                      for i in pipe(prompts, seed=5)]


@pytest.mark.slow
def test_a_converted_model_fine_tunes_on_captioned_images(converted_dir,
                                                          tmp_path):
    # Shards with CLIP's pooled vectors, a U-ViT trainer under
    # MirroredStrategy, and a tuned model directory with the CLIP folders.
    tuned = fine_tune(converted_dir, ["a red apple", "a green pear", "",
                                      "Ünïcödé"], 32, tmp_path)
    config, converted = model_dir.load(converted_dir)
    after = MusePipeline.from_pretrained(str(tuned))
    assert (after.config.transformer, after.config.sampler) == (
        config.transformer, config.sampler)
    assert sorted(os.listdir(tuned)) == sorted(os.listdir(converted_dir))
    old, new = (m["transformer"].head_out.kernel.numpy()
                for m in (converted, after.components))
    assert not np.allclose(old, new)
    assert after(["a red apple"], seed=0).shape == (1, 32, 32, 3)
