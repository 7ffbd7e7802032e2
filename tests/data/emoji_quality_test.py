"""The text-model report of `muse-tf eval` on real emoji: the bundled base model
and emoji judge, the held-out split of the sample dataset."""

import numpy as np
import pytest

import muse_tf
from muse_tf import quality
from muse_tf.data import emoji_captions


@pytest.mark.slow
def test_eval_reports_the_bundled_text_model_on_held_out_emoji(
        sample_data_dir, fid_features):
    manual_dir = emoji_captions.manual_directory(sample_data_dir)
    assert emoji_captions.unicode_names(manual_dir)["heartpulse"] == (
        "growing heart")
    pipe = muse_tf.load_pipeline("emoji_64")
    judge, real = quality.JUDGES["emoji_64"]
    report, grid = quality.evaluate(
        pipe, judge, "emoji_captions/sample:test", num_classes=4,
        data_dir=sample_data_dir, fid_features=fid_features, num_steps=4)
    assert real == "emoji_captions/full:test" and grid.shape[-1] == 3
    held_out = len(emoji_captions.load_labelled("test", "sample",
                                                sample_data_dir)[0])
    assert report["images"]["training_prompts"] == 4
    assert report["images"]["paraphrases"] == 4
    assert report["images"]["fid"] == held_out // 2
    # As many training images, evenly spaced, of the same dataset.
    assert report["real_train"] == "emoji_captions/sample:train"
    assert report["real_train_images"] == held_out
    for fidelity in report["prompt_fidelity"].values():
        assert 0 <= fidelity <= 1
    # The judge knows real emoji in styles it did not learn.
    assert report["judge_real_accuracy"] > 0.5
    # The 8x8 tokens of the bundled base stage lose much of what tells one
    # emoji from another (the 950 held-out 64-pixel emoji: 3.9% vs 58.6%).
    assert report["judge_vqgan_round_trip_accuracy"] < (
        report["judge_real_accuracy"])
    assert np.isfinite(report["fid"]) and report["fid_real_halves"] > 0
    # The judge learned the training images themselves (all 18 here), and
    # the same tokens lose them too.
    assert report["judge_real_train_accuracy"] > 0.9
    assert report["judge_vqgan_round_trip_train_kept"] < 1
