"""The image classifier that judges prompt fidelity (docs/quality.md).

Prompt fidelity is the share of generated images that a classifier trained
on real images labels with the class that was asked for (Muse and MaskGIT
report CLIP score and classification accuracy the same way). The judge is
a small convolutional network trained here on the real images of each
dataset, with augmentation, and shipped beside the models it judges, so a
score is reproducible offline; its accuracy on held-out real images is the
ceiling to read a model's score against.

Two kinds, one interface (`predict_labels`, `save_to`, `load_judge`):
`ImageClassifier`, a small CNN learned from scratch, enough for the 10
classes of Fashion-MNIST; and `InceptionProbe`, a linear classifier on the
frozen, ImageNet-trained FID Inception's features, for the 1,906 emoji:
with four or five images per emoji, a CNN from scratch recognised only a
third of the held-out (emoji, style) pairs, while pretrained features carry
shape and colour across the artists' styles.

Input: uint8 images [B, S, S, 3]; output: int64 labels [B].
"""

import json
import os

import keras
import numpy as np
import tensorflow as tf


def augmentation(flip):
    """Random shifts and zoom (and left-right flips where `flip`): the
    small misplacements a generated image may have."""
    layers = [keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest"),
              keras.layers.RandomZoom(0.1, fill_mode="nearest")]
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal"))
    return keras.Sequential(layers, name="augment")


def compile_for_training(model, learning_rate, steps):
    """AdamW with a cosine decay over `steps`, cross-entropy on logits,
    accuracy: how either kind of judge is trained."""
    model.compile(
        optimizer=keras.optimizers.AdamW(
            keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])


def _check_images(images, size):
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (size, size, 3):
        raise ValueError(f"images must be [N, {size}, {size}, 3], got shape "
                         f"{images.shape}")
    return images


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
        self.augment = augmentation(self.flip)
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

    def predict_labels(self, images, batch_size=256, progress=None):
        """uint8 images [N, S, S, 3] -> int64 labels [N]; `progress`, a
        tqdm bar, advances by the images done."""
        images = _check_images(images, self.image_size)
        logits = self.predict(images, batch_size=batch_size, verbose=0)
        if progress is not None:
            progress.update(len(images))
        return np.argmax(logits, axis=-1)

    def get_config(self):
        return {"num_classes": self.num_classes,
                "image_size": self.image_size, "flip": self.flip,
                "name": self.name}

    def save_to(self, directory, class_names):
        """Weights and a JSON config (with the class names) in directory."""
        _save(self, directory, "cnn", self.get_config(), class_names)



class InceptionProbe(keras.Model):
    """A linear classifier on the FID Inception's pool_3 features
    (standardised), the Inception frozen. Train the head on features
    (`fit_head`); `predict_labels` takes images."""

    def __init__(self, num_classes, image_size, fid_features=None, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.image_size = int(image_size)
        self._fid_features = fid_features
        self.normalise = keras.layers.Normalization(name="normalise")
        self.head = keras.layers.Dense(self.num_classes, name="head")
        self.build((None, FEATURES))

    def build(self, input_shape):
        self.normalise.build(input_shape)
        self.head.build(input_shape)

    def call(self, features):
        return self.head(self.normalise(features))

    @property
    def fid_features(self):
        """The Inception (built on first use: it takes seconds)."""
        if self._fid_features is None:
            from muse_tf.evaluate import FIDFeatures
            self._fid_features = FIDFeatures()
        return self._fid_features

    def fit_head(self, features, labels, validation, epochs=30,
                 batch_size=256, learning_rate=1e-3):
        """Standardises with `features`' statistics, then trains the head
        with AdamW; `validation`: (features, labels) reported each epoch."""
        self.normalise.adapt(features)
        compile_for_training(self, learning_rate,
                             epochs * -(-len(features) // batch_size))
        self.fit(features, labels, batch_size=batch_size, epochs=epochs,
                 validation_data=validation, verbose=2)

    def predict_labels(self, images, batch_size=256, progress=None):
        """uint8 images [N, S, S, 3] -> int64 labels [N]; `progress`, a
        tqdm bar, advances as the Inception features (most of the work) are
        done."""
        features = self.fid_features(_check_images(images, self.image_size),
                                     progress)
        logits = self.predict(features.astype(np.float32),
                              batch_size=batch_size, verbose=0)
        return np.argmax(logits, axis=-1)

    def save_to(self, directory, class_names):
        _save(self, directory, "inception_probe",
              {"num_classes": self.num_classes,
               "image_size": self.image_size}, class_names)


FEATURES = 2048  # The FID Inception's pool_3 width.
_KINDS = {"cnn": ImageClassifier, "inception_probe": InceptionProbe}


def _save(model, directory, kind, config, class_names):
    """Weights and a JSON config (kind, class names) in `directory`."""
    os.makedirs(directory, exist_ok=True)
    model.save_weights(os.path.join(directory, "classifier.weights.h5"))
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump({**config, "kind": kind, "class_names": list(class_names)},
                  f, indent=1)


def load_judge(directory, fid_features=None):
    """(classifier, class names) saved by either kind's `save_to`; an
    InceptionProbe uses `fid_features` (an evaluate.FIDFeatures) if given,
    so a report builds the Inception once."""
    path = os.path.join(directory, "config.json")
    if not os.path.exists(path):
        raise ValueError(f"no judge in {directory!r}: it has no "
                         "config.json (`muse-tf train classifier` writes one)")
    with open(path) as f:
        config = json.load(f)
    class_names = config.pop("class_names")
    kind = config.pop("kind", "cnn")
    if kind == "inception_probe":
        config["fid_features"] = fid_features
    model = _KINDS[kind](**config)
    model.load_weights(os.path.join(directory, "classifier.weights.h5"))
    return model, class_names
