"""The emoji_128 recipe in training/ runs end to end, shrunk, on the sample
emoji data (built once per session by this folder's conftest). emoji_next's
steps run the same vqgan and eval-tokenizer jobs that
tests/training/scripts_test.py and tests/quality_test.py run; its flags
are checked in tests/training/recipes_test.py."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.pipeline import MusePipeline
from muse_tf.training import recipe

RECIPES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "training")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(sample_data_dir, sample_128_builder, tmp_path_factory):
    """One TFDS data dir holding emoji_captions/sample and sample_128 (as
    links), as `muse-tf prepare-data` would leave it."""
    both = tmp_path_factory.mktemp("both") / "emoji_captions"
    both.mkdir()
    for config, source in (("sample", sample_data_dir),
                           ("sample_128", sample_128_builder.data_dir)):
        config_dir = os.path.join(source, "emoji_captions", config)
        if not os.path.isdir(config_dir):  # builder.data_dir is versioned.
            config_dir = os.path.dirname(source)
        os.symlink(config_dir, both / config)
    return str(both.parent)


def test_the_emoji_128_recipe_runs_shrunk(data_dir, tmp_path):
    """Base model -> high-res VQGAN -> super-res transformer -> larger
    decoder, each joining one cascade model directory. The recipe's
    second base-transformer run (`transformer_more`, the same job resumed
    from the model directory, as fashion_32's fine-tuning steps run it in
    tests/training/recipes_test.py) is left out for CI's time."""
    steps = recipe.load(os.path.join(RECIPES, "emoji_128.py"), shrink=True)
    recipe.run(steps, str(tmp_path), data_dir=data_dir,
               only=[s.name for s in steps if s.name != "transformer_more"])
    with open(tmp_path / "super_res" / "tokens" / "metadata.json") as f:
        metadata = json.load(f)
    assert (metadata["sequence_length"],
            metadata["low_res_sequence_length"]) == (256, 64)
    cascade = MusePipeline.from_pretrained(str(tmp_path / "model"))
    assert len(cascade.stages) == 2
    assert cascade(["a red heart"], seed=0).shape == (1, 128, 128, 3)
    # The cascade's super-res stage is the run's last checkpoint.
    reader = tf.train.load_checkpoint(
        str(tmp_path / "super_res" / "checkpoints"))
    for v in cascade.components["super_res"].weights:
        key = (f"transformer/{v.path.replace('/', '.S')}/.ATTRIBUTES/"
               "VARIABLE_VALUE")
        np.testing.assert_allclose(v.numpy(), reader.get_tensor(key),
                                   rtol=1e-6)
    # The larger decoder grew from the high-res VQGAN's, whose encoder and
    # quantizer it keeps.
    large = MusePipeline.from_pretrained(str(tmp_path / "model"),
                                         decoder="large")
    large_vqgan = large.components["high_res_vqgan"]
    high_res_vqgan = cascade.components["high_res_vqgan"]
    for part in ("encoder", "quantizer"):
        for a, b in zip(getattr(large_vqgan, part).weights,
                        getattr(high_res_vqgan, part).weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert (large_vqgan.decoder.count_params()
            > high_res_vqgan.decoder.count_params())
