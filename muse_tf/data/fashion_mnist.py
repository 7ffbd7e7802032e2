"""Fashion-MNIST from Debian's `dataset-fashion-mnist` (docs/design.md §8).

The real 70k 28x28 grey images in 10 classes, read from the IDX files the
package installs (`apt-get install dataset-fashion-mnist`), for MaskGIT's
class-conditional mode. Images are padded to 32x32 (a size the VQGAN's
downsampling divides; the background is black, so the padding is too) and
repeated to three channels, the VQGAN's input.
"""

import gzip
import os

import numpy as np
import tensorflow as tf

from muse_tf.presets import FASHION_MNIST_CLASSES

DIRECTORY = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = FASHION_MNIST_CLASSES
IMAGE_SIZE = 32
_FILES = {"train": "train", "test": "t10k"}


def read_idx(path):
    """A (gzipped) IDX file -> numpy uint8 array of its shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\0\0" or data[2] != 8:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    rank = data[3]
    shape = np.frombuffer(data, ">u4", rank, 4).astype(int)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(shape)


def load(split="train", directory=DIRECTORY):
    """(images uint8 [N, 32, 32, 3], labels int32 [N]) of a split."""
    if split not in _FILES:
        raise ValueError(f"Fashion-MNIST split must be one of "
                         f"{sorted(_FILES)}, got {split!r}")
    prefix = os.path.join(directory, _FILES[split])
    path = f"{prefix}-images-idx3-ubyte.gz"
    if not os.path.exists(path):
        raise ValueError(f"Missing {path}: apt-get install "
                         "dataset-fashion-mnist")
    images = read_idx(path)
    labels = read_idx(f"{prefix}-labels-idx1-ubyte.gz").astype(np.int32)
    pad = (IMAGE_SIZE - images.shape[1]) // 2
    images = np.pad(images, [(0, 0), (pad, pad), (pad, pad)])
    return np.repeat(images[..., None], 3, axis=-1), labels


def dataset(split="train", directory=DIRECTORY):
    """{"image" uint8 [32, 32, 3], "caption" class name, "label" int32}."""
    images, labels = load(split, directory)
    names = tf.constant(CLASS_NAMES)
    return tf.data.Dataset.from_tensor_slices(
        {"image": images, "label": labels}).map(
        lambda ex: dict(ex, caption=tf.gather(names, ex["label"])))
