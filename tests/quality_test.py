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
    with pytest.raises(ValueError, match="unknown real data"):
        quality.load_real("imagenet:test", 64)
    with pytest.raises(ValueError, match=r"must be \[:N\]"):
        quality.load_real("fashion_mnist:test[:-5]", 32)


def test_a_sliced_split_is_its_first_images():
    images, labels = quality.load_real("fashion_mnist:test[:30]", 32)
    every_image, every_label = quality.load_real("fashion_mnist:test", 32)
    np.testing.assert_array_equal(images, every_image[:30])
    np.testing.assert_array_equal(labels, every_label[:30])


def test_training_images_are_the_held_out_datasets_train_split():
    assert quality.training_split("fashion_mnist:test") == (
        "fashion_mnist:train")
    assert quality.training_split("emoji_captions/full_128:test[:500]") == (
        "emoji_captions/full_128:train")


def test_evenly_spaced_training_images_span_the_split():
    data = (np.arange(10), np.arange(10) * 2)
    (picked, doubled), selection = quality.evenly_spaced(data, 4)
    np.testing.assert_array_equal(picked, [0, 3, 6, 9])
    np.testing.assert_array_equal(doubled, 2 * picked)
    assert selection == "4 evenly spaced of 10"
    every, selection = quality.evenly_spaced(data, 50)
    assert every is data and selection == "all 10"
    with pytest.raises(ValueError, match="must be >= 1"):
        quality.evenly_spaced(data, 0)


def test_shrink_area_averages_larger_real_images_to_the_size_asked():
    images, labels = quality.load_real("fashion_mnist:test[:3]", 32)
    small, small_labels = quality.load_real("fashion_mnist:test[:3]", 16,
                                            shrink=True)
    np.testing.assert_array_equal(small_labels, labels)
    np.testing.assert_allclose(
        small, images.reshape(3, 16, 2, 16, 2, 3).mean(axis=(2, 4)),
        atol=0.5)
    with pytest.raises(ValueError, match="holds 32-pixel images"):
        quality.load_real("fashion_mnist:test[:3]", 16)
    with pytest.raises(ValueError, match="holds 32-pixel images"):
        quality.load_real("fashion_mnist:test[:3]", 64, shrink=True)


def test_emoji_are_judged_by_their_names_class_index():
    known = (None, np.array(["cat face", "ox"]), None)
    np.testing.assert_array_equal(
        quality.judge_classes(known, ["ox", "cat face"], "spec"), [1, 0])
    unknown = (None, np.array(["ox", "unicorn"]), None)
    with pytest.raises(ValueError, match="does not know 1 emoji of spec"):
        quality.judge_classes(unknown, ["ox", "cat face"], "spec")


def test_quality_tables_show_the_tokenizers_with_dashes_for_old_results(
        tmp_path):
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "docs",
                        "quality_report.py")
    spec = importlib.util.spec_from_file_location("quality_report", path)
    report_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report_script)
    old = {"judge_real_accuracy": 0.9, "judge_vqgan_round_trip_accuracy":
           0.72}
    new = {**old, "judge_real_train_accuracy": 0.96,
           "judge_vqgan_round_trip_train_accuracy": 0.864,
           "judge_vqgan_round_trip_train_kept": 0.9,
           "real_train_selection": "950 evenly spaced of 8519"}
    lines = report_script.tokenizer_table({
        "shipped:fashion_32": new,
        report_script.run_key("emoji_64", {}): old})
    assert lines[0] == "## Tokenizers"
    rows = [line for line in lines
            if line.startswith(("| fashion_32", "| emoji_64"))]
    assert rows == [
        ("| fashion_32 | VQGAN | 90.0% | 72.0% | 80.0% | 96.0% | 86.4% | "
         "90.0% | 950 evenly spaced of 8519 |"),
        "| emoji_64 | base VQGAN | 90.0% | 72.0% | 80.0% | — | — | — | — |"]
    assert report_script.tokenizer_table({}) == []


@pytest.mark.slow
def test_eval_reports_the_bundled_class_model(tmp_path, capsys):
    output, grid = str(tmp_path / "report.json"), str(tmp_path / "grid.png")
    # 2,000 of the 10,000 test images, 500 of the 60,000 training ones:
    # the judge and the VQGAN round trip of all of them took most of this
    # test's time.
    assert cli.main(["eval", "--model", "fashion_32", "--per-class", "2",
                     "--real", "fashion_mnist:test[:2000]",
                     "--train-images", "500",
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
    # Training images: the training split, as many as asked, evenly spaced.
    assert report["real_train"] == "fashion_mnist:train"
    assert report["real_train_images"] == 500
    assert report["real_train_selection"] == "500 evenly spaced of 60000"
    # The judge learned them: it knows them at least as well as held-out
    # ones, and the round trip keeps most of that.
    assert report["judge_real_train_accuracy"] >= 0.85
    for suffix in ("", "_train"):
        assert report[f"judge_vqgan_round_trip{suffix}_kept"] == (
            pytest.approx(report[f"judge_vqgan_round_trip{suffix}_accuracy"]
                          / report[f"judge_real{suffix}_accuracy"]))
        assert report[f"judge_vqgan_round_trip{suffix}_kept"] > 0.85
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
    assert quality.round_trip_summary(report) in captured.out
    assert "; training " in quality.round_trip_summary(report)
    for stage in ("generate", "judge", "FID features"):  # tqdm, on stderr
        assert f"{stage}: 100%" in captured.err


@pytest.mark.slow
def test_eval_tokenizer_job_reports_a_vqgan_alone(tmp_path, capsys):
    from muse_tf.training import recipe

    output = str(tmp_path / "tokenizer.json")
    # The bundled model directory: its VQGAN's weights file.
    model_dir = os.path.join(os.path.dirname(quality.__file__), "presets",
                             "fashion_32")
    recipe.run_job("eval-tokenizer", [
        "--preset", "fashion_32", "--workdir", model_dir, "--real",
        "fashion_mnist:test[:40]", "--train-images", "30", "--output",
        output])
    with open(output) as f:
        report = json.load(f)
    assert report["vqgan"] == os.path.join("muse_tf", "presets",
                                           "fashion_32", "vqgan.weights.h5")
    # The bundled judge of the preset's data.
    assert report["judge"] == os.path.join("muse_tf", "presets",
                                           "judge_fashion_mnist")
    assert report["real_train"] == "fashion_mnist:train"
    assert report["real_train_selection"] == "30 evenly spaced of 60000"
    assert report["images"] == {"held_out": 40, "train": 30, "fid": 20}
    assert report["image_size"] == report["judge_image_size"] == 32
    assert report["judge_vqgan_round_trip_train_kept"] > 0.8
    assert 0 < report["codebook_codes_used"] <= 256
    assert report["fid_vqgan_round_trip"] > 0
    assert quality.round_trip_summary(report) in capsys.readouterr().out
