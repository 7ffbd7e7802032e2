"""Image-caption training data from three kinds of source, as tf.data.

A source is named by a spec string (the training scripts' `--data`):

  tfds:NAME[/CONFIG][:SPLIT]   a TFDS dataset; the image and caption
                               features are named by `image_key` and
                               `caption_key` (a caption sequence gives one
                               example per caption).
  folder:DIR                   image files in DIR and their captions in
                               DIR/captions.jsonl (lines {"file": ...,
                               "caption": ...}) or DIR/captions.csv (header
                               `file,caption`).
  tfrecord:GLOB                TFRecord shards of tf.train.Example with
                               bytes features `image` (encoded PNG/JPEG/...)
                               and `caption`.
  fashion_mnist:SPLIT          Debian's Fashion-MNIST (`data/fashion_mnist`),
                               captioned with the class name, with `label`.

Every source becomes {"image": uint8 [size, size, 3], "caption": string}:
resized so the shorter side is `size`, then centre-cropped. Images that do
not decode are skipped and counted (`SkipCounter`), never fatal.
"""

import csv
import glob
import json
import os

import tensorflow as tf
import tensorflow_datasets as tfds

from muse_tf.data import (
    emoji_captions,  # noqa: F401  Registers the builder.
    fashion_mnist,
)

CAPTION_FILES = ("captions.jsonl", "captions.csv")


class SkipCounter(tf.Module):
    """Counts examples read and examples kept by a pipeline; their
    difference is the images skipped as undecodable."""

    def __init__(self):
        super().__init__()
        self.read = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.kept = tf.Variable(0, dtype=tf.int64, trainable=False)

    @property
    def skipped(self):
        return int(self.read.numpy() - self.kept.numpy())


def resize_and_centre_crop(image, size):
    """uint8 [H, W, 1 or 3] -> uint8 [size, size, 3]: shorter side to
    `size` (area-averaged when shrinking), then the centre square."""
    if image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    height = tf.cast(tf.shape(image)[0], tf.float32)
    width = tf.cast(tf.shape(image)[1], tf.float32)
    scale = size / tf.minimum(height, width)
    new_size = tf.cast(tf.math.ceil([height * scale, width * scale]),
                       tf.int32)
    resized = tf.image.resize(image, new_size, method="area",
                              antialias=True)
    top = (new_size[0] - size) // 2
    left = (new_size[1] - size) // 2
    cropped = resized[top:top + size, left:left + size]
    return tf.ensure_shape(
        tf.cast(tf.clip_by_value(tf.round(cropped), 0, 255), tf.uint8),
        [size, size, 3])


def decode_images(records, load, size, counter):
    """Records -> {"image", "caption"}, where `load(record)` gives
    {"image_bytes", "caption"}. Records whose loading or decoding fails (a
    missing file, a corrupt image) are skipped and counted in `counter`."""

    def count_read(record):
        counter.read.assign_add(1)
        return record

    def load_and_decode(record):
        example = load(record)
        image = tf.io.decode_image(example["image_bytes"], channels=3,
                                   expand_animations=False)
        return {"image": resize_and_centre_crop(image, size),
                "caption": example["caption"]}

    def count_kept(example):
        counter.kept.assign_add(1)
        return example

    ds = records.map(count_read).map(load_and_decode,
                                     num_parallel_calls=tf.data.AUTOTUNE)
    return ds.ignore_errors().map(count_kept)


