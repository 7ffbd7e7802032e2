"""MaskGIT's class-conditional mode through the one pipeline: generation,
negative classes, editing, export, `muse_tf.load` by class name, data."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import muse_tf
from muse_tf import editing
from muse_tf.data import fashion_mnist
from muse_tf.pipeline import MusePipeline
from muse_tf.presets import get_config


@pytest.fixture(scope="module")
def class_pipe():
    # fp32: its export's bytes are compared with its own (docs/design.md
    # §11).
    return MusePipeline(get_config("tiny_class"), precision="fp32")


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


def test_classes_by_name_or_id_give_the_same_images(class_pipe):
    np.testing.assert_array_equal(
        class_pipe.tokens(["sneaker", "Ankle boot", "t-shirt-top"], seed=1),
        class_pipe.tokens([7, "9", 0], seed=1))


@pytest.mark.parametrize("class_ids", [[10], [-1], [0, 1.5], [], [True],
                                       ["no such class"]])
def test_a_class_id_out_of_range_is_a_value_error(class_pipe, class_ids):
    with pytest.raises(ValueError, match="class"):
        class_pipe(class_ids)


def test_a_negative_class_changes_the_result(class_pipe):
    plain = class_pipe.tokens([7], seed=5, guidance_scale=5.0)
    negative = class_pipe.tokens([7], negative_prompts=["sandal"], seed=5,
                                 guidance_scale=5.0)
    assert not np.array_equal(plain, negative)
    with pytest.raises(ValueError, match="negative_prompts"):
        class_pipe.tokens([7], negative_prompts=["sandal", "bag"])


def test_class_conditional_editing_keeps_the_unmasked_tokens(class_pipe):
    image = np.zeros((32, 32, 3), np.uint8)
    image[8:24, 8:24] = 220
    mask = np.zeros((32, 32), bool)
    mask[:, 16:] = True
    tokens = class_pipe.inpaint_tokens(image, mask, [0, 1], seed=3)
    original = tf.reshape(class_pipe.stages[0].vqgan.encode(
        image[None] / 127.5 - 1.0), [-1]).numpy()
    outside = ~editing.token_mask(mask[None], 8).numpy()[0]
    for row in tokens:
        np.testing.assert_array_equal(row[outside], original[outside])


def test_save_and_load_gives_the_same_tokens(class_pipe, tmp_path):
    class_pipe.save(str(tmp_path))
    loaded = muse_tf.load_pipeline(str(tmp_path), precision="fp32")
    assert loaded.config == class_pipe.config
    np.testing.assert_array_equal(loaded.tokens([1], seed=4),
                                  class_pipe.tokens([1], seed=4))


@pytest.fixture(scope="module")
def exported_class(class_pipe, tmp_path_factory):
    from muse_tf.export import export
    return export(class_pipe, str(tmp_path_factory.mktemp("cls") / "1"),
                  max_batch=4, max_steps=8)


@pytest.fixture(scope="module")
def served(exported_class):
    return muse_tf.load(exported_class).module.signatures


def _inputs(**change):
    inputs = {"class_id": tf.constant([0, 2]),
              "negative_class_id": tf.constant([], tf.int32),
              "seed": tf.constant(1, tf.int64),
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
    for bad, message in (([10], r"class_id must be in \[0, 10\)"),
                         ([-2], r"class_id must be in \[0, 10\)")):
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



def test_load_takes_class_names_and_draws_what_python_draws(class_pipe,
                                                            exported_class):
    loaded = muse_tf.load(exported_class)
    np.testing.assert_array_equal(
        loaded(["sneaker", "bag"], seed=1, num_steps=3),
        class_pipe([7, 8], seed=1, num_steps=3))
    np.testing.assert_array_equal(
        loaded(["sneaker"], negative_prompts=["sandal"], seed=2,
               guidance_scale=4.0),
        class_pipe([7], negative_prompts=[5], seed=2, guidance_scale=4.0))
    with pytest.raises(ValueError, match="unknown class 'unicorn'"):
        loaded(["unicorn"])


@pytest.mark.parametrize("rest", [False, True], ids=["grpc", "rest"])
def test_the_cli_client_sends_class_ids_to_a_served_class_model(
        rest, served, exported_class, tmp_path, capsys):
    import serving_standin

    from muse_tf import cli

    start = serving_standin.start_rest if rest else serving_standin.start_grpc
    server, address = start(exported_class)
    try:
        flags = ["client", "--server", address, *(["--rest"] if rest else []),
                 "--seed", "1", "--guidance-scale", "2", "--num-steps", "3"]
        assert cli.main([*flags, "--output", str(tmp_path), "0", "2"]) == 0
        pngs = [p.read_bytes() for p in sorted(tmp_path.glob("*.png"))]
        assert pngs == list(served["serving_default"](**_inputs())[
            "image_bytes"].numpy())
        # Class names stay inside the model: the client says so.
        assert cli.main([*flags, "--output", str(tmp_path), "bag"]) == 2
        assert "class-conditional: give class ids" in capsys.readouterr().err
    finally:
        if rest:
            server.shutdown()
            server.server_close()
        else:
            server.stop(grace=None)
