"""Judging generated images against real ones.

FID (Heusel et al. 2017, as MaskGIT and Muse report it): the Fréchet
distance between Gaussians fitted to the FID Inception's pool_3 features of
two image sets (`muse_tf.models.inception`). Class fidelity: the share of
generated images that a classifier trained on real images
(`muse_tf.models.classifier`) labels with the class asked for: the emoji
a prompt names, for a text-to-image model (`text_model_report`), or the
class id (`class_model_report`); read beside the judge's accuracy on real
held-out images, and on the same images after the model's VQGAN encoded
and decoded them (`last_vqgan`: the tokenizer's share of the gap),
and the same two on real training images: the images whose tokens the
transformer learned to reproduce (`judge_on_real`). A tokenizer alone is
judged the same way, without a transformer (`tokenizer_report`).
"""

import hashlib

import numpy as np
import tensorflow as tf

from muse_tf.data.pipeline import to_model_range, to_uint8
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
        return in_padded_batches(self._features, images, self.batch_size,
                                 progress).astype(np.float64)


def in_padded_batches(compiled, images, batch_size, progress=None):
    """`compiled` (a jit-compiled function of an image batch) over images
    [N, ...] in batches, the last one zero-padded to the same shape (so XLA
    compiles once) and its padding dropped; `progress`, a tqdm bar,
    advances by the images done."""
    out = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        padded = np.pad(batch, [(0, batch_size - len(batch))]
                        + [(0, 0)] * (batch.ndim - 1))
        out.append(compiled(tf.constant(padded)).numpy()[:len(batch)])
        if progress is not None:
            progress.update(len(batch))
    return np.concatenate(out)


class MemoizedFeatures:
    """An FIDFeatures that remembers the features of every image set it has
    seen (by content), so a series of evaluations against the same held-out
    images (the decoding ablations) computes theirs once."""

    def __init__(self, fid_features):
        self._fid_features = fid_features
        self._memo = {}

    def __call__(self, images, progress=None):
        images = np.asarray(images)
        key = (images.shape, images.dtype.str,
               hashlib.sha1(images.tobytes()).hexdigest())
        if key not in self._memo:
            self._memo[key] = self._fid_features(images, progress)
        elif progress is not None:
            progress.update(len(images))
        return self._memo[key]


def frechet_distance(features_a, features_b):
    """FID between two feature sets [N, D] (N >= 2 each): |mu_a - mu_b|^2
    + Tr(S_a + S_b - 2 (S_a S_b)^1/2).

    With X the centred features, the nonzero eigenvalues of S_a S_b are
    those of M M^T, M = X_a X_b^T / sqrt((N_a - 1)(N_b - 1)), so the trace
    of the root is the sum of M's singular values: an N_a x N_b problem,
    far smaller than the D x D one (D = 2048) for the thousands of images
    of a report. For more images than dimensions, it is the sum of the
    roots of the eigenvalues of S_a^1/2 S_b S_a^1/2 (symmetric, so stable,
    unlike a general matrix square root).
    """
    for name, features in (("features_a", features_a),
                           ("features_b", features_b)):
        if np.ndim(features) != 2 or len(features) < 2:
            raise ValueError(f"{name} must be [N >= 2, D], got shape "
                             f"{np.shape(features)}")
    features_a = np.asarray(features_a, np.float64)
    features_b = np.asarray(features_b, np.float64)
    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    centred_a, centred_b = features_a - mean_a, features_b - mean_b
    scale_a, scale_b = len(features_a) - 1, len(features_b) - 1
    trace_a = np.sum(centred_a**2) / scale_a
    trace_b = np.sum(centred_b**2) / scale_b
    if max(len(features_a), len(features_b)) <= features_a.shape[1]:
        cross = centred_a @ centred_b.T / np.sqrt(scale_a * scale_b)
        trace_root = np.sum(np.linalg.svd(cross, compute_uv=False))
    else:
        values, vectors = np.linalg.eigh(centred_a.T @ centred_a / scale_a)
        root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
        product = root_a @ (centred_b.T @ centred_b / scale_b) @ root_a
        trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(product), 0,
                                            None)))
    return float(np.sum((mean_a - mean_b)**2) + trace_a + trace_b
                 - 2 * trace_root)


