"""Offline passes that turn a caption dataset into transformer inputs.

Transformer training never re-runs the frozen VQGAN encoder or text
encoder (the practice of the open reproductions): images become VQ token
ids once, and each distinct caption becomes token states once. Both are
cached as .npy files in the training work directory.
"""

import os

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
import tqdm

from muse_tf.data.pipeline import to_model_range  # Registers our builders.


def load_caption_dataset(name, split, data_dir=None):
    """All (image uint8 [N, H, W, 3], captions list[list[str]]) of a split."""
    ds = tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False)
    images, captions = [], []
    for ex in tqdm.tqdm(ds.as_numpy_iterator(), desc=f"read {name}:{split}"):
        images.append(ex["image"])
        captions.append([c.decode() for c in ex["captions"]])
    return np.stack(images), captions


def encode_images(vqgan, images, batch_size=64):
    """uint8 images [N, H, W, 3] -> int32 token ids [N, h*w]."""
    encode = tf.function(lambda x: vqgan.encode(to_model_range(x)))
    out = []
    for i in tqdm.trange(0, len(images), batch_size, desc="VQ-encode"):
        ids = encode(tf.constant(images[i:i + batch_size]))
        out.append(tf.reshape(ids, [ids.shape[0], -1]).numpy())
    return np.concatenate(out).astype(np.int32)


def encode_captions(text_encoder, captions, batch_size=256):
    """Distinct strings -> (states float16 [U, T, D], mask bool [U, T]).

    float16 halves the cache; the states are LayerNorm outputs of order 1,
    well inside its range.
    """
    encode = tf.function(text_encoder.__call__)
    states, masks = [], []
    for i in tqdm.trange(0, len(captions), batch_size, desc="text-encode"):
        s, m = encode(tf.constant(captions[i:i + batch_size]))
        states.append(s.numpy().astype(np.float16))
        masks.append(m.numpy())
    return np.concatenate(states), np.concatenate(masks)


def cached(path, make):
    """Loads the .npy at `path`, or computes it with `make()` and saves it."""
    if os.path.exists(path):
        return np.load(path)
    value = make()
    np.save(path, value)
    return value
