"""Datasets: the emoji caption set (a TFDS builder) and tf.data helpers."""
