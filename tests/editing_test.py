"""The cascade and editing: inpainting, outpainting, mask-free editing."""

import io

import numpy as np
import pytest
from PIL import Image

from muse_tf import editing
from muse_tf.pipeline import TextToImage

PROMPTS = ["a ladybug", "a cat"]


@pytest.fixture(scope="module")
def image():
    """A 32x32 picture: a red disc on white."""
    y, x = np.mgrid[:32, :32]
    picture = np.full((32, 32, 3), 255, np.uint8)
    picture[(y - 16) ** 2 + (x - 12) ** 2 < 64] = (200, 30, 30)
    return picture


@pytest.fixture(scope="module")
def image_tokens(tiny_cascade, image):
    return [t.numpy()[0] for t in tiny_cascade._encode(image[None])]


def _png(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_cascade_makes_high_res_images(tiny_cascade):
    images = tiny_cascade(PROMPTS, seed=1)
    assert images.shape == (2, 32, 32, 3)
    again = tiny_cascade(PROMPTS, seed=1)
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, tiny_cascade(PROMPTS, seed=2))


def test_cascade_stages_can_be_left_out(tiny_cascade, tmp_path):
    tiny_cascade.save(str(tmp_path))
    base = TextToImage.from_pretrained(str(tmp_path), stages="base")
    assert not base.is_cascade
    assert base(PROMPTS[:1], seed=1).shape == (1, 16, 16, 3)
    full = TextToImage.from_pretrained(str(tmp_path))
    np.testing.assert_array_equal(full.tokens(PROMPTS, seed=3),
                                  tiny_cascade.tokens(PROMPTS, seed=3))


def test_inpainting_keeps_every_token_outside_the_mask(
        tiny_cascade, image, image_tokens):
    mask = np.zeros((32, 32), bool)
    mask[8:20, 4:20] = True
    tokens = tiny_cascade.inpaint_tokens(_png(image), mask, PROMPTS, seed=4)
    for stage, side in enumerate((8, 16)):
        inside = editing.token_mask(mask, 32, side)
        assert 0 < inside.sum() < side * side
        for row in tokens[stage]:
            np.testing.assert_array_equal(row[~inside],
                                          image_tokens[stage][~inside])
    assert tiny_cascade.inpaint(image, mask, PROMPTS).shape == (2, 32, 32, 3)


def test_outpainting_keeps_the_image_at_its_new_offset(
        tiny_cascade, image, image_tokens):
    tokens = tiny_cascade.outpaint_tokens(image, PROMPTS, "right",
                                          fraction=0.25, seed=5)
    for stage, (side, amount) in enumerate(((8, 2), (16, 4))):
        original = image_tokens[stage].reshape(side, side)
        for row in tokens[stage]:
            grid = row.reshape(side, side)
            np.testing.assert_array_equal(grid[:, :-amount],
                                          original[:, amount:])


def test_outpainting_in_each_direction_moves_tokens_away_from_it():
    grid = np.arange(16).reshape(1, 16)
    up = editing.outpaint_tokens(grid, 4, "up", 1, -1).reshape(4, 4)
    np.testing.assert_array_equal(up[1:], grid.reshape(4, 4)[:-1])
    assert (up[0] == -1).all()
    left = editing.outpaint_tokens(grid, 4, "left", 3, -1).reshape(4, 4)
    np.testing.assert_array_equal(left[:, 3], grid.reshape(4, 4)[:, 0])


def test_mask_free_editing_with_zero_rounds_returns_the_image_tokens(
        tiny_cascade, image, image_tokens):
    unchanged = tiny_cascade.edit_tokens(image, PROMPTS, num_iterations=0)
    for row in unchanged[0]:
        np.testing.assert_array_equal(row, image_tokens[0])
    edited = tiny_cascade.edit_tokens(image, PROMPTS, num_iterations=5,
                                      seed=1)
    changed = (edited[0] != image_tokens[0]).sum(axis=1)
    # 5 rounds of ceil(8% of 64) = 6 resampled positions: some change,
    # at most 30.
    assert (changed > 0).all() and (changed <= 30).all()
    assert edited[1].shape == (2, 256)


@pytest.mark.parametrize("call, match", [
    (lambda p, im: p.inpaint(im, np.ones((16, 16)), PROMPTS),
     "mask must be 32x32"),
    (lambda p, im: p.inpaint(im, np.zeros((32, 32)), PROMPTS),
     "mask is empty"),
    (lambda p, im: p.inpaint(b"not an image", np.ones((32, 32)), PROMPTS),
     "not a valid PNG or JPEG"),
    (lambda p, im: p.inpaint(im[:16, :16], np.ones((32, 32)), PROMPTS),
     "image must be 32x32"),
    (lambda p, im: p.outpaint(im, PROMPTS, "sideways"), "direction"),
    (lambda p, im: p.outpaint(im, PROMPTS, fraction=1.0), "fraction"),
    (lambda p, im: p.edit(im, PROMPTS, num_iterations=-1), "num_iterations"),
    (lambda p, im: p.edit(im, [], num_iterations=1), "prompts"),
])
def test_bad_editing_input_is_a_value_error(tiny_cascade, image, call,
                                            match):
    with pytest.raises(ValueError, match=match):
        call(tiny_cascade, image)


def test_a_gif_is_not_accepted(image):
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="GIF")
    with pytest.raises(ValueError, match="PNG or JPEG"):
        editing.load_image(out.getvalue())
