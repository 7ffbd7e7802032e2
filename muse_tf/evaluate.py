"""Judging generated images against real ones.

FID (Heusel et al. 2017, as MaskGIT and Muse report it): the Fréchet
distance between Gaussians fitted to the FID Inception's pool_3 features of
two image sets (`muse_tf.models.inception`). And the nearest-neighbour
judge of the class-conditional model: label a generated image by the
majority class of its nearest real images. It needs no trained classifier,
so it cannot be fooled by one; it is coarse (pixel distance), so its
accuracy on real test images is the ceiling to read a model's score
against.
"""

import numpy as np
import tensorflow as tf

from muse_tf.models.inception import fid_inception, to_inception_input


class FIDFeatures:
    """uint8 images of any size -> FID Inception features, float64."""

    def __init__(self, batch_size=32):
        self.batch_size = batch_size
        model = fid_inception()
        self._features = tf.function(
            lambda images: model(to_inception_input(images)),
            jit_compile=True)

    def __call__(self, images, progress=None):
        """uint8 [N, H, W, 3] -> float64 [N, 2048]; `progress`, a tqdm
        bar, advances by the images done."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != (
                np.uint8):
            raise ValueError("images must be uint8 [N, H, W, 3], got "
                             f"{images.dtype} {images.shape}")
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start:start + self.batch_size]
            out.append(self._features(tf.constant(batch)).numpy())
            if progress is not None:
                progress.update(len(batch))
        return np.concatenate(out).astype(np.float64)


def frechet_distance(features_a, features_b):
    """FID between two feature sets [N, D] (N >= 2 each): |mu_a - mu_b|^2
    + Tr(S_a + S_b - 2 (S_a S_b)^1/2), the trace of the square root taken
    as the sum of the square roots of the eigenvalues of
    S_a^1/2 S_b S_a^1/2 (symmetric, so numerically stable, unlike a
    general matrix square root)."""
    for name, features in (("features_a", features_a),
                           ("features_b", features_b)):
        if np.ndim(features) != 2 or len(features) < 2:
            raise ValueError(f"{name} must be [N >= 2, D], got shape "
                             f"{np.shape(features)}")
    mean_a, mean_b = np.mean(features_a, 0), np.mean(features_b, 0)
    cov_a = np.atleast_2d(np.cov(features_a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(features_b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(cross, 0, None)))
    return float(np.sum((mean_a - mean_b)**2) + np.trace(cov_a)
                 + np.trace(cov_b) - 2 * trace_root)


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