def generate_images(pipe, conditions, seed=0, batch_size=32, progress=None,
                    **decode):
    """uint8 images, one per condition (a prompt for a text pipeline, a
    class id for a class-conditional one), in batches whose seeds follow
    from `seed`; `decode`: the pipeline's decoding arguments (num_steps,
    guidance_scale). Every batch is `batch_size` long, a short one padded
    with repeats of its last condition (dropped after), so the pipeline
    compiles for one batch shape however many calls share it."""
    images = []
    for start in range(0, len(conditions), batch_size):
        part = list(conditions[start:start + batch_size])
        padding = [part[-1]] * (batch_size - len(part))
        images.append(pipe(part + padding, seed=seed + start,
                           **decode)[:len(part)])
        if progress is not None:
            progress.update(len(part))
    return np.concatenate(images)


def tokenizer_round_trip(vqgan, batch_size=32):
    """A function: uint8 images at the VQGAN's size -> (their token ids
    [N, h, w], the uint8 images those tokens decode to): what the tokens
    keep of the images. Compiled once for all its calls (held-out and
    training images)."""
    encode = tf.function(lambda x: vqgan.encode(to_model_range(x)),
                         jit_compile=True)
    decode = tf.function(lambda ids: to_uint8(vqgan.decode(ids)),
                         jit_compile=True)

    def round_trip(images):
        ids = in_padded_batches(encode, np.asarray(images), batch_size)
        return ids, in_padded_batches(decode, ids, batch_size)

    return round_trip


def last_vqgan(pipe):
    """The VQGAN of a pipeline's last stage, whose tokens it generates.
    The judge's accuracy on real images after its round trip
    (`tokenizer_round_trip`) is what a transformer that reproduced real
    images' tokens exactly would score; it separates the tokenizer's share
    of a fidelity gap from the transformer's (generated images can still
    score higher by being more typical than real ones)."""
    return pipe.stages[-1].vqgan


def resize_to(images, size):
    """uint8 square images [N, S, S, 3] -> [N, size, size, 3] (as they are
    if they are that size already). Shrinking averages areas, as the
    training data sources do (`data.sources.resize_and_centre_crop`), so a
    shrunk image is the one a smaller model learned. Enlarging (a 32-pixel
    tokenizer's images for a judge that learned 64-pixel ones) is bilinear:
    area resizing enlarges by repeating pixels, whose blocky edges the
    judge never saw in its smooth training images. On the 950 held-out
    emoji shrunk to 32 pixels, the emoji judge recognised 51.2% enlarged
    bilinearly, 20.7% enlarged by area (53.6% bicubic; 58.6% at 64)."""
    if np.shape(images)[1:3] == (size, size):
        return np.asarray(images)
    method = "area" if np.shape(images)[1] > size else "bilinear"
    resized = tf.image.resize(tf.cast(images, tf.float32), [size, size],
                              method=method)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255),
                   tf.uint8).numpy()


def judge_labels(judge, images, progress=None):
    """The judge's labels for uint8 images of any square size, area-resized
    to the judge's (a 128-pixel cascade's images are judged at the size
    the judge learned); `progress`, a tqdm bar, advances by the images
    done."""
    return judge.predict_labels(resize_to(images, judge.image_size),
                                progress=progress)


def judge_on_real(judge, sets, progress=None):
    """The judge's accuracy on real images and on them after a VQGAN round
    trip (`last_vqgan`), and the share of the first that the second
    keeps (None when the first is 0), for each of `sets`: {key suffix:
    (real images, their round trips, judge labels)}. Suffix "" is the
    held-out images (judge_real_accuracy, judge_vqgan_round_trip_accuracy,
    judge_vqgan_round_trip_kept), "_train" the training images
    (judge_real_train_accuracy, ...)."""
    report = {}
    for suffix, (real_images, round_trip, labels) in sets.items():
        labels = np.asarray(labels)
        real = float(np.mean(judge_labels(judge, real_images, progress)
                             == labels))
        trip = float(np.mean(judge_labels(judge, round_trip, progress)
                             == labels))
        report.update({
            f"judge_real{suffix}_accuracy": real,
            f"judge_vqgan_round_trip{suffix}_accuracy": trip,
            f"judge_vqgan_round_trip{suffix}_kept": trip / real if real
            else None})
    return report


def real_sets(vqgan, real_images, real_labels, real_train=None,
              batch_size=32):
    """`judge_on_real`'s sets of a model report: the held-out images and,
    given `real_train` (training images, their judge labels), the training
    ones, with their round trips through `vqgan`."""
    round_trip = tokenizer_round_trip(vqgan, batch_size)
    sets = {"": (real_images, round_trip(real_images)[1], real_labels)}
    if real_train is not None:
        train_images, train_labels = real_train
        sets["_train"] = (train_images, round_trip(train_images)[1],
                          train_labels)
    return sets


