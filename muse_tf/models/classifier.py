"""The image classifier that judges prompt fidelity (issue: quality).

Prompt fidelity is the share of generated images that a classifier trained
on real images labels with the class that was asked for (Muse and MaskGIT
report CLIP score and classification accuracy the same way). The judge is
a small convolutional network trained here on the real images of each
dataset, with augmentation, and shipped beside the models it judges, so a
score is reproducible offline; its accuracy on held-out real images is the
ceiling to read a model's score against.

Input: uint8 images [B, S, S, 3]; output: logits [B, num_classes].
"""

import json
import os

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="muse_tf")
class ImageClassifier(keras.Model):
    """Three stages of two 3x3 conv + batch norm + ReLU, then max pooling
    (widths 32, 64, 128), global average pooling, dropout, a linear head.
    Augmentation (random shifts and zoom, and left-right flips where
    `flip`) runs only in training."""

    def __init__(self, num_classes, image_size, flip=False, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.image_size = int(image_size)
        self.flip = bool(flip)
        augment = [keras.layers.RandomTranslation(0.1, 0.1,
                                                  fill_mode="nearest"),
                   keras.layers.RandomZoom(0.1, fill_mode="nearest")]
        if self.flip:
            augment.append(keras.layers.RandomFlip("horizontal"))
        self.augment = keras.Sequential(augment, name="augment")
        stages = []
        for width in (32, 64, 128):
            for _ in range(2):
                stages += [keras.layers.Conv2D(width, 3, padding="same",
                                               use_bias=False),
                           keras.layers.BatchNormalization(),
                           keras.layers.ReLU()]
            stages.append(keras.layers.MaxPooling2D())
        self.features = keras.Sequential(
            stages + [keras.layers.GlobalAveragePooling2D(),
                      keras.layers.Dropout(0.3)], name="features")
        self.head = keras.layers.Dense(self.num_classes, name="head")
        self.build((None, self.image_size, self.image_size, 3))

    def build(self, input_shape):
        self.augment.build(input_shape)
        self.features.build(input_shape)
        self.head.build(self.features.compute_output_shape(input_shape))

    def call(self, images, training=False):
        x = tf.cast(images, tf.float32) / 127.5 - 1.0
        if training:
            x = self.augment(x, training=True)
        return self.head(self.features(x, training=training))

    def predict_labels(self, images, batch_size=256):
        """uint8 images [N, S, S, 3] -> int64 labels [N]."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1:] != (
                self.image_size, self.image_size, 3):
            raise ValueError(
                f"images must be [N, {self.image_size}, {self.image_size}, "
                f"3], got shape {images.shape}")
        logits = self.predict(images, batch_size=batch_size, verbose=0)
        return np.argmax(logits, axis=-1)

    def get_config(self):
        return {"num_classes": self.num_classes,
                "image_size": self.image_size, "flip": self.flip,
                "name": self.name}

    def save_to(self, directory, class_names):
        """Weights and a JSON config (with the class names) in directory."""
        os.makedirs(directory, exist_ok=True)
        self.save_weights(os.path.join(directory, "classifier.weights.h5"))
        with open(os.path.join(directory, "config.json"), "w") as f:
            json.dump({**self.get_config(), "class_names": list(class_names)},
                      f, indent=1)

    @classmethod
    def load_from(cls, directory):
        """(classifier, class names) saved by `save_to`."""
        with open(os.path.join(directory, "config.json")) as f:
            config = json.load(f)
        class_names = config.pop("class_names")
        model = cls(**config)
        model.load_weights(os.path.join(directory, "classifier.weights.h5"))
        return model, class_names
