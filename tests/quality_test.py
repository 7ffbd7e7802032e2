"""muse_tf.quality: the prompt sets of a text model's report, and
`muse-tf eval` on the bundled class-conditional model and its judge."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from muse_tf import cli, quality
from muse_tf.data.emoji_captions import STYLES, captions_for, paraphrase_for


def test_fidelity_prompts_ask_for_each_class_in_three_sets():
    names = ["cat face", "heartpulse", "apple", "fire"]
    sets = quality.fidelity_prompts(names, {"heartpulse": "growing heart"})
    prompts, classes = sets["training_prompts"]
    assert prompts == [captions_for(n, STYLES[i])[0]
                       for i, n in enumerate(names)]
    np.testing.assert_array_equal(classes, [0, 1, 2, 3])
    prompts, classes = sets["synonyms"]
    assert prompts == [paraphrase_for("growing heart", STYLES[1], 1)]
    np.testing.assert_array_equal(classes, [1])
    assert sets["paraphrases"][0][2] == paraphrase_for("apple", STYLES[2], 2)
    # An evenly spaced subset keeps the first and the last class.
    subset = quality.fidelity_prompts(names, {}, num_classes=2)
    np.testing.assert_array_equal(subset["training_prompts"][1], [0, 3])
    assert "synonyms" not in subset


def test_paraphrases_are_no_training_caption():
    for index, name in enumerate(["cat face", "ox", "flag of Japan"]):
        seen = {c for style in STYLES for c in captions_for(name, style)}
        for style in STYLES:
            assert paraphrase_for(name, style, index) not in seen
            assert name in paraphrase_for(name, style, index)


def test_a_model_without_a_judge_is_a_value_error():
    with pytest.raises(ValueError, match="no bundled judge"):
        quality.judge_and_real("some/model/dir")
    with pytest.raises(ValueError, match="unknown held-out data"):
        quality.load_real("imagenet:test", 64)
    with pytest.raises(ValueError, match=r"must be \[:N\]"):
        quality.load_real("fashion_mnist:test[:-5]", 32)


def test_a_sliced_split_is_its_first_images():
    images, labels = quality.load_real("fashion_mnist:test[:30]", 32)
    every_image, every_label = quality.load_real("fashion_mnist:test", 32)
    np.testing.assert_array_equal(images, every_image[:30])
    np.testing.assert_array_equal(labels, every_label[:30])


@pytest.mark.slow
def test_eval_reports_the_bundled_class_model(tmp_path, capsys):
    output, grid = str(tmp_path / "report.json"), str(tmp_path / "grid.png")
    # 2,000 of the 10,000 test images: the judge and the VQGAN round trip
    # of all of them took most of this test's time.
    assert cli.main(["eval", "--model", "fashion_32", "--per-class", "2",
                     "--real", "fashion_mnist:test[:2000]",
                     "--num-steps", "4", "--schedule", "linear",
                     "--output", output, "--grid", grid]) == 0
    with open(output) as f:
        report = json.load(f)
    assert report["model"] == "fashion_32" and report["images"] == 20
    # The bundled judge by its place in the package, not this machine's path.
    assert report["judge"] == os.path.join("muse_tf", "presets",
                                           "judge_fashion_mnist")
    assert report["sampler"]["schedule"] == "linear"
    assert report["num_steps"] == 4
    # The bundled judge knows real Fashion-MNIST; the trained model's images
    # are mostly of the class asked for, even from 2 per class.
    assert report["judge_real_accuracy"] > 0.85
    # Measured on all 10,000 test images: 86.1% after the grey VQGAN's
    # round trip (80.8% after the RGB one it replaced).
    assert report["judge_vqgan_round_trip_accuracy"] > 0.8
    assert report["class_fidelity"] >= 0.6
    by_class = report["class_fidelity_by_class"]
    assert len(by_class) == 10
    assert np.mean(list(by_class.values())) == pytest.approx(
        report["class_fidelity"])
    assert report["fid"] > 0 and report["fid_real_halves"] > 0
    image = tf.io.decode_png(tf.io.read_file(grid))
    assert image.shape == (10 * 32, 2 * 32, 3)
    captured = capsys.readouterr()
    assert '"class_fidelity"' in captured.out
    for stage in ("generate", "judge", "FID features"):  # tqdm, on stderr
        assert f"{stage}: 100%" in captured.err
