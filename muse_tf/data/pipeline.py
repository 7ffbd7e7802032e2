"""Pixel conversions shared by training, evaluation and generation."""

import tensorflow as tf


def to_model_range(images_uint8):
    """uint8 [.., H, W, 3] in [0, 255] -> float32 in [-1, 1]."""
    return tf.cast(images_uint8, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [.., H, W, 3] in [-1, 1] -> uint8 in [0, 255]."""
    images = tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0)
    return tf.cast(tf.round((images + 1.0) * 127.5), tf.uint8)


def downsample(images, size):
    """float [B, S, S, C] -> [B, size, size, C] by averaging k x k cells,
    k = S / size (an integer): the low-res view of a high-res image that the
    super-res stage pairs it with. (Area resizing for whole factors, but
    XLA compiles it, which tf.image.resize's "area" it does not.)"""
    factor = images.shape[1] // size
    if factor * size != images.shape[1]:
        raise ValueError(f"Cannot downsample {images.shape[1]} pixels to "
                         f"{size} by a whole factor")
    if factor == 1:
        return images
    return tf.nn.avg_pool2d(images, factor, factor, "VALID")


def image_grid(images, columns):
    """uint8 [N, H, W, C] -> one uint8 [rows·H, columns·W, C] image, row by
    row (N must be a multiple of `columns`), for TensorBoard."""
    _, height, width, channels = images.shape
    rows = tf.reshape(images, [-1, columns, height, width, channels])
    return tf.reshape(tf.transpose(rows, [0, 2, 1, 3, 4]),
                      [-1, columns * width, channels])
