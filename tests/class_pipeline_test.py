"""MaskGIT's class-conditional mode: generation, editing, export, data."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import muse_tf
from muse_tf import editing
from muse_tf.class_pipeline import ClassToImage
from muse_tf.configs import get_preset
from muse_tf.data import fashion_mnist


@pytest.fixture(scope="module")
def class_pipe():
    return ClassToImage(get_preset("tiny_class"))


def _png(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_generates_one_image_per_class_id(class_pipe):
    images = class_pipe([0, 2], seed=1)
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, class_pipe([0, 2], seed=1))
    assert not np.array_equal(class_pipe.tokens([0, 2], seed=1),
                              class_pipe.tokens([0, 2], seed=2))


@pytest.mark.parametrize("class_ids", [[10], [-1], [0, 1.5], [], [True]])
def test_a_class_id_out_of_range_is_a_value_error(class_pipe, class_ids):
    with pytest.raises(ValueError, match="class"):
        class_pipe(class_ids)


def test_class_conditional_editing_keeps_the_unmasked_tokens(class_pipe):
    image = np.zeros((32, 32, 3), np.uint8)
    image[8:24, 8:24] = 220
    mask = np.zeros((32, 32), bool)
    mask[:, 16:] = True
    tokens = class_pipe.inpaint_tokens(image, mask, [0, 1], seed=3)
    original = tf.reshape(class_pipe.vqgan.encode(
        image[None] / 127.5 - 1.0), [-1]).numpy()
    outside = ~editing.token_mask(mask[None], 8).numpy()[0]
    for row in tokens:
        np.testing.assert_array_equal(row[outside], original[outside])


def test_save_and_load_gives_the_same_tokens(class_pipe, tmp_path):
    class_pipe.save(str(tmp_path))
    loaded = muse_tf.load_pipeline(str(tmp_path))
    assert isinstance(loaded, ClassToImage)
    np.testing.assert_array_equal(loaded.tokens([1], seed=4),
                                  class_pipe.tokens([1], seed=4))


@pytest.fixture(scope="module")
def served(class_pipe, tmp_path_factory):
    from muse_tf.export import export
    path = export(class_pipe, str(tmp_path_factory.mktemp("cls") / "1"),
                  max_batch=4, max_steps=8)
    return muse_tf.load(path).module.signatures


def _inputs(**change):
    inputs = {"class_id": tf.constant([0, 2]), "seed": tf.constant(1, tf.int64),
              "guidance_scale": tf.constant(2.0),
              "num_steps": tf.constant(3)}
    inputs.update(change)
    return inputs


def test_served_model_matches_python_and_rejects_bad_class_ids(
        class_pipe, served):
    out = served["serving_default"](**_inputs())
    images = class_pipe([0, 2], seed=1, guidance_scale=2.0, num_steps=3)
    assert [tf.io.encode_png(i).numpy() for i in images] == list(
        out["image_bytes"].numpy())
    for bad, message in (([10], "class_id must be < 10"),
                         ([-2], "class_id must be >= 0")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            served["serving_default"](**_inputs(class_id=tf.constant(bad)))


def test_served_class_editing_rejects_an_empty_mask(served):
    image = _png(np.zeros((32, 32, 3), np.uint8))
    mask = _png(np.zeros((32, 32), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="mask is empty"):
        served["inpaint"](image_bytes=tf.constant([image]),
                          mask_bytes=tf.constant([mask]),
                          **_inputs(class_id=tf.constant([1])))


def test_fashion_mnist_is_read_from_the_debian_package():
    images, labels = fashion_mnist.load("test")
    assert images.shape == (10000, 32, 32, 3) and images.dtype == np.uint8
    assert sorted(set(labels.tolist())) == list(range(10))
    assert images[:, :2].max() == 0  # The padding is black background.
    assert images[:, 2:30, 2:30].mean() > 50  # Real garments.
    assert len(fashion_mnist.CLASS_NAMES) == 10
