"""Builds the real `emoji_captions/sample` dataset from the npm packages."""


import numpy as np
import pytest
import tensorflow_datasets as tfds

from muse_tf.data import emoji_captions

pytestmark = pytest.mark.slow


def test_sample_has_both_splits_in_five_styles(sample_builder):
    splits = sample_builder.info.splits
    train, test = splits["train"].num_examples, splits["test"].num_examples
    assert train > 5 * test > 0
    # 40 emoji in 4 vendor styles + Noto, where each vendor has the image.
    assert 150 <= train + test <= 200
    styles = {int(ex["style"]) for ex in tfds.as_numpy(
        sample_builder.as_dataset(split="train"))}
    assert styles == set(range(len(emoji_captions.STYLES)))


def test_examples_are_rgb_images_with_named_captions(sample_builder):
    style_names = sample_builder.info.features["style"].names
    for ex in tfds.as_numpy(sample_builder.as_dataset(split="test")):
        image = ex["image"]
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        assert image.std() > 5  # A drawing, not a blank canvas.
        name = ex["name"].decode()
        style = style_names[ex["style"]]
        captions = [c.decode() for c in ex["captions"]]
        assert len(captions) == len(emoji_captions.CAPTION_TEMPLATES)
        assert all(name in c for c in captions)
        assert f"{style.capitalize()} style" in captions[0]


def test_split_is_fixed_and_disjoint(sample_builder):
    keys = {}
    for split in ("train", "test"):
        for ex in tfds.as_numpy(sample_builder.as_dataset(split=split)):
            style = sample_builder.info.features["style"].int2str(ex["style"])
            unified = ex["emoji"].decode()
            keys[(unified, style)] = split
            assert emoji_captions.is_test_example(unified, style) == (
                split == "test")
    assert len(keys) == sum(
        s.num_examples for s in sample_builder.info.splits.values())


def test_sample_128_holds_sharp_twitter_and_noto_images(sample_128_builder):
    style_names = sample_128_builder.info.features["style"].names
    counts = {}
    for split in ("train", "test"):
        for ex in tfds.as_numpy(sample_128_builder.as_dataset(split=split)):
            assert ex["image"].shape == (128, 128, 3)
            assert ex["image"].std() > 5
            style = style_names[ex["style"]]
            counts[style] = counts.get(style, 0) + 1
            assert emoji_captions.is_test_example(
                ex["emoji"].decode(), style) == (split == "test")
    # Both sources draw (nearly) every one of the 40 emoji.
    assert set(counts) == {"twitter", "noto"}
    assert min(counts.values()) >= 38


def test_twemoji_file_names_follow_twemoji():
    assert emoji_captions.twemoji_file("1F41E") == "1f41e.svg"
    # FE0F is dropped outside ZWJ sequences, kept inside them.
    assert emoji_captions.twemoji_file("2764-FE0F") == "2764.svg"
    assert emoji_captions.twemoji_file("1F3F3-FE0F-200D-1F308") == (
        "1f3f3-fe0f-200d-1f308.svg")


def test_captions_use_the_right_article():
    assert emoji_captions.captions_for("ant", "apple")[0] == (
        "an ant emoji, Apple style")
    assert emoji_captions.captions_for("ladybug", "noto")[0] == (
        "a ladybug emoji, Noto style")
