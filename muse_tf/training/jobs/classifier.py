"""Trains the image classifier that judges prompt fidelity.

The judge learns the real images of a labelled dataset (with augmentation)
and is saved with its class names, to be shipped beside the models it
judges; its accuracy on the held-out real images is printed and saved, as
the ceiling for generated images' scores.

  muse-tf train classifier --data fashion_mnist \
      --output muse_tf/presets/judge_fashion_mnist
  muse-tf train classifier --data emoji --backbone inception \
      --epochs 30 --output muse_tf/presets/judge_emoji
"""

import json
import os

import keras
import numpy as np
import tqdm

from muse_tf.data import emoji_captions, fashion_mnist
from muse_tf.evaluate import FIDFeatures
from muse_tf.models.classifier import (
    ImageClassifier,
    InceptionProbe,
    augmentation,
    compile_for_training,
)


def load_data(name):
    """(train images, train labels, test images, test labels, class names,
    whether left-right flips keep the class). The emoji judge learns every
    emoji in all the styles of the 64-pixel training split; its test images
    are the held-out (emoji, style) pairs, so its accuracy says how well it
    knows an emoji in a style it never saw."""
    if name == "fashion_mnist":
        train = fashion_mnist.load("train")
        test = fashion_mnist.load("test")
        return (*train, *test, fashion_mnist.CLASS_NAMES, True)
    if name == "emoji":
        train_images, train_names, _ = emoji_captions.load_labelled("train")
        test_images, test_names, _ = emoji_captions.load_labelled("test")
        class_names = sorted(set(train_names) | set(test_names))
        index = {n: i for i, n in enumerate(class_names)}
        return (train_images, np.array([index[n] for n in train_names]),
                test_images, np.array([index[n] for n in test_names]),
                class_names, False)  # Arrows point one way.
    raise ValueError(f"unknown dataset {name!r}; known: fashion_mnist, "
                     "emoji")


def augmented(images, flip):
    """uint8 images through the judge's training augmentation."""
    augment = augmentation(flip)
    out = [augment(images[i:i + 512].astype(np.float32), training=True)
           for i in range(0, len(images), 512)]
    return np.clip(np.round(np.concatenate(out)), 0, 255).astype(np.uint8)


def train_cnn(args, train, test, num_classes, flip):
    model = ImageClassifier(num_classes, train[0].shape[1], flip=flip)
    compile_for_training(model, args.learning_rate,
                         args.epochs * -(-len(train[0]) // args.batch_size))
    model.fit(*train, batch_size=args.batch_size, epochs=args.epochs,
              validation_data=test, verbose="auto")
    return model


def train_probe(args, train, test, num_classes, flip):
    """The head learns the features of each training image and of
    `--augmented-copies` augmented copies of it."""
    fid_features = FIDFeatures()
    images, labels = train
    copies = [images] + [augmented(images, flip)
                         for _ in range(args.augmented_copies)]
    with tqdm.tqdm(total=sum(map(len, copies)) + len(test[0]),
                   desc="Inception features", unit="image") as progress:
        features = np.concatenate([fid_features(c, progress)
                                   for c in copies]).astype(np.float32)
        test_features = fid_features(test[0], progress).astype(np.float32)
    model = InceptionProbe(num_classes, images.shape[1], fid_features)
    model.fit_head(features, np.tile(labels, len(copies)),
                   (test_features, test[1]), args.epochs, args.batch_size,
                   args.learning_rate)
    return model


def add_arguments(parser):
    parser.add_argument("--data", default="fashion_mnist",
                        choices=["fashion_mnist", "emoji"],
                        help="fashion_mnist (Debian's package) or emoji "
                        "(the emoji_captions 64-pixel dataset: muse-tf "
                        "prepare-data)")
    parser.add_argument("--output", required=True,
                        help="directory for the weights and config")
    parser.add_argument("--backbone", default="cnn",
                        choices=["cnn", "inception"],
                        help="cnn: a small CNN learned from scratch; "
                        "inception: a linear head on the frozen FID "
                        "Inception's features (default cnn)")
    parser.add_argument("--augmented-copies", type=int, default=1,
                        help="--backbone inception: augmented copies of "
                        "each training image the head also learns")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)


def run(args):
    keras.utils.set_random_seed(args.seed)
    (train_images, train_labels, test_images, test_labels, class_names,
     flip) = load_data(args.data)
    train = (train_images, train_labels)
    test = (test_images, test_labels)
    trainer = train_cnn if args.backbone == "cnn" else train_probe
    model = trainer(args, train, test, len(class_names), flip)
    accuracy = float(np.mean(model.predict_labels(test_images)
                             == test_labels))
    model.save_to(args.output, class_names)
    with open(os.path.join(args.output, "test_accuracy.json"), "w") as f:
        json.dump({"data": args.data, "backbone": args.backbone,
                   "test_accuracy": accuracy, "epochs": args.epochs}, f)
    print(json.dumps({"test_accuracy": accuracy}))

