"""Editing with no extra training (Muse §3.3, MaskGIT §4.3).

The trained masked transformers already model "fill in the [MASK]s given
the rest", so editing is choosing which tokens to mask (docs/design.md
§6):

  inpainting   image + mask + prompt: the tokens under the mask are
               regenerated, every other token is the image's own.
  outpainting  the image's tokens shifted toward one side of the canvas;
               the uncovered strip is generated.
  mask-free    no mask: rounds of re-masking a random 8% of the tokens and
  editing      resampling them under a new prompt (`sampling.guided.
               edit_tokens`).

With a cascade, inpainting and outpainting run at both scales (Muse's
multi-scale inpainting): the base tokens first, then the high-res tokens,
conditioned on the edited base tokens, with the same region masked.

This module holds the token geometry (graph ops, shared by the Python
pipelines and the SavedModel's signatures) and the Python input checks.
"""

import io

import numpy as np
import tensorflow as tf

DIRECTIONS = ("left", "right", "up", "down")


def load_image(image):
    """A PNG/JPEG file path or bytes, or an array -> uint8 [H, W, 3].

    Raises ValueError for bytes that are not a PNG or JPEG image and for
    arrays that are not [H, W, 3] (or [H, W] grey).
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, (str, bytes)):
        try:
            source = io.BytesIO(image) if isinstance(image, bytes) else image
            with Image.open(source) as opened:
                if opened.format not in ("PNG", "JPEG"):
                    raise ValueError(f"image must be a PNG or JPEG, got "
                                     f"{opened.format}")
                image = np.asarray(opened.convert("RGB"))
        except (UnidentifiedImageError, OSError) as e:
            raise ValueError(f"image is not a valid PNG or JPEG: {e}") from e
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must have shape [height, width, 3], got "
                         f"{image.shape}")
    return image.astype(np.uint8)


def check_image_size(image, size):
    """Raises ValueError unless `image` is size x size."""
    if image.shape[:2] != (size, size):
        raise ValueError(f"image must be {size}x{size} pixels for this "
                         f"model, got {image.shape[1]}x{image.shape[0]}")


def check_mask(mask, image_size):
    """A mask as given -> bool numpy [image_size, image_size].

    Args:
      mask: [S, S] (or [S, S, 1|3]) bool/number array, or a PNG/JPEG as
        bytes or path; nonzero = regenerate.
    Raises ValueError for a mask of the wrong size or an empty mask.
    """
    if isinstance(mask, (str, bytes)):
        mask = load_image(mask)
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] in (1, 3):
        mask = mask.max(axis=-1)
    if mask.shape != (image_size, image_size):
        raise ValueError(f"mask must be {image_size}x{image_size} to match "
                         f"the image, got shape {mask.shape}")
    if not mask.any():
        raise ValueError("mask is empty: it selects no pixel to regenerate")
    return mask.astype(bool)


def token_mask(masks, tokens_per_side):
    """Pixel masks [B, S, S] (nonzero = regenerate) -> bool [B, side²]: a
    token is regenerated when any pixel of its cell is masked."""
    masks = tf.cast(tf.cast(masks, tf.float32) > 0, tf.float32)[..., None]
    cell = masks.shape[1] // tokens_per_side
    touched = tf.nn.max_pool2d(masks, cell, cell, "VALID") > 0
    return tf.reshape(touched, [tf.shape(masks)[0], -1])


def check_outpaint(direction, fraction):
    """Raises ValueError for an unknown direction or a fraction outside
    (0, 1)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got "
                         f"{direction!r}")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")


def outpaint_tokens(tokens, tokens_per_side, direction, amount,
                    mask_token_id):
    """Shifts token grids away from `direction` by `amount` tokens and
    masks the uncovered strip on that side.

    Args:
      tokens: int32 [B, side²] token ids of the image.
      direction: where the canvas grows: "left", "right", "up", "down".
      amount: strip width in whole tokens, 1 <= amount < side (static).

    Returns:
      int32 [B, side²]: token (r, c) of the image is at (r, c - amount)
      when extending right, and so on; the strip is [MASK].
    """
    side = tokens_per_side
    if not 1 <= amount < side:
        raise ValueError(f"outpainting amount must be between 1 and "
                         f"{side - 1} tokens, got {amount}")
    grid = tf.reshape(tf.cast(tokens, tf.int32), [-1, side, side])
    axis = 2 if direction in ("left", "right") else 1
    kept = side - amount
    strip_shape = tf.tensor_scatter_nd_update(tf.shape(grid), [[axis]],
                                              [amount])
    strip = tf.fill(strip_shape, mask_token_id)
    if direction in ("right", "down"):  # The image moves toward 0.
        moved = tf.gather(grid, tf.range(amount, side), axis=axis)
        out = tf.concat([moved, strip], axis=axis)
    else:
        moved = tf.gather(grid, tf.range(kept), axis=axis)
        out = tf.concat([strip, moved], axis=axis)
    return tf.reshape(out, [-1, side * side])
