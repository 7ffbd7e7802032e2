"""Offline passes that turn a caption dataset into transformer inputs.

Transformer training never re-runs the frozen VQGAN encoder or text
encoder (the practice of the open reproductions): images become VQ token
ids once, and each distinct caption becomes token states once. Both are
cached as .npy files in the training work directory.
"""

import hashlib
import json
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


def fingerprint(*parts):
    """A short hex digest of strings, arrays and JSON-able values."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def cached(path, make, key):
    """Loads the .npy at `path` if it was made from `key`, else remakes it.

    `key` (a `fingerprint` of everything the value depends on: the caption
    list, the image bytes, the encoder's weights) is stored beside the
    array. A cache made from other inputs is never reused silently: a
    rebuilt dataset with the same size but other captions would otherwise
    pair images with the wrong text states.
    """
    key_path = path + ".key"
    if os.path.exists(path) and os.path.exists(key_path):
        with open(key_path) as f:
            if f.read() == key:
                return np.load(path)
        print(f"{path} was made from other inputs; recomputing")
    value = make()
    np.save(path, value)
    with open(key_path, "w") as f:
        f.write(key)
    return value
