"""Judging generated images against real ones.

FID (Heusel et al. 2017, as MaskGIT and Muse report it): the Fréchet
distance between Gaussians fitted to the FID Inception's pool_3 features of
two image sets (`muse_tf.models.inception`). Class fidelity: the share of
generated images that a classifier trained on real images
(`muse_tf.models.classifier`) labels with the class asked for
(`class_model_report` gives both for a class-conditional model). And the
nearest-neighbour judge: label a generated image by the majority class of
its nearest real images. It needs no trained classifier, so it cannot be
fooled by one; it is coarse (pixel distance), so its accuracy on real test
images is the ceiling to read a model's score against.
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


def _generate_per_class(pipe, num_classes, per_class, seed, guidance_scale,
                        num_steps, batch_size, progress):
    """uint8 images of every class, `per_class` each, class-major, and the
    class asked for each."""
    asked = np.repeat(np.arange(num_classes), per_class)
    images = []
    for start in range(0, len(asked), batch_size):
        ids = asked[start:start + batch_size].tolist()
        images.append(pipe(ids, seed=seed + start, num_steps=num_steps,
                           guidance_scale=guidance_scale))
        progress.update(len(ids))
    return np.concatenate(images), asked


def class_model_report(pipe, judge, real_images, real_labels, per_class=100,
                       seed=0, guidance_scale=None, num_steps=None,
                       batch_size=50, fid_features=None):
    """FID and class fidelity of a class-conditional pipeline.

    Generates `per_class` images of every class. Class fidelity: the share
    the judge (`models.classifier.ImageClassifier`, trained on real images)
    labels with the class asked for, beside its accuracy on the held-out
    real images. FID: generated against as many held-out real images, and
    the data's own noise floor, the FID between those and as many other
    held-out real images (so the held-out set needs two per generated one).

    Returns (report dict, generated images, classes asked for).
    """
    import tqdm

    num_classes = pipe.config.num_classes
    count = num_classes * per_class
    if len(real_images) < 2 * count:
        raise ValueError(f"{count} generated images need {2 * count} "
                         f"held-out real ones for FID, got "
                         f"{len(real_images)}")
    fid_features = fid_features or FIDFeatures()
    with tqdm.tqdm(total=count, desc="generate", unit="image") as progress:
        images, asked = _generate_per_class(
            pipe, num_classes, per_class, seed, guidance_scale, num_steps,
            batch_size, progress)
    found = judge.predict_labels(images)
    real_found = judge.predict_labels(real_images)
    # A fixed shuffle, so both real halves hold every class alike.
    order = np.random.default_rng(seed).permutation(len(real_images))
    first, second = order[:count], order[count:2 * count]
    with tqdm.tqdm(total=3 * count, desc="FID features",
                   unit="image") as progress:
        generated = fid_features(images, progress)
        real_a = fid_features(real_images[first], progress)
        real_b = fid_features(real_images[second], progress)
    report = {
        "images": count,
        "fid": frechet_distance(generated, real_a),
        "fid_real_halves": frechet_distance(real_a, real_b),
        "class_fidelity": float(np.mean(found == asked)),
        "judge_real_accuracy": float(np.mean(real_found == real_labels)),
        "class_fidelity_by_class": {
            str(c): float(np.mean(found[asked == c] == c))
            for c in range(num_classes)},
    }
    report["fid_over_floor"] = report["fid"] / report["fid_real_halves"]
    return report, images, asked
