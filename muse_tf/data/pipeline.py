"""tf.data input pipelines shared by training and evaluation."""

import tensorflow as tf
import tensorflow_datasets as tfds

from muse_tf.data import emoji_captions  # noqa: F401  Registers the builder.


def to_model_range(images_uint8):
    """uint8 [.., H, W, 3] in [0, 255] -> float32 in [-1, 1]."""
    return tf.cast(images_uint8, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [.., H, W, 3] in [-1, 1] -> uint8 in [0, 255]."""
    images = tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0)
    return tf.cast(tf.round((images + 1.0) * 127.5), tf.uint8)


def tfds_image_batches(name, split, batch_size, data_dir=None, seed=0,
                       image_key="image", flip=False):
    """An endless, shuffled stream of float image batches from TFDS.

    Static batch shape (drop_remainder) so train steps compile once.
    """
    ds = tfds.load(name, split=split, data_dir=data_dir, shuffle_files=True)
    ds = ds.map(lambda ex: to_model_range(ex[image_key]),
                num_parallel_calls=tf.data.AUTOTUNE).cache()
    ds = ds.repeat().shuffle(4096, seed=seed)
    if flip:
        ds = ds.map(tf.image.random_flip_left_right,
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(2)
