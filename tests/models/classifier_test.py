"""The fidelity judge: it learns, saves and loads, and refuses bad input."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from muse_tf.models.classifier import (
    ImageClassifier,
    InceptionProbe,
    load_judge,
)


def _two_colours(count, size=16):
    """Red images are class 0, blue ones class 1 (with a little noise)."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, count)
    images = rng.integers(0, 40, [count, size, size, 3])
    images[labels == 0, ..., 0] += 200
    images[labels == 1, ..., 2] += 200
    return images.astype(np.uint8), labels


def test_learns_a_separable_task_and_round_trips(tmp_path):
    import keras
    # Keras draws initial weights from its own seed, which earlier tests
    # in the same worker advance: fix it, so the test does not depend on
    # which tests ran first.
    keras.utils.set_random_seed(0)
    images, labels = _two_colours(256)
    model = ImageClassifier(2, 16)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True))
    model.fit(images, labels, epochs=3, batch_size=32, verbose=0)
    test_images, test_labels = _two_colours(64)
    predicted = model.predict_labels(test_images)
    assert np.mean(predicted == test_labels) > 0.95
    model.save_to(str(tmp_path), ["red", "blue"])
    restored, names = load_judge(str(tmp_path))
    assert names == ["red", "blue"]
    np.testing.assert_array_equal(restored.predict_labels(test_images),
                                  predicted)
    # Packed for bundling: float16, without the optimizer state that Keras
    # saves with a compiled model.
    packed = str(tmp_path / "packed")
    subprocess.run([sys.executable, "-m", "muse_tf.cli", "train", "pack",
                    str(tmp_path), packed],
                   check=True, capture_output=True)
    with h5py.File(os.path.join(tmp_path, "classifier.weights.h5")) as f:
        assert "optimizer" in f
    with h5py.File(os.path.join(packed, "classifier.weights.h5")) as f:
        assert "optimizer" not in f
    restored, _ = load_judge(packed)
    np.testing.assert_array_equal(restored.predict_labels(test_images),
                                  predicted)


def test_images_of_another_size_are_a_value_error():
    with pytest.raises(ValueError, match=r"\[N, 16, 16, 3\]"):
        ImageClassifier(2, 16).predict_labels(np.zeros([1, 8, 8, 3],
                                                       np.uint8))


def test_inception_probe_learns_from_features_and_round_trips(
        tmp_path, fid_features):
    images, labels = _two_colours(48)
    probe = InceptionProbe(2, 16, fid_features)
    probe.fit_head(fid_features(images).astype(np.float32), labels,
                   validation=None, epochs=20, batch_size=16,
                   learning_rate=1e-2)
    test_images, test_labels = _two_colours(16)
    predicted = probe.predict_labels(test_images)
    assert np.mean(predicted == test_labels) > 0.9
    probe.save_to(str(tmp_path), ["red", "blue"])
    restored, names = load_judge(str(tmp_path), fid_features)
    assert names == ["red", "blue"] and isinstance(restored, InceptionProbe)
    np.testing.assert_array_equal(restored.predict_labels(test_images),
                                  predicted)
    with pytest.raises(ValueError, match=r"\[N, 16, 16, 3\]"):
        restored.predict_labels(np.zeros([1, 8, 8, 3], np.uint8))


def test_a_folder_without_a_judge_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="no judge"):
        load_judge(str(tmp_path))
