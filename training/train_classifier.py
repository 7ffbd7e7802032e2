"""Trains the image classifier that judges prompt fidelity.

The judge learns the real images of a labelled dataset (with augmentation)
and is saved with its class names, to be shipped beside the models it
judges; its accuracy on the held-out real images is printed and saved, as
the ceiling for generated images' scores.

  python training/train_classifier.py --data fashion_mnist \
      --output muse_tf/presets/judge_fashion_mnist
"""

import argparse
import json
import os

import keras
import numpy as np

from muse_tf.data import fashion_mnist
from muse_tf.models.classifier import ImageClassifier


def load_data(name):
    """(train images, train labels, test images, test labels, class names,
    whether left-right flips keep the class)."""
    if name == "fashion_mnist":
        train = fashion_mnist.load("train")
        test = fashion_mnist.load("test")
        return (*train, *test, fashion_mnist.CLASS_NAMES, True)
    raise ValueError(f"unknown dataset {name!r}; known: fashion_mnist")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion_mnist")
    parser.add_argument("--output", required=True,
                        help="directory for the weights and config")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    (train_images, train_labels, test_images, test_labels, class_names,
     flip) = load_data(args.data)
    model = ImageClassifier(len(class_names), train_images.shape[1],
                            flip=flip)
    steps = args.epochs * -(-len(train_images) // args.batch_size)
    model.compile(
        optimizer=keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(
            args.learning_rate, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])
    model.fit(train_images, train_labels, batch_size=args.batch_size,
              epochs=args.epochs, validation_data=(test_images, test_labels),
              verbose="auto")
    accuracy = float(np.mean(model.predict_labels(test_images)
                             == test_labels))
    model.save_to(args.output, class_names)
    with open(os.path.join(args.output, "test_accuracy.json"), "w") as f:
        json.dump({"data": args.data, "test_accuracy": accuracy,
                   "epochs": args.epochs}, f)
    print(json.dumps({"test_accuracy": accuracy}))


if __name__ == "__main__":
    main()
