"""Image-caption training data from three kinds of source, as tf.data.

A source is named by a spec string (the training scripts' `--data`):

  tfds:NAME[/CONFIG][:SPLIT]   a TFDS dataset; the image and caption
                               features are named by `image_key` and
                               `caption_key` (a caption sequence gives one
                               example per caption, or with
                               `per_caption=False` one per image, with its
                               first caption).
  folder:DIR                   image files in DIR and their captions in
                               DIR/captions.jsonl (lines {"file": ...,
                               "caption": ...}) or DIR/captions.csv (header
                               `file,caption`).
  tfrecord:GLOB                TFRecord shards of tf.train.Example with
                               bytes features `image` (encoded PNG/JPEG/...)
                               and `caption`.
  fashion_mnist:SPLIT          Debian's Fashion-MNIST (`data/fashion_mnist`),
                               captioned with the class name, with `label`.

Any spec may end in a slice of its examples (images, or a folder's or
shards' records) in TFDS's syntax: `[START:STOP]`, either bound optional,
as example counts or percentages of the whole, negative ones counting from
the end, e.g. `fashion_mnist:train[:2048]`, `folder:DIR[-10%:]`,
`tfrecord:GLOB[100:200]`, `tfds:NAME[:10%]` (the train split). TFDS
slices a tfds: spec itself (so its other split syntax works there too);
the others are sliced here, as TFDS would: percentages round to the
closest example, and a bound past the last example is an error.

A spec the source cannot read is a ValueError whose one-line message names
it.

Every source becomes {"image": uint8 [size, size, 3], "caption": string}:
resized so the shorter side is `size`, then centre-cropped. Images that do
not decode are skipped and counted (`SkipCounter`), never fatal.
"""

import contextlib
import csv
import dataclasses
import glob
import json
import os
import re

import numpy as np
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


# "SPEC[START:STOP]": the slice in TFDS's split syntax that may end a spec.
_TRAILING_SLICE = re.compile(
    r"\[(?P<start>[^\[\]:]*):(?P<stop>[^\[\]:]*)\]$")
# A bound: an example count or a percentage (TFDS's `_SLICE_RE`, no shards).
_BOUND = re.compile(r"^(?P<value>-?[\d_.]+)(?P<percent>%?)$")


@dataclasses.dataclass(frozen=True)
class Slice:
    """`[start:stop]` of a source's examples, as TFDS reads a split's
    slice: either bound may be None; a percentage in either makes both
    percentages (of the examples there are, rounded to the closest);
    negative bounds count from the end."""

    start: float | None
    stop: float | None
    percent: bool
    text: str  # As written: "[:2048]".

    @classmethod
    def parse(cls, text):
        """"[START:STOP]" -> a Slice; ValueError unless TFDS would read
        it so."""
        match = _TRAILING_SLICE.fullmatch(text)
        texts = (match["start"], match["stop"]) if match else ("", "")
        bounds = [_BOUND.match(t) if t else None for t in texts]
        if not match or not any(texts) or any(
                t and not b for t, b in zip(texts, bounds)):
            raise ValueError(f"bad slice {text}: expected [START:STOP] "
                             "with at least one bound, each an example "
                             "count or a percentage (e.g. [:2048], [10%:])")
        percent = any(b and b["percent"] for b in bounds)
        try:
            start, stop = (None if b is None else
                           float(b["value"]) if percent else int(b["value"])
                           for b in bounds)
        except ValueError:
            raise ValueError(f"bad slice {text}: a bound is a whole number "
                             "of examples or a percentage") from None
        if percent and any(abs(b) > 100 for b in (start, stop)
                           if b is not None):
            raise ValueError(f"bad slice {text}: percentages lie in "
                             "[-100%, 100%]")
        return cls(start, stop, percent, text)

    def bounds(self, count):
        """(first, end) indices into `count` examples; ValueError when a
        bound lies beyond them."""

        def absolute(bound, default):
            if bound is None:
                return default
            if self.percent:
                return round(bound * count / 100.0)
            return bound

        start, stop = absolute(self.start, 0), absolute(self.stop, count)
        if abs(start) > count or abs(stop) > count:
            raise ValueError(f"slice {self.text} reaches past the {count} "
                             "examples there are")
        return (start + count if start < 0 else start,
                stop + count if stop < 0 else stop)


def split_slice(spec):
    """"SPEC[START:STOP]" -> ("SPEC", "[START:STOP]"); a spec without a
    trailing slice -> (spec, "")."""
    match = _TRAILING_SLICE.search(spec)
    if not match:
        return spec, ""
    return spec[:match.start()], match.group(0)


def take_slice(records, bracket):
    """The `bracket` ("[START:STOP]", see `Slice`) of a dataset's elements;
    all of them for "". Counts the elements first when their number is not
    known (TFRecord shards: one pass over the records, none decoded)."""
    if not bracket:
        return records
    selection = Slice.parse(bracket)
    count = int(records.cardinality())
    if count < 0:
        count = int(records.reduce(np.int64(0), lambda n, _: n + 1))
    start, stop = selection.bounds(count)
    return records.skip(start).take(max(stop - start, 0))


