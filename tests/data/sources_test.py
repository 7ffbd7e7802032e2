import json

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.data import sources

SIZE = 8


def _png(height, width, value):
    image = np.full([height, width, 3], value, np.uint8)
    image[height // 2:, :, 0] = 255 - value  # Lower half differs in red.
    return tf.io.encode_png(image).numpy()


def _read_all(ds):
    return [(ex["image"], ex["caption"].decode())
            for ex in ds.as_numpy_iterator()]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a.png").write_bytes(_png(16, 24, 10))
    (tmp_path / "b.jpg").write_bytes(
        tf.io.encode_jpeg(np.full([20, 10, 3], 200, np.uint8)).numpy())
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really an image")
    return tmp_path


def test_folder_with_jsonl_captions_skips_and_counts_bad_images(folder):
    rows = [{"file": "a.png", "caption": "a red thing"},
            {"file": "broken.png", "caption": "corrupt"},
            {"file": "missing.png", "caption": "not there"},
            {"file": "b.jpg", "caption": "a grey thing"}]
    (folder / "captions.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows))
    counter = sources.SkipCounter()
    examples = _read_all(sources.load_source(f"folder:{folder}", SIZE,
                                             counter))
    assert [c for _, c in examples] == ["a red thing", "a grey thing"]
    assert all(image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
               for image, _ in examples)
    assert counter.skipped == 2


def test_folder_with_csv_captions(folder):
    (folder / "captions.csv").write_text(
        'file,caption\na.png,"a red thing, small"\n')
    examples = _read_all(sources.load_source(f"folder:{folder}", SIZE))
    assert [c for _, c in examples] == ["a red thing, small"]


def test_folder_without_captions_file_is_a_value_error(folder):
    with pytest.raises(ValueError, match="captions.jsonl"):
        sources.load_source(f"folder:{folder}", SIZE)


def test_tfrecord_shards(tmp_path):
    for shard in range(2):
        with tf.io.TFRecordWriter(str(tmp_path / f"d-{shard}.tfrecord")) as w:
            for i, data in enumerate([_png(12, 12, 50 * shard),
                                      b"garbage"]):
                example = tf.train.Example(features=tf.train.Features(
                    feature={
                        "image": tf.train.Feature(bytes_list=tf.train
                                                  .BytesList(value=[data])),
                        "caption": tf.train.Feature(bytes_list=tf.train
                                                    .BytesList(value=[
                                                        f"s{shard} {i}"
                                                        .encode()]))}))
                w.write(example.SerializeToString())
    counter = sources.SkipCounter()
    examples = _read_all(sources.load_source(
        f"tfrecord:{tmp_path}/d-*.tfrecord", SIZE, counter))
    assert [c for _, c in examples] == ["s0 0", "s1 0"]
    assert counter.skipped == 2


def test_resize_keeps_the_centre_square():
    image = np.zeros([10, 30, 3], np.uint8)
    image[:, 10:20] = 255  # Only the centre third is white.
    out = sources.resize_and_centre_crop(tf.constant(image), 5).numpy()
    assert out.shape == (5, 5, 3) and out.min() == 255


def test_unknown_source_kind_is_a_value_error():
    with pytest.raises(ValueError, match="ftp:x"):
        sources.load_source("ftp:x", SIZE)


@pytest.mark.slow
def test_tfds_source_gives_one_example_per_caption(sample_data_dir):
    ds = sources.load_source("tfds:emoji_captions/sample:test", SIZE,
                             data_dir=sample_data_dir,
                             caption_key="captions")
    examples = _read_all(ds)
    assert examples and len(examples) % 5 == 0  # Five captions per image.
    assert all(image.shape == (SIZE, SIZE, 3) for image, _ in examples)
    assert "Style" not in examples[0][1]  # Real captions, formatted.
    per_image = _read_all(sources.load_source(
        "tfds:emoji_captions/sample:test", SIZE, data_dir=sample_data_dir,
        caption_key="captions", per_caption=False))
    assert len(per_image) * 5 == len(examples)
    for (image, caption), (first_image, first_caption) in zip(
            per_image, examples[::5]):
        np.testing.assert_array_equal(image, first_image)
        assert caption == first_caption


def test_tfds_source_with_an_unknown_feature_is_a_value_error(
        sample_data_dir):
    with pytest.raises(ValueError, match="no feature 'caption'"):
        sources.load_source("tfds:emoji_captions/sample", SIZE,
                            data_dir=sample_data_dir)


def _captioned_folder(folder, count):
    """`count` PNGs, captioned "0", "1", ..., in captions.jsonl."""
    for i in range(count):
        (folder / f"{i}.png").write_bytes(_png(8, 8, 10 * i))
    (folder / "captions.jsonl").write_text("\n".join(
        json.dumps({"file": f"{i}.png", "caption": str(i)})
        for i in range(count)))
    return folder


def _shards(folder, sizes):
    """TFRecord shards d-0, d-1, ... of `sizes` examples, captioned with
    their position over all shards ("0", "1", ...)."""
    position = 0
    for shard, size in enumerate(sizes):
        with tf.io.TFRecordWriter(str(folder / f"d-{shard}.tfrecord")) as w:
            for _ in range(size):
                w.write(tf.train.Example(features=tf.train.Features(feature={
                    key: tf.train.Feature(bytes_list=tf.train.BytesList(
                        value=[value])) for key, value in [
                        ("image", _png(8, 8, position)),
                        ("caption", str(position).encode())]})
                ).SerializeToString())
                position += 1
    return f"{folder}/d-*.tfrecord"


@pytest.mark.parametrize("bracket", [
    "[2:5]", "[:3]", "[7:]", "[-3:]", "[:-8]", "[-4:-1]", "[25%:75%]",
    "[:33%]", "[-10%:]", "[1:50%]", "[5:2]", "[0:10]", "[:1_0]", "[12.5%:]"])
def test_slice_bounds_are_those_tfds_reads(bracket):
    import types

    import tensorflow_datasets as tfds

    count = 10
    (absolute,) = tfds.core.ReadInstruction.from_spec(
        f"train{bracket}").to_absolute(
        {"train": types.SimpleNamespace(num_examples=count)})
    expected = (absolute.from_ or 0,
                count if absolute.to is None else absolute.to)
    assert sources.Slice.parse(bracket).bounds(count) == expected


@pytest.mark.parametrize("bracket, expected", [
    ("[1:3]", ["1", "2"]), ("[-2:]", ["4", "5"]), ("[:50%]", ["0", "1", "2"])])
def test_folder_slice(tmp_path, bracket, expected):
    counter = sources.SkipCounter()
    examples = _read_all(sources.load_source(
        f"folder:{_captioned_folder(tmp_path, 6)}{bracket}", SIZE, counter))
    assert [c for _, c in examples] == expected
    assert counter.skipped == 0 and int(counter.read.numpy()) == len(expected)


@pytest.mark.parametrize("bracket, expected", [
    ("[1:4]", ["1", "2", "3"]), ("[-1:]", ["4"]), ("[40%:60%]", ["2"])])
def test_tfrecord_slice_runs_over_the_shards_in_order(tmp_path, bracket,
                                                      expected):
    pattern = _shards(tmp_path, [2, 3])
    examples = _read_all(sources.load_source(f"tfrecord:{pattern}{bracket}",
                                             SIZE))
    assert [c for _, c in examples] == expected


def test_fashion_mnist_slice():
    from muse_tf.data import fashion_mnist

    images, labels = fashion_mnist.load("test")
    for spec, expected in [("fashion_mnist:test[:5]", slice(0, 5)),
                           ("fashion_mnist:test[-3:]", slice(-3, None)),
                           ("fashion_mnist:test[:0.05%]", slice(0, 5))]:
        examples = list(sources.load_source(spec, 32).as_numpy_iterator())
        np.testing.assert_array_equal([ex["label"] for ex in examples],
                                      labels[expected])
        np.testing.assert_array_equal([ex["image"] for ex in examples],
                                      images[expected])


def test_tfds_slice(sample_data_dir):
    spec = "tfds:emoji_captions/sample:test"
    whole = _read_all(sources.load_source(spec, SIZE,
                                          data_dir=sample_data_dir,
                                          caption_key="captions"))
    head = _read_all(sources.load_source(f"{spec}[:2]", SIZE,
                                         data_dir=sample_data_dir,
                                         caption_key="captions"))
    assert [c for _, c in head] == [c for _, c in whole[:10]]  # 5 each.
    assert sources.source_signature(f"{spec}[:2]", sample_data_dir)[2] == 2
    train = _read_all(sources.load_source(  # No split: train's, sliced.
        "tfds:emoji_captions/sample[-1:]", SIZE, data_dir=sample_data_dir,
        caption_key="captions"))
    assert len(train) == 5


@pytest.mark.parametrize("spec", [
    "fashion_mnist:validation",
    "fashion_mnist:test[:20000]",
    "fashion_mnist:test[:x]",
    "fashion_mnist:test[:150%]",
    "FOLDER[:7]",
    "FOLDER[3]",
    "FOLDER[:4shard]",
    "tfrecord:/nonexistent/*.tfrecord[:2]",
    "tfds:emoji_captions/sample:test[:x]",
    "tfds:emoji_captions/sample:validation",
    "tfds:no_such_dataset"])
def test_a_spec_the_source_cannot_read_is_a_one_line_value_error(
        spec, tmp_path, sample_data_dir):
    spec = spec.replace("FOLDER", f"folder:{_captioned_folder(tmp_path, 6)}")
    with pytest.raises(ValueError) as error:
        sources.load_source(spec, 32, data_dir=sample_data_dir,
                            caption_key="captions")
    message = str(error.value)
    assert spec in message and "\n" not in message