def images_in(sets):
    """How many images `judge_on_real` judges for `sets`."""
    return sum(len(real) + len(trip) for real, trip, _ in sets.values())


def codebook_usage(ids, codebook_size):
    """How much of a codebook token ids [...] use: the codes that occur,
    their share of the codebook, and the perplexity of the codes'
    frequencies (exp of their entropy: the number of equally used codes
    that would carry as much information)."""
    counts = np.bincount(np.ravel(ids), minlength=codebook_size)
    shares = counts[counts > 0] / counts.sum()
    used = int(np.count_nonzero(counts))
    return {"codebook_codes_used": used,
            "codebook_usage": used / codebook_size,
            "codebook_perplexity": float(np.exp(-np.sum(
                shares * np.log(shares))))}


def real_halves(count, num_real, seed):
    """Two disjoint index sets of `count` held-out real images each, by a
    fixed shuffle (so both hold every class alike)."""
    if num_real < 2 * count:
        raise ValueError(f"{count} generated images need {2 * count} "
                         f"held-out real ones for FID, got {num_real}")
    order = np.random.default_rng(seed).permutation(num_real)
    return order[:count], order[count:2 * count]


def fid_against_floor(fid_features, generated, real_a, real_b,
                      round_trip_b=None):
    """FID of generated vs real images, beside the real data's own noise
    floor: the FID between two disjoint real halves of the same size; and,
    given `round_trip_b` (real_b after the model's VQGAN round trip), the
    FID of those against real_a: the best the model's tokens allow
    (MaskGIT's reconstruction FID, at this sample size). `generated` None:
    the floor and the round trip's FID alone (a tokenizer's report)."""
    import tqdm

    sets = {"generated": generated, "real_a": real_a, "real_b": real_b,
            "round_trip_b": round_trip_b}
    sets = {k: v for k, v in sets.items() if v is not None}
    with tqdm.tqdm(total=sum(map(len, sets.values())), desc="FID features",
                   unit="image") as progress:
        features = {k: fid_features(v, progress) for k, v in sets.items()}
    floor = frechet_distance(features["real_a"], features["real_b"])
    report = {"fid_real_halves": floor}
    if generated is not None:
        fid = frechet_distance(features["generated"], features["real_a"])
        report = {"fid": fid, **report, "fid_over_floor": fid / floor}
    if round_trip_b is not None:
        report["fid_vqgan_round_trip"] = frechet_distance(
            features["round_trip_b"], features["real_a"])
    return report


def class_model_report(pipe, judge, real_images, real_labels, per_class=100,
                       seed=0, batch_size=50, fid_features=None,
                       real_train=None, **decode):
    """FID and class fidelity of a class-conditional pipeline.

    Generates `per_class` images of every class. Class fidelity: the share
    the judge (`models.classifier`, trained on real images)
    labels with the class asked for, beside its accuracy on the held-out
    real images. FID: generated against as many held-out real images, and
    the data's own noise floor, the FID between those and as many other
    held-out real images (so the held-out set needs two per generated one).
    `real_train`: (training images, their classes), judged with their VQGAN
    round trips beside the held-out ones (`judge_on_real`), or None.
    `decode`: num_steps, guidance_scale.

    Returns (report dict, generated images, classes asked for).
    """
    import tqdm

    num_classes = pipe.config.classes.num_classes
    asked = np.repeat(np.arange(num_classes), per_class)
    first, second = real_halves(len(asked), len(real_images), seed)
    batch_size = min(batch_size, len(asked))
    with tqdm.tqdm(total=len(asked), desc="generate", unit="image") as bar:
        images = generate_images(pipe, asked.tolist(), seed, batch_size, bar,
                                 **decode)
    sets = real_sets(last_vqgan(pipe), real_images, real_labels, real_train,
                     batch_size)
    round_trip = sets[""][1]
    with tqdm.tqdm(total=len(images) + images_in(sets), desc="judge",
                   unit="image") as bar:
        found = judge_labels(judge, images, bar)
        on_real = judge_on_real(judge, sets, bar)
    report = {
        "images": len(asked),
        "class_fidelity": float(np.mean(found == asked)),
        **on_real,
        "class_fidelity_by_class": {
            str(c): float(np.mean(found[asked == c] == c))
            for c in range(num_classes)},
        **fid_against_floor(fid_features or FIDFeatures(), images,
                            real_images[first], real_images[second],
                            round_trip[second]),
    }
    return report, images, asked


