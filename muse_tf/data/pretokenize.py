"""The offline pass that turns images and their conditions into VQ token
shards, one format for every model.

Transformer training never re-runs the frozen VQGAN encoder or the text
encoder (the practice of the open reproductions): one pass writes every
example as a tf.train.Example to TFRecord shards:

  tokens       int64 [L]      VQ token ids of the image
  low_res_tokens int64 [l]    (super-res shards only) the low-res VQGAN's
                              ids of the same image downsampled to its size
and its condition, either text (an (image, caption) pair):
  text_states  bytes          float16 [T, D] text encoder states (float16
                              halves the shards; the states are LayerNorm
                              outputs of order 1, well inside its range)
  text_mask    int64 [T]      1 for real word pieces, 0 for padding
  text_pooled  bytes          (encoders with a pooled output only: CLIP,
                              which aMUSEd's U-ViT is modulated by)
                              float16 [P], the prompt's summary vector
  caption      bytes          the caption, for inspection
or a class (an (image, label) pair, or an image whose caption is its
class's name or id):
  class_id     int64          the label

beside `metadata.json` (shapes, example count, the condition, the key
below) and, for text, `null_text.npz` (the empty prompt's states, mask
and pooled vector if any: the condition of dropped examples for
classifier-free guidance). Shards are written to a temporary directory
and renamed when complete, so a killed pass never leaves shards that
look finished.

The metadata's `key` is a `fingerprint` of everything the shards depend on
(the data source, image size, the VQGAN's and text encoder's weights);
shards made from other inputs are rebuilt, never reused silently: a
rebuilt dataset with the same size but other captions would otherwise pair
images with the wrong text.
"""

import hashlib
import json
import os
import shutil

import numpy as np
import tensorflow as tf
import tqdm

from muse_tf.conditioning import parse_class_ids
from muse_tf.data.pipeline import downsample, to_model_range

METADATA = "metadata.json"
NULL_TEXT = "null_text.npz"
# The text encoder's outputs, in its order: NULL_TEXT's array names.
_TEXT_OUTPUTS = ("states", "mask", "pooled")
_SHARD_PATTERN = "tokens-*.tfrecord"


def fingerprint(*parts):
    """A short hex digest of strings, arrays and JSON-able values."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def read_metadata(directory):
    """The shards' metadata dict, or None if there are no finished shards."""
    path = os.path.join(directory, METADATA)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _example(tokens, condition, low_res_tokens=None):
    """A serialized tf.train.Example; `condition` is (states, mask,
    caption, pooled or None) for text or a class id."""
    feature = tf.train.Feature
    features = {
        "tokens": feature(int64_list=tf.train.Int64List(value=tokens))}
    if isinstance(condition, tuple):
        states, mask, caption, pooled = condition
        features.update(
            text_states=feature(bytes_list=tf.train.BytesList(
                value=[states.astype("<f2").tobytes()])),
            text_mask=feature(int64_list=tf.train.Int64List(value=mask)),
            caption=feature(bytes_list=tf.train.BytesList(value=[caption])))
        if pooled is not None:
            features["text_pooled"] = feature(bytes_list=tf.train.BytesList(
                value=[pooled.astype("<f2").tobytes()]))
    else:
        features["class_id"] = feature(
            int64_list=tf.train.Int64List(value=[condition]))
    if low_res_tokens is not None:
        features["low_res_tokens"] = feature(
            int64_list=tf.train.Int64List(value=low_res_tokens))
    return tf.train.Example(features=tf.train.Features(
        feature=features)).SerializeToString()


def _once_per_image(encode):
    """`encode` run on the distinct images of a batch only: a dataset with
    several captions per image repeats each image once per caption, and
    the VQGAN dominates the pass."""
    def encode_distinct(images):
        keys = tf.map_fn(tf.io.serialize_tensor, images,
                         fn_output_signature=tf.string)
        distinct, index = tf.unique(keys)
        first = tf.math.unsorted_segment_min(
            tf.range(tf.shape(images)[0]), index, tf.size(distinct))
        return tf.gather(encode(tf.gather(images, first)), index)

    return encode_distinct


def _class_ids(batch, class_names):
    """A batch's class ids: its "label"s, or else its captions read as
    class names or ids (so a captioned folder or TFDS dataset whose
    caption is the class name trains a class model)."""
    if "label" in batch:
        ids = [int(label) for label in batch["label"].numpy()]
        bad = [c for c in ids if not 0 <= c < len(class_names)]
        if bad:
            raise ValueError(f"labels must be in [0, {len(class_names)}), "
                             f"got {bad[0]}")
        return ids
    return parse_class_ids(
        [c.decode() if isinstance(c, bytes) else int(c)
         for c in batch["caption"].numpy()], class_names, "captions")