def folder_source(folder, size, counter, bracket=""):
    """Each captioned file of a folder (see the module docstring), or a
    slice of them (`bracket`, "[START:STOP]")."""
    files, captions = zip(*_caption_rows(folder))
    records = take_slice(tf.data.Dataset.from_tensor_slices(
        {"path": list(files), "caption": list(captions)}), bracket)
    return decode_images(records, lambda r: {
        "image_bytes": tf.io.read_file(r["path"]),
        "caption": r["caption"]}, size, counter)


def tfrecord_source(pattern, size, counter, bracket=""):
    """Examples of the TFRecord shards matching `pattern` (in the sorted
    order of their names), or a slice of them (`bracket`)."""
    files = sorted(glob.glob(pattern))
    if not files:
        raise ValueError(f"No TFRecord files match {pattern!r}")
    features = {"image": tf.io.FixedLenFeature([], tf.string),
                "caption": tf.io.FixedLenFeature([], tf.string)}

    def parse(record):
        example = tf.io.parse_single_example(record, features)
        return {"image_bytes": example["image"],
                "caption": example["caption"]}

    return decode_images(take_slice(tf.data.TFRecordDataset(files), bracket),
                         parse, size, counter)


def tfds_source(name, split, size, data_dir=None, image_key="image",
                caption_key="caption", per_caption=True):
    """{"image", "caption"} from a TFDS dataset (decoded by TFDS); `split`
    in TFDS's syntax, slices included. An image with several captions is
    one example per caption, or with `per_caption=False` one example (its
    first caption): what a tokenizer, which sees only images, trains on."""
    try:
        ds = tfds.load(name, split=split, data_dir=data_dir)
    except AssertionError as e:  # TFDS's "Manual directory ... is empty".
        raise ValueError(" ".join(str(e).split())) from e
    spec = ds.element_spec
    for key in (image_key, caption_key):
        if key not in spec:
            raise ValueError(f"TFDS {name!r} has no feature {key!r}; it has "
                             f"{sorted(spec)}")

    def examples(ex):
        captions = ex[caption_key]
        if captions.shape.rank == 0:
            captions = captions[None]
        if not per_caption:
            captions = captions[:1]
        count = tf.shape(captions)[0]
        image = resize_and_centre_crop(ex[image_key], size)
        return tf.data.Dataset.from_tensor_slices({
            "image": tf.repeat(image[None], count, axis=0),
            "caption": captions})

    return ds.flat_map(examples)


def _split_spec(spec):
    """"kind:rest[START:STOP]" -> (kind, rest, "[START:STOP]" or "");
    ValueError for an unknown kind."""
    base, bracket = split_slice(spec)
    kind, _, rest = base.partition(":")
    if kind not in ("tfds", "folder", "tfrecord", "fashion_mnist"):
        raise ValueError(f"Unknown data source {spec!r}: expected "
                         f"tfds:NAME, folder:DIR, tfrecord:GLOB or "
                         f"fashion_mnist:SPLIT")
    return kind, rest, bracket


@contextlib.contextmanager
def _naming(spec):
    """A ValueError inside becomes one naming `spec`, on one line (the
    first of its message: TFDS's can list every dataset it has)."""
    try:
        yield
    except ValueError as e:
        lines = [line.strip() for line in str(e).splitlines()
                 if line.strip()]
        message = lines[0] if lines else type(e).__name__
        if spec not in message:
            message = f"data {spec!r}: {message}"
        raise ValueError(message) from e


def source_signature(spec, data_dir=None):
    """A JSON-able description of what `spec` holds now (TFDS version and
    split size; captions and file sizes of a folder; shard names and
    sizes), so caches built from it notice when the data changes."""
    with _naming(spec):
        kind, rest, bracket = _split_spec(spec)
        if kind == "tfds":
            name, _, split = rest.partition(":")
            info = tfds.builder(name, data_dir=data_dir).info
            return [spec, str(info.version),
                    info.splits[(split or "train") + bracket].num_examples]
        if kind == "folder":
            return [spec] + [[caption, os.path.getsize(path)
                              if os.path.exists(path) else None]
                             for path, caption in _caption_rows(rest)]
        if kind == "fashion_mnist":
            return [spec, fashion_mnist.DIRECTORY]
        return [spec] + [[path, os.path.getsize(path)]
                         for path in sorted(glob.glob(rest))]


def load_source(spec, size, counter=None, data_dir=None, image_key="image",
                caption_key="caption", per_caption=True):
    """The dataset a spec string names (see the module docstring); a
    ValueError naming the spec, on one line, if the source cannot read
    it. `per_caption`: as `tfds_source`'s (the other sources have one
    caption per image)."""
    with _naming(spec):
        kind, rest, bracket = _split_spec(spec)
        if kind == "tfds":
            name, _, split = rest.partition(":")
            return tfds_source(name, (split or "train") + bracket, size,
                               data_dir, image_key, caption_key, per_caption)
        if kind == "fashion_mnist":
            if size != fashion_mnist.IMAGE_SIZE:
                raise ValueError(f"Fashion-MNIST images are "
                                 f"{fashion_mnist.IMAGE_SIZE} pixels, not "
                                 f"{size}")
            return take_slice(fashion_mnist.dataset(rest or "train"),
                              bracket)
        counter = counter if counter is not None else SkipCounter()
        if kind == "folder":
            return folder_source(rest, size, counter, bracket)
        return tfrecord_source(rest, size, counter, bracket)