def text_model_report(pipe, judge, prompt_sets, real_images, real_labels,
                      real_prompts, seed=0, batch_size=32, fid_features=None,
                      real_train=None, **decode):
    """Prompt fidelity and FID of a text-to-image pipeline.

    prompt_sets: {name: (prompts [N], class asked for by each [N])}; the
      prompt fidelity of a set is the share of its generated images the
      judge labels with the class asked for (e.g. training-style prompts,
      and paraphrases the model never saw).
    real_images, real_labels, real_prompts: the held-out real images, their
      judge classes and a training-style prompt of each. The held-out set
      is split into two halves; FID is that of images generated for the
      second half's prompts against the first half, beside the FID of the
      two real halves (the noise floor), so generated and real images ask
      for the same mix of emoji and styles.
    real_train: (training images, their judge classes), judged with their
      VQGAN round trips beside the held-out ones (`judge_on_real`), or None.
    decode: num_steps, guidance_scale (and the super-res stage's).

    Returns (report dict, {set name: generated images}).
    """
    import tqdm

    count = len(real_images) // 2
    first, second = real_halves(count, len(real_images), seed)
    jobs = dict(prompt_sets, fid=(np.asarray(real_prompts)[second], None))
    # One batch shape for every set: each new shape compiles the pipeline
    # again, which costs more than a few padded rows.
    batch_size = min(batch_size, max(len(p) for p, _ in jobs.values()))
    generated = {}
    with tqdm.tqdm(total=sum(len(p) for p, _ in jobs.values()),
                   desc="generate", unit="image") as progress:
        for name, (prompts, _) in jobs.items():
            generated[name] = generate_images(pipe, prompts, seed,
                                              batch_size, progress, **decode)
    sets = real_sets(last_vqgan(pipe), real_images, real_labels, real_train,
                     batch_size)
    round_trip = sets[""][1]
    judged = sum(len(generated[name]) for name in prompt_sets)
    with tqdm.tqdm(total=judged + images_in(sets), desc="judge",
                   unit="image") as progress:
        fidelity = {
            name: float(np.mean(judge_labels(judge, generated[name],
                                             progress) == np.asarray(asked)))
            for name, (_, asked) in prompt_sets.items()}
        on_real = judge_on_real(judge, sets, progress)
    report = {
        "images": {name: len(p) for name, (p, _) in jobs.items()},
        "prompt_fidelity": fidelity,
        **on_real,
        **fid_against_floor(fid_features or FIDFeatures(), generated["fid"],
                            real_images[first], real_images[second],
                            round_trip[second]),
    }
    return report, generated


def tokenizer_report(vqgan, judge, held_out, train, seed=0, batch_size=32,
                     fid_features=None):
    """What a VQGAN tokenizer alone keeps of real images, without a
    transformer: the judge's accuracy on real training and held-out images
    and on their round trips (`judge_on_real`); the FID of the round trips
    of half the held-out images against the other half, beside the FID of
    the two real halves (the floor); and the codebook's usage over the
    tokens of both sets (`codebook_usage`).

    held_out, train: (uint8 images at the VQGAN's size [N, S, S, 3], their
      judge classes [N]); the judge sees them resized to its own size
      (`resize_to`).
    """
    import tqdm

    round_trip = tokenizer_round_trip(vqgan, batch_size)
    trips = {"held_out": round_trip(held_out[0]),
             "train": round_trip(train[0])}
    sets = {"": (held_out[0], trips["held_out"][1], held_out[1]),
            "_train": (train[0], trips["train"][1], train[1])}
    with tqdm.tqdm(total=images_in(sets), desc="judge",
                   unit="image") as progress:
        report = judge_on_real(judge, sets, progress)
    count = len(held_out[0]) // 2
    first, second = real_halves(count, len(held_out[0]), seed)
    ids = np.concatenate([ids.ravel() for ids, _ in trips.values()])
    return {"images": {"held_out": len(held_out[0]),
                       "train": len(train[0]), "fid": count},
            **report,
            **fid_against_floor(fid_features or FIDFeatures(), None,
                                held_out[0][first], held_out[0][second],
                                trips["held_out"][1][second]),
            **codebook_usage(ids, vqgan.config.codebook_size)}
