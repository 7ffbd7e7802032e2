"""The cascade and editing: inpainting, outpainting, mask-free editing."""

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

from muse_tf import editing
from muse_tf.pipeline import MusePipeline

PROMPTS = ["a ladybug", "a cat"]


@pytest.fixture(scope="module")
def image():
    """A 32x32 picture: a red disc on white."""
    y, x = np.mgrid[:32, :32]
    picture = np.full((32, 32, 3), 255, np.uint8)
    picture[(y - 16) ** 2 + (x - 12) ** 2 < 64] = (200, 30, 30)
    return picture


@pytest.fixture(scope="module")
def stages(tiny_cascade, image):
    """Editing is checked at each scale: [(pipeline, its input image, the
    image's final-stage tokens, tokens per side)] for the base model alone
    (16x16 pixels, 8x8 tokens) and the cascade (32x32, 16x16)."""
    base = MusePipeline(
        dataclasses.replace(tiny_cascade.config, super_res=None),
        {name: tiny_cascade.components[name]
         for name in ("transformer", "vqgan")}, tiny_cascade.conditioner)
    small = image[::2, ::2]
    return [(pipe, im, pipe._encode(im[None])[-1].numpy()[0], side)
            for pipe, im, side in ((base, small, 8),
                                   (tiny_cascade, image, 16))]


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


@pytest.mark.slow
def test_cascade_stages_can_be_left_out(tiny_cascade, tmp_path):
    tiny_cascade.save(str(tmp_path))
    base = MusePipeline.from_pretrained(str(tmp_path), stages="base")
    assert len(base.stages) == 1
    assert base(PROMPTS[:1], seed=1).shape == (1, 16, 16, 3)
    full = MusePipeline.from_pretrained(str(tmp_path), precision="fp32")
    np.testing.assert_array_equal(full.tokens(PROMPTS, seed=3),
                                  tiny_cascade.tokens(PROMPTS, seed=3))


def test_inpainting_keeps_every_token_outside_the_mask(stages):
    for pipe, image, image_tokens, side in stages:
        size = len(image)
        mask = np.zeros((size, size), bool)
        mask[size // 4:size // 2, :size // 2] = True
        tokens = pipe.inpaint_tokens(_png(image), mask, PROMPTS, seed=4)
        inside = editing.token_mask(mask[None], side).numpy()[0]
        assert 0 < inside.sum() < side * side
        for row in tokens:
            np.testing.assert_array_equal(row[~inside],
                                          image_tokens[~inside])
            assert (row < pipe.stages[-1].mask_token_id).all()  # No [MASK].


def test_inpainted_images_come_at_the_cascade_size(tiny_cascade, image):
    mask = np.zeros((32, 32), np.uint8)
    mask[:8] = 255
    assert tiny_cascade.inpaint(image, mask, PROMPTS).shape == (2, 32, 32, 3)


@pytest.mark.slow
def test_outpainting_keeps_the_image_at_its_new_offset(stages):
    for pipe, image, image_tokens, side in stages:
        tokens = pipe.outpaint_tokens(image, PROMPTS, "right",
                                      fraction=0.25, seed=5)
        amount = side // 4
        original = image_tokens.reshape(side, side)
        for row in tokens:
            grid = row.reshape(side, side)
            np.testing.assert_array_equal(grid[:, :-amount],
                                          original[:, amount:])


def test_outpainting_in_each_direction_moves_tokens_away_from_it():
    grid = np.arange(16).reshape(1, 16)
    up = editing.outpaint_tokens(grid, 4, "up", 1, -1).numpy().reshape(4, 4)
    np.testing.assert_array_equal(up[1:], grid.reshape(4, 4)[:-1])
    assert (up[0] == -1).all()
    left = editing.outpaint_tokens(grid, 4, "left", 3, -1).numpy()
    np.testing.assert_array_equal(left.reshape(4, 4)[:, 3],
                                  grid.reshape(4, 4)[:, 0])
    down = editing.outpaint_tokens(grid, 4, "down", 2, -1).numpy()
    np.testing.assert_array_equal(down.reshape(4, 4)[:2],
                                  grid.reshape(4, 4)[2:])


@pytest.mark.slow
def test_mask_free_editing_with_zero_rounds_returns_the_image_tokens(
        stages):
    base, image, image_tokens, _ = stages[0]
    for row in base.edit_tokens(image, PROMPTS, num_iterations=0):
        np.testing.assert_array_equal(row, image_tokens)
    edited = base.edit_tokens(image, PROMPTS, num_iterations=5, seed=1)
    changed = (edited != image_tokens).sum(axis=1)
    # 5 rounds of ceil(8% of 64) = 6 resampled positions: some change,
    # at most 30.
    assert (changed > 0).all() and (changed <= 30).all()
    cascade, image, _, _ = stages[1]
    assert cascade.edit(image, PROMPTS, num_iterations=2).shape == (
        2, 32, 32, 3)


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
