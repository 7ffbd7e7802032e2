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


def test_tfds_source_with_an_unknown_feature_is_a_value_error(
        sample_data_dir):
    with pytest.raises(ValueError, match="no feature 'caption'"):
        sources.load_source("tfds:emoji_captions/sample", SIZE,
                            data_dir=sample_data_dir)
