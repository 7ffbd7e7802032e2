"""The recipes in training/: fashion_32's runs end to end, shrunk (the emoji
recipes need the emoji data: tests/data/emoji_recipes_test.py), and every
bundled model's card shows the commands its recipe runs."""

import dataclasses
import glob
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from script_runs import (
    ROOT,
    assert_holds_checkpoint,
    job_command,
    main_in_process,
    tensorboard_tags,
)

from muse_tf.pipeline import MusePipeline
from muse_tf.presets import BUNDLED_MODELS
from muse_tf.training import recipe

RECIPES = os.path.join(ROOT, "training")


def _card_commands(name):
    """The commands block of a model card's recipe section."""
    with open(os.path.join(ROOT, "docs", "models", f"{name}.md")) as f:
        card = f.read()
    match = re.search(r"`--dry-run` prints them\):\n\n```bash\n(.*?)```",
                      card, re.DOTALL)
    assert match, f"docs/models/{name}.md shows no recipe commands"
    return match.group(1).replace("\\\n    ", "").splitlines()


# Each bundled weights directory (emoji_64 is emoji_128's base stage).
BUNDLED = sorted({os.path.basename(weights)
                  for weights, _ in BUNDLED_MODELS.values()})


@pytest.mark.parametrize("name", BUNDLED)
def test_each_bundled_models_card_shows_its_recipes_commands(name, capsys):
    steps = recipe.load(os.path.join(RECIPES, f"{name}.py"))
    recipe.run(steps, f"runs/{name}", dry_run=True)
    assert capsys.readouterr().out.splitlines() == _card_commands(name)


def test_every_recipe_loads_and_shrinks():
    for path in glob.glob(os.path.join(RECIPES, "*.py")):
        full, shrunk = recipe.load(path), recipe.load(path, shrink=True)
        assert [s.name for s in full] == [s.name for s in shrunk], path
        for step in shrunk:
            if "num_steps" in step.options:
                assert step.options["num_steps"] <= 2, (path, step.name)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(RECIPES,
                                                               "*.py"))),
                         ids=os.path.basename)
def test_every_recipe_step_parses_with_its_jobs_flags(path):
    # Each step's command, full and shrunk, is one its job accepts (a
    # renamed or removed flag fails here, before any recipe runs).
    for shrink in (False, True):
        for step in recipe.load(path, shrink=shrink):
            parser, _ = recipe.job_parser(step.job, f"step {step.name}",
                                          one_line_errors=True)
            parser.parse_args(step.argv("runs/x"))


def test_bad_recipes_and_steps_are_value_errors(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("from muse_tf.training.recipe import step\n"
                    "def steps(shrink):\n"
                    "    return [step('a', 'vqgan', workdir='w', no_such_option=1)]\n")
    with pytest.raises(ValueError, match="step a: unrecognized arguments: "
                       "--no-such-option 1"):
        recipe.run(recipe.load(str(path)), str(tmp_path))
    with pytest.raises(ValueError, match="no step b in this recipe"):
        recipe.run(recipe.load(str(path)), str(tmp_path), only=["b"])
    with pytest.raises(ValueError, match="no recipe file"):
        recipe.load(str(tmp_path / "none.py"))


@pytest.mark.slow
def test_the_fashion_32_recipe_runs_shrunk_and_skips_finished_steps(
        tmp_path, capsys):
    workdir = str(tmp_path)
    steps = recipe.load(os.path.join(RECIPES, "fashion_32.py"), shrink=True)
    # ft3 and ft4 run `further` again from the previous model directory,
    # as ft does: left out for CI's time, so pack takes ft2's EMA model.
    steps = [dataclasses.replace(s, args=("{workdir}/ft2_ema_model",
                                          "{workdir}/fashion_32"))
             if s.name == "pack" else s
             for s in steps if s.name not in ("ft3", "ft4")]
    recipe.run(steps, workdir)
    # Class token shards.
    with open(tmp_path / "transformer" / "tokens" / "metadata.json") as f:
        metadata = json.load(f)
    assert (metadata["condition"], metadata["num_examples"]) == ("class", 64)
    # The EMA snapshot is what the next run started from.
    assert_holds_checkpoint(
        MusePipeline.from_pretrained(str(tmp_path / "ft2_ema_model"))
        .components["class_transformer"],
        tf.train.latest_checkpoint(str(tmp_path / "ft2_ema")))
    # The packed model draws every class.
    packed = MusePipeline.from_pretrained(str(tmp_path / "fashion_32"))
    assert packed(list(range(10)), seed=0).shape == (10, 32, 32, 3)

    capsys.readouterr()
    recipe.run(steps, workdir)
    skipped = capsys.readouterr().out.splitlines()
    assert skipped == [f"step {s.name}: done before, skipped" for s in steps]

    # A run started from a model directory (--init-from) at learning rate
    # 0 ends with the weights it started from, with one sample per class in
    # TensorBoard; a snapshot without --model-dir is refused before any
    # work.
    start, further = (str(tmp_path / "ft2_ema_model"),
                      str(tmp_path / "further"))
    options = ("--preset", "fashion_32", "--data", "fashion_mnist:train[:8]",
               "--vqgan", start, "--batch-size", "4")
    main_in_process(job_command(
        "transformer", *options, "--workdir", further, "--init-from", start,
        "--num-steps", "1", "--learning-rate", "0", "--sample-every", "1",
        "--model-dir", further))
    assert "one_sample_per_class" in tensorboard_tags(further)
    for a, b in zip(*(MusePipeline.from_pretrained(d).components[
            "class_transformer"].weights for d in (further, start))):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    with pytest.raises(ValueError, match="--export-only writes --model-dir"):
        main_in_process(job_command("transformer", *options, "--workdir",
                                    further, "--export-only"))
