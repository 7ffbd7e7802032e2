"""The reports of muse_tf.evaluate, on real images (the class-conditional
report runs through `muse-tf eval` in quality_test.py)."""

import numpy as np
import pytest

import muse_tf


def _always_first_class(num_classes, image_size):
    """A judge that labels every image class 0."""
    from muse_tf.models.classifier import ImageClassifier
    judge = ImageClassifier(num_classes, image_size)
    kernel, bias = judge.head.get_weights()
    judge.head.set_weights([np.zeros_like(kernel),
                            np.eye(num_classes)[0].astype(bias.dtype)])
    return judge


@pytest.mark.slow
def test_text_model_report_on_real_images(tiny_pipeline, fid_features):
    from muse_tf.data import fashion_mnist
    from muse_tf.evaluate import resize_to, text_model_report

    size = tiny_pipeline.image_size  # 16: random-weight tiny model.
    real, labels = fashion_mnist.load("test")
    real, labels = resize_to(real[:12], size), labels[:12]
    train, train_labels = fashion_mnist.load("train")
    train, train_labels = resize_to(train[:6], size), train_labels[:6]
    names = fashion_mnist.CLASS_NAMES
    # The judge sees 32-pixel images: the report resizes to its size.
    judge = _always_first_class(len(names), 32)
    sets = {"a": (["a shirt", "a bag"], np.array([0, 8])),
            "b": (["a t-shirt", "a top"], np.array([0, 0]))}
    report, generated = text_model_report(
        tiny_pipeline, judge, sets, real, labels,
        [f"a {names[c]}" for c in labels], num_steps=2, batch_size=2,
        fid_features=fid_features, real_train=(train, train_labels))
    assert report["prompt_fidelity"] == {"a": 0.5, "b": 1.0}
    assert report["images"] == {"a": 2, "b": 2, "fid": 6}
    assert generated["a"].shape == (2, size, size, 3)
    assert report["judge_real_accuracy"] == pytest.approx(np.mean(labels == 0))
    assert report["judge_vqgan_round_trip_accuracy"] == pytest.approx(
        np.mean(labels == 0))
    # No held-out image is of class 0: no accuracy to keep a share of.
    assert report["judge_real_accuracy"] == 0
    assert report["judge_vqgan_round_trip_kept"] is None
    # Half the training images are.
    assert report["judge_real_train_accuracy"] == pytest.approx(
        np.mean(train_labels == 0)) == pytest.approx(0.5)
    assert report["judge_vqgan_round_trip_train_accuracy"] == (
        pytest.approx(0.5))
    assert report["judge_vqgan_round_trip_train_kept"] == pytest.approx(1)
    assert report["fid"] > report["fid_real_halves"] > 0
    # A random-weight VQGAN keeps nothing of the real images.
    assert report["fid_vqgan_round_trip"] > report["fid_real_halves"]
    assert report["fid_over_floor"] == pytest.approx(
        report["fid"] / report["fid_real_halves"])


def test_memoized_features_compute_each_image_set_once(fid_features):
    from muse_tf.evaluate import MemoizedFeatures

    computed = []

    def counted(images, progress=None):
        computed.append(len(images))
        return fid_features(images, progress)

    memo = MemoizedFeatures(counted)
    images = np.random.default_rng(0).integers(0, 256, [3, 16, 16, 3],
                                               dtype=np.uint8)
    other = images.copy()
    other[0, 0, 0, 0] ^= 1
    first = memo(images)
    assert memo(images.copy()) is first
    different = memo(other)
    assert computed == [3, 3]
    assert not np.array_equal(first, different)
    np.testing.assert_array_equal(first, fid_features(images))


def test_vqgan_round_trip_keeps_each_image_recognisably_its_own():
    from muse_tf import quality
    from muse_tf.evaluate import last_vqgan, tokenizer_round_trip

    pipe = muse_tf.load_pipeline("fashion_32")
    real = quality.load_real("fashion_mnist:test", 32)[0][:5]
    # batch_size 4: the second batch is padded, and the padding dropped.
    ids, round_trip = tokenizer_round_trip(last_vqgan(pipe),
                                           batch_size=4)(real)
    assert ids.shape == (5, 8, 8)
    assert round_trip.shape == real.shape and round_trip.dtype == np.uint8
    error = np.abs(round_trip.astype(float)[:, None]
                   - real.astype(float)[None]).mean(axis=(2, 3, 4))
    # Each reconstruction is nearer its own image than any other one.
    np.testing.assert_array_equal(error.argmin(axis=1), np.arange(5))


@pytest.mark.slow
def test_tokenizer_report_of_the_bundled_fashion_vqgan(fid_features):
    from muse_tf import quality
    from muse_tf.evaluate import tokenizer_report, tokenizer_round_trip
    from muse_tf.models.classifier import load_judge

    pipe = muse_tf.load_pipeline("fashion_32")
    judge, _ = load_judge(quality.JUDGES["fashion_32"][0])
    held_out = quality.load_real("fashion_mnist:test[:40]", 32)
    train = quality.load_real("fashion_mnist:train[:30]", 32)
    vqgan = pipe.stages[-1].vqgan
    report = tokenizer_report(vqgan, judge, held_out, train,
                              batch_size=16, fid_features=fid_features)
    assert report["images"] == {"held_out": 40, "train": 30, "fid": 20}
    for suffix in ("", "_train"):
        real = report[f"judge_real{suffix}_accuracy"]
        trip = report[f"judge_vqgan_round_trip{suffix}_accuracy"]
        assert report[f"judge_vqgan_round_trip{suffix}_kept"] == (
            pytest.approx(trip / real))
    # The judge learned the training images; the tokenizer keeps most of
    # what it sees in them (86.1% vs 91.5% on all 10,000 test images).
    assert report["judge_real_train_accuracy"] >= 0.9
    assert report["judge_vqgan_round_trip_train_kept"] > 0.8
    assert report["fid_vqgan_round_trip"] > 0 and report[
        "fid_real_halves"] > 0
    round_trip = tokenizer_round_trip(vqgan)
    ids = np.concatenate([round_trip(images)[0]
                          for images in (held_out[0], train[0])])
    assert report["codebook_codes_used"] == len(np.unique(ids))
    assert report["codebook_usage"] == pytest.approx(
        len(np.unique(ids)) / 256)
    assert 1 < report["codebook_perplexity"] <= len(np.unique(ids))


def test_codebook_usage_counts_codes_and_their_spread():
    from muse_tf.evaluate import codebook_usage

    even = codebook_usage(np.array([[0, 1], [1, 0]]), 8)
    assert even["codebook_codes_used"] == 2
    assert even["codebook_usage"] == 0.25
    # Two codes used equally carry one bit: as much as 2 equal codes.
    assert even["codebook_perplexity"] == pytest.approx(2)
    skewed = codebook_usage(np.array([0, 0, 0, 1]), 8)
    assert 1 < skewed["codebook_perplexity"] < 2


def test_resize_to_averages_when_shrinking_and_blends_when_enlarging():
    from muse_tf.evaluate import resize_to

    checks = np.zeros([1, 2, 2, 3], np.uint8)
    checks[0, 0, 0] = checks[0, 1, 1] = 255
    np.testing.assert_array_equal(resize_to(checks, 1), 128)  # 127.5 up.
    enlarged = resize_to(checks, 4)
    assert enlarged.shape == (1, 4, 4, 3)
    # Bilinear: values between black and white, not repeated pixels.
    assert len(np.unique(enlarged)) > 2
    np.testing.assert_array_equal(resize_to(checks, 2), checks)
