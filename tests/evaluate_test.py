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
