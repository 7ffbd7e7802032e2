"""`muse-tf eval`'s text-model path on real emoji: the bundled base model
and emoji judge, the held-out split of the sample dataset."""

import json

import numpy as np

from muse_tf import cli
from muse_tf.data import emoji_captions


def test_eval_reports_the_bundled_text_model_on_held_out_emoji(
        sample_data_dir, tmp_path, capsys):
    manual_dir = emoji_captions.manual_directory(sample_data_dir)
    assert emoji_captions.unicode_names(manual_dir)["heartpulse"] == (
        "growing heart")
    output = str(tmp_path / "report.json")
    assert cli.main(["eval", "--model", "emoji_64", "--real",
                     "emoji_captions/sample:test", "--data-dir",
                     sample_data_dir, "--num-classes", "4", "--num-steps",
                     "4", "--output", output]) == 0
    with open(output) as f:
        report = json.load(f)
    held_out = len(emoji_captions.load_labelled("test", "sample",
                                                sample_data_dir)[0])
    assert report["images"]["training_prompts"] == 4
    assert report["images"]["paraphrases"] == 4
    assert report["images"]["fid"] == held_out // 2
    for fidelity in report["prompt_fidelity"].values():
        assert 0 <= fidelity <= 1
    # The judge knows real emoji in styles it did not learn.
    assert report["judge_real_accuracy"] > 0.5
    assert np.isfinite(report["fid"]) and report["fid_real_halves"] > 0
    assert '"prompt_fidelity"' in capsys.readouterr().out
