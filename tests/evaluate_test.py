"""The nearest-neighbour judge of muse_tf.evaluate."""

import numpy as np
import pytest

from muse_tf.evaluate import grey_pixels, nearest_neighbour_labels


def test_labels_by_the_majority_of_the_nearest_bank_rows():
    bank = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]], np.float32)
    labels = np.array([0, 0, 1, 1, 1, 2])
    query = np.array([[0.05], [5.05], [8.0]], np.float32)
    # k=3: {0, 0, 1} -> 0; {1, 1, 1} -> 1; {2, 1, 1} -> 1.
    np.testing.assert_array_equal(
        nearest_neighbour_labels(query, bank, labels, 3, k=3, chunk=2),
        [0, 1, 1])
    np.testing.assert_array_equal(
        nearest_neighbour_labels(query, bank, labels, 3, k=1), [0, 1, 2])


def test_a_bank_smaller_than_k_is_a_value_error():
    with pytest.raises(ValueError, match="fewer than k=5"):
        nearest_neighbour_labels(np.zeros((1, 2)), np.zeros((3, 2)),
                                 [0, 1, 2], 3)


def test_grey_pixels_flattens_to_unit_range():
    images = np.zeros((2, 4, 4, 3), np.uint8)
    images[1] = 255
    grey = grey_pixels(images)
    assert grey.shape == (2, 16) and grey.dtype == np.float32
    assert grey[0].max() == 0 and grey[1].min() == 1


def _always_first_class(num_classes, image_size):
    """A judge that labels every image class 0."""
    from muse_tf.models.classifier import ImageClassifier
    judge = ImageClassifier(num_classes, image_size)
    kernel, bias = judge.head.get_weights()
    judge.head.set_weights([np.zeros_like(kernel),
                            np.eye(num_classes)[0].astype(bias.dtype)])
    return judge


def test_class_model_report_on_real_fashion_mnist():
    from muse_tf.class_pipeline import ClassToImage
    from muse_tf.configs import get_preset
    from muse_tf.data import fashion_mnist
    from muse_tf.evaluate import class_model_report

    pipe = ClassToImage(get_preset("tiny_class"))  # Random weights.
    classes = pipe.config.num_classes
    real, labels = fashion_mnist.load("test")
    real, labels = real[:4 * classes], labels[:4 * classes]
    judge = _always_first_class(classes, pipe.image_size)
    report, images, asked = class_model_report(
        pipe, judge, real, labels, per_class=2, num_steps=2)
    assert images.shape == (2 * classes, *real.shape[1:])
    np.testing.assert_array_equal(asked, np.repeat(np.arange(classes), 2))
    assert report["class_fidelity"] == pytest.approx(1 / classes)
    assert report["judge_real_accuracy"] == pytest.approx(np.mean(labels == 0))
    # Random-weight images are further from real ones than real ones are
    # from each other.
    assert report["fid"] > report["fid_real_halves"] > 0
    with pytest.raises(ValueError, match="held-out real"):
        class_model_report(pipe, judge, real[:3 * classes],
                           labels[:3 * classes], per_class=2)
