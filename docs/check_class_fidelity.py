"""Does a class id give that class? A nearest-neighbour check for the
class-conditional Fashion-MNIST model.

Generates `--per-class` images of every class and labels each by a 5-nearest-
neighbour vote over the 60,000 Fashion-MNIST training images (grey pixels):
the fraction labelled with the class asked for. The same vote on real test
images is the ceiling this coarse judge allows; chance is 0.1.

  python docs/check_class_fidelity.py --model runs/fashion_model
"""

import argparse
import json

import numpy as np

from muse_tf.class_pipeline import ClassToImage
from muse_tf.data import fashion_mnist

_K = 5


def grey(images):
    """uint8 [N, S, S, 3] -> float32 [N, S*S] in [0, 1]."""
    return images.mean(axis=-1).reshape(len(images), -1).astype(
        np.float32) / 255


def knn_labels(query, bank, bank_labels, num_classes, chunk=500):
    """The majority label of each query row's 5 nearest bank rows."""
    bank_norms = np.sum(bank**2, 1)
    labels = []
    for i in range(0, len(query), chunk):
        q = query[i:i + chunk]
        distances = bank_norms[None] - 2 * q @ bank.T
        nearest = np.argpartition(distances, _K, axis=1)[:, :_K]
        votes = bank_labels[nearest]
        labels.append(np.array([np.bincount(v, minlength=num_classes)
                                .argmax() for v in votes]))
    return np.concatenate(labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True,
                        help="a class-conditional model directory")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--guidance-scale", type=float, default=None,
                        help="default: the model's")
    args = parser.parse_args()

    pipe = ClassToImage.from_pretrained(args.model)
    num_classes = pipe.config.num_classes
    train_images, train_labels = fashion_mnist.load("train")
    bank, bank_labels = grey(train_images), train_labels.astype(np.int64)
    test_images, test_labels = fashion_mnist.load("test")
    real = knn_labels(grey(test_images[:1000]), bank, bank_labels,
                      num_classes)

    asked = np.repeat(np.arange(num_classes), args.per_class)
    images = np.concatenate([
        pipe(asked[i:i + 50].tolist(), seed=args.seed + i,
             guidance_scale=args.guidance_scale)
        for i in range(0, len(asked), 50)])
    found = knn_labels(grey(images), bank, bank_labels, num_classes)
    report = {
        "model": args.model, "per_class": args.per_class,
        "real_test_accuracy": float(np.mean(real == test_labels[:1000])),
        "generated_accuracy": float(np.mean(found == asked)),
        "class_accuracy": {name: float(np.mean(found[asked == c] == c))
                      for c, name in enumerate(pipe.config.class_names)}}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
