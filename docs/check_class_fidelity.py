"""Does a class id give that class? A nearest-neighbour check for the
class-conditional Fashion-MNIST model.

Generates `--per-class` images of every class and labels each by a 5-nearest-
neighbour vote over the 60,000 Fashion-MNIST training images (grey pixels):
the fraction labelled with the class asked for. The same vote on real test
images is the ceiling this coarse judge allows; chance is 0.1.

  python docs/check_class_fidelity.py                       # the bundled model
  python docs/check_class_fidelity.py --model runs/fashion_model
"""

import argparse
import json

import numpy as np

from muse_tf.class_pipeline import ClassToImage
from muse_tf.data import fashion_mnist
from muse_tf.evaluate import grey_pixels, nearest_neighbour_labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fashion_32",
                        help="bundled class-conditional model name or model "
                        "directory (default: fashion_32)")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--guidance-scale", type=float, default=None,
                        help="default: the model's")
    args = parser.parse_args()

    pipe = ClassToImage.from_pretrained(args.model)
    num_classes = pipe.config.num_classes
    train_images, train_labels = fashion_mnist.load("train")
    bank = grey_pixels(train_images)
    test_images, test_labels = fashion_mnist.load("test")
    real = nearest_neighbour_labels(grey_pixels(test_images[:1000]), bank,
                                    train_labels, num_classes)

    asked = np.repeat(np.arange(num_classes), args.per_class)
    images = np.concatenate([
        pipe(asked[i:i + 50].tolist(), seed=args.seed + i,
             guidance_scale=args.guidance_scale)
        for i in range(0, len(asked), 50)])
    found = nearest_neighbour_labels(grey_pixels(images), bank,
                                     train_labels, num_classes)
    report = {
        "model": args.model, "per_class": args.per_class,
        "real_test_accuracy": float(np.mean(real == test_labels[:1000])),
        "generated_accuracy": float(np.mean(found == asked)),
        "class_accuracy": {name: float(np.mean(found[asked == c] == c))
                           for c, name in enumerate(pipe.config.class_names)}}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
