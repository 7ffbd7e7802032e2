"""Judging generated images against real ones.

For now the nearest-neighbour judge of the class-conditional model: label a
generated image by the majority class of its nearest real images. It needs
no trained classifier, so it cannot be fooled by one; it is coarse (pixel
distance), so its accuracy on real test images is the ceiling to read a
model's score against.
"""

import numpy as np


def grey_pixels(images):
    """uint8 [N, H, W, 3] -> float32 [N, H*W] grey values in [0, 1]."""
    images = np.asarray(images)
    return (images.mean(axis=-1).reshape(len(images), -1) / 255).astype(
        np.float32)


def nearest_neighbour_labels(query, bank, bank_labels, num_classes, k=5,
                             chunk=500):
    """The majority label among each query row's `k` nearest bank rows
    (Euclidean); ties go to the smaller label."""
    if len(bank) < k:
        raise ValueError(f"the bank has {len(bank)} rows, fewer than k={k}")
    bank_labels = np.asarray(bank_labels, np.int64)
    bank_norms = np.sum(bank**2, axis=1)
    labels = []
    for start in range(0, len(query), chunk):
        rows = query[start:start + chunk]
        distances = bank_norms[None] - 2 * rows @ bank.T
        nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]
        labels += [np.bincount(votes, minlength=num_classes).argmax()
                   for votes in bank_labels[nearest]]
    return np.array(labels, np.int64)