def _caption_rows(folder):
    """[(file path, caption)] from the folder's captions file."""
    for name in CAPTION_FILES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            break
    else:
        raise ValueError(f"No captions file in {folder!r}: expected one of "
                         f"{', '.join(CAPTION_FILES)}")
    with open(path, newline="", encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            rows = [json.loads(line) for line in f if line.strip()]
        else:
            rows = list(csv.DictReader(f))
    try:
        rows = [(os.path.join(folder, row["file"]), row["caption"])
                for row in rows]
    except KeyError as e:
        raise ValueError(f"{path}: every row needs 'file' and 'caption' "
                         f"(missing {e})") from None
    if not rows:
        raise ValueError(f"{path} lists no images")
    return rows


def folder_source(folder, size, counter):
    """Each captioned file of a folder (see the module docstring)."""
    files, captions = zip(*_caption_rows(folder))
    records = tf.data.Dataset.from_tensor_slices(
        {"path": list(files), "caption": list(captions)})
    return decode_images(records, lambda r: {
        "image_bytes": tf.io.read_file(r["path"]),
        "caption": r["caption"]}, size, counter)


def tfrecord_source(pattern, size, counter):
    """Examples of the TFRecord shards matching `pattern`."""
    files = sorted(glob.glob(pattern))
    if not files:
        raise ValueError(f"No TFRecord files match {pattern!r}")
    features = {"image": tf.io.FixedLenFeature([], tf.string),
                "caption": tf.io.FixedLenFeature([], tf.string)}

    def parse(record):
        example = tf.io.parse_single_example(record, features)
        return {"image_bytes": example["image"],
                "caption": example["caption"]}

    return decode_images(tf.data.TFRecordDataset(files), parse, size,
                         counter)


def tfds_source(name, split, size, data_dir=None, image_key="image",
                caption_key="caption"):
    """{"image", "caption"} from a TFDS dataset (decoded by TFDS)."""
    ds = tfds.load(name, split=split, data_dir=data_dir)
    spec = ds.element_spec
    for key in (image_key, caption_key):
        if key not in spec:
            raise ValueError(f"TFDS {name!r} has no feature {key!r}; it has "
                             f"{sorted(spec)}")

    def examples(ex):
        captions = ex[caption_key]
        if captions.shape.rank == 0:
            captions = captions[None]
        count = tf.shape(captions)[0]
        image = resize_and_centre_crop(ex[image_key], size)
        return tf.data.Dataset.from_tensor_slices({
            "image": tf.repeat(image[None], count, axis=0),
            "caption": captions})

    return ds.flat_map(examples)


def _split_spec(spec):
    """"kind:rest" -> (kind, rest); ValueError for an unknown kind."""
    kind, _, rest = spec.partition(":")
    if kind not in ("tfds", "folder", "tfrecord", "fashion_mnist"):
        raise ValueError(f"Unknown data source {spec!r}: expected "
                         f"tfds:NAME, folder:DIR, tfrecord:GLOB or "
                         f"fashion_mnist:SPLIT")
    return kind, rest


def source_signature(spec, data_dir=None):
    """A JSON-able description of what `spec` holds now (TFDS version and
    split size; captions and file sizes of a folder; shard names and
    sizes), so caches built from it notice when the data changes."""
    kind, rest = _split_spec(spec)
    if kind == "tfds":
        name, _, split = rest.partition(":")
        info = tfds.builder(name, data_dir=data_dir).info
        return [spec, str(info.version),
                info.splits[split or "train"].num_examples]
    if kind == "folder":
        return [spec] + [[caption, os.path.getsize(path)
                          if os.path.exists(path) else None]
                         for path, caption in _caption_rows(rest)]
    if kind == "fashion_mnist":
        return [spec, fashion_mnist.DIRECTORY]
    return [spec] + [[path, os.path.getsize(path)]
                     for path in sorted(glob.glob(rest))]


def load_source(spec, size, counter=None, data_dir=None, image_key="image",
                caption_key="caption"):
    """The dataset a spec string names (see the module docstring)."""
    kind, rest = _split_spec(spec)
    if kind == "tfds":
        name, _, split = rest.partition(":")
        return tfds_source(name, split or "train", size, data_dir,
                           image_key, caption_key)
    if kind == "fashion_mnist":
        if size != fashion_mnist.IMAGE_SIZE:
            raise ValueError(f"Fashion-MNIST images are "
                             f"{fashion_mnist.IMAGE_SIZE} pixels, not {size}")
        return fashion_mnist.dataset(rest or "train")
    counter = counter if counter is not None else SkipCounter()
    if kind == "folder":
        return folder_source(rest, size, counter)
    return tfrecord_source(rest, size, counter)
