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
    names = fashion_mnist.CLASS_NAMES
    # The judge sees 32-pixel images: the report resizes to its size.
    judge = _always_first_class(len(names), 32)
    sets = {"a": (["a shirt", "a bag"], np.array([0, 8])),
            "b": (["a t-shirt", "a top"], np.array([0, 0]))}
    report, generated = text_model_report(
        tiny_pipeline, judge, sets, real, labels,
        [f"a {names[c]}" for c in labels], num_steps=2, batch_size=2,
        fid_features=fid_features)
    assert report["prompt_fidelity"] == {"a": 0.5, "b": 1.0}
    assert report["images"] == {"a": 2, "b": 2, "fid": 6}
    assert generated["a"].shape == (2, size, size, 3)
    assert report["judge_real_accuracy"] == pytest.approx(np.mean(labels == 0))
    assert report["judge_vqgan_round_trip_accuracy"] == pytest.approx(
        np.mean(labels == 0))
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
    from muse_tf.evaluate import vqgan_round_trip

    pipe = muse_tf.load_pipeline("fashion_32")
    real = quality.load_real("fashion_mnist:test", 32)[0][:5]
    # batch_size 4: the second batch is padded, and the padding dropped.
    round_trip = vqgan_round_trip(pipe, real, batch_size=4)
    assert round_trip.shape == real.shape and round_trip.dtype == np.uint8
    error = np.abs(round_trip.astype(float)[:, None]
                   - real.astype(float)[None]).mean(axis=(2, 3, 4))
    # Each reconstruction is nearer its own image than any other one.
    np.testing.assert_array_equal(error.argmin(axis=1), np.arange(5))