def write_token_shards(examples, vqgan, output_dir, key, text_encoder=None,
                       class_names=None, batch_size=64,
                       examples_per_shard=8192, low_res_vqgan=None):
    """Encodes `examples` into shards in `output_dir` (replacing what is
    there); returns the metadata. Text shards (`text_encoder`) read
    {"image": uint8 [S, S, 3], "caption": string}; class shards
    (`class_names`) read {"image", "label": int in [0, classes)}, or
    {"image", "caption": a class name or id}. With
    `low_res_vqgan` (super-res shards), each image is also downsampled to
    that VQGAN's image size (`downsample`, as the cascade's editing does)
    and encoded by it."""
    if (text_encoder is None) == (class_names is None):
        raise ValueError("token shards hold text or class conditions: give "
                         "a text encoder or class names")
    encode_images = tf.function(_once_per_image(
        lambda images: vqgan.encode(to_model_range(images))))
    if low_res_vqgan is not None:
        size = low_res_vqgan.config.image_size
        encode_low_res = tf.function(_once_per_image(
            lambda images: low_res_vqgan.encode(
                downsample(to_model_range(images), size))))
    if text_encoder is not None:
        encode_text = tf.function(text_encoder.__call__)
    partial = output_dir.rstrip("/") + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    count, writer = 0, None
    for batch in tqdm.tqdm(examples.batch(batch_size).prefetch(2),
                           desc="VQ encode", unit="batch"):
        ids = encode_images(batch["image"]).numpy()
        low_ids = (None if low_res_vqgan is None else
                   encode_low_res(batch["image"]).numpy())
        if text_encoder is not None:
            states, masks, *pooled = (
                t.numpy() for t in encode_text(batch["caption"]))
            conditions = [(states[i], masks[i].astype(np.int64),
                           batch["caption"][i].numpy(),
                           pooled[0][i] if pooled else None)
                          for i in range(len(ids))]
        else:
            conditions = _class_ids(batch, class_names)
        for i in range(len(ids)):
            if count % examples_per_shard == 0:
                if writer is not None:
                    writer.close()
                writer = tf.io.TFRecordWriter(os.path.join(
                    partial, f"tokens-{count // examples_per_shard:05d}"
                    ".tfrecord"))
            writer.write(_example(
                ids[i].reshape(-1), conditions[i],
                None if low_ids is None else low_ids[i].reshape(-1)))
            count += 1
    if writer is None:
        raise ValueError("The data source yielded no examples")
    writer.close()
    metadata = {"key": key, "num_examples": count,
                "sequence_length": int(ids[0].size)}
    if text_encoder is not None:
        null_text = encode_text(tf.constant([""]))
        np.savez(os.path.join(partial, NULL_TEXT), **{
            name: t.numpy() for name, t in zip(_TEXT_OUTPUTS, null_text)})
        metadata.update(condition="text", text_length=int(states.shape[1]),
                        text_dim=int(states.shape[2]))
        if pooled:
            metadata["pooled_dim"] = int(pooled[0].shape[1])
    else:
        metadata.update(condition="class", num_classes=len(class_names))
    if low_ids is not None:
        metadata["low_res_sequence_length"] = int(low_ids[0].size)
    with open(os.path.join(partial, METADATA), "w") as f:
        json.dump(metadata, f, indent=1)
    shutil.rmtree(output_dir, ignore_errors=True)
    os.rename(partial, output_dir)
    return metadata


def read_token_shards(directory):
    """(raw serialized records of every shard in a fixed order, metadata,
    null text): for text shards the null text is the empty prompt's
    encoding as the encoder gave it, (states float32 [1, T, D], mask bool
    [1, T]) and, with a pooled output, pooled float32 [1, P]; None for
    class shards. Parse batches of the records with
    `parse_token_batch(records, metadata)`."""
    metadata = read_metadata(directory)
    if metadata is None:
        raise ValueError(f"No finished token shards in {directory!r} (make "
                         f"them with `muse-tf train transformer "
                         f"--prepare-only`)")
    files = sorted(tf.io.gfile.glob(os.path.join(directory, _SHARD_PATTERN)))
    null_text = None
    if metadata.get("condition", "text") == "text":
        with np.load(os.path.join(directory, NULL_TEXT)) as null:
            null_text = tuple(
                null[name].astype(bool if name == "mask" else np.float32)
                for name in _TEXT_OUTPUTS if name in null.files)
    return tf.data.TFRecordDataset(files), metadata, null_text


def parse_token_batch(records, metadata):
    """string [B] serialized examples -> {"tokens" int32 [B, L]} plus the
    condition, {"text_states" float32 [B, T, D], "text_mask" bool [B, T]}
    (and "text_pooled" float32 [B, P] for shards that hold it) or
    {"class_id" int32 [B]}, and "low_res_tokens" int32 [B, l] for
    super-res shards."""
    features = {"tokens": tf.io.FixedLenFeature(
        [metadata["sequence_length"]], tf.int64)}
    text = metadata.get("condition", "text") == "text"
    if text:
        text_length, dim = metadata["text_length"], metadata["text_dim"]
        features.update(
            text_states=tf.io.FixedLenFeature([], tf.string),
            text_mask=tf.io.FixedLenFeature([text_length], tf.int64))
        if "pooled_dim" in metadata:
            features["text_pooled"] = tf.io.FixedLenFeature([], tf.string)
    else:
        features["class_id"] = tf.io.FixedLenFeature([], tf.int64)
    if "low_res_sequence_length" in metadata:
        features["low_res_tokens"] = tf.io.FixedLenFeature(
            [metadata["low_res_sequence_length"]], tf.int64)
    parsed = tf.io.parse_example(records, features)
    batch = {k: tf.cast(v, tf.int32) for k, v in parsed.items()
             if k in ("tokens", "class_id", "low_res_tokens")}
    if text:
        batch["text_states"] = _float16_feature(
            parsed["text_states"], [records.shape[0], text_length, dim])
        batch["text_mask"] = tf.cast(parsed["text_mask"], tf.bool)
        if "pooled_dim" in metadata:
            batch["text_pooled"] = _float16_feature(
                parsed["text_pooled"],
                [records.shape[0], metadata["pooled_dim"]])
    return batch


def _float16_feature(raw, shape):
    """string [B] of float16 bytes -> float32 `shape` ([B, ...]), with
    the static batch size again (decode_raw loses it): XLA needs it."""
    values = tf.reshape(tf.io.decode_raw(raw, tf.float16), [-1, *shape[1:]])
    return tf.ensure_shape(tf.cast(values, tf.float32), shape)
