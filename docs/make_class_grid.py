"""Makes docs/fashion.png: the bundled class-conditional model's images.

One row per class, `--per-class` images each (one call per row, one seed),
with a column of real test images of the class on the left for comparison.

  python docs/make_class_grid.py --output docs/fashion.png
"""

import argparse

import numpy as np
from PIL import Image, ImageDraw

import muse_tf
from muse_tf.data import fashion_mnist

_LABEL = 80  # Pixels of the row-label column.
_GAP = 8  # Pixels between the real column and the generated ones.


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fashion_32",
                        help="bundled class-conditional model name or model "
                        "directory (default: fashion_32)")
    parser.add_argument("--output", default="docs/fashion.png")
    parser.add_argument("--per-class", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=2,
                        help="enlarge each image (nearest neighbour)")
    args = parser.parse_args()

    pipe = muse_tf.load_pipeline(args.model)
    names = pipe.config.classes.class_names
    real_images, real_labels = fashion_mnist.load("test")
    cell = pipe.config.vqgan.image_size * args.scale
    grid = Image.new("RGB", (_LABEL + cell + _GAP + cell * args.per_class,
                             20 + cell * len(names)), "white")
    draw = ImageDraw.Draw(grid)
    draw.text((_LABEL + 4, 4), "real", fill="black")
    draw.text((_LABEL + cell + _GAP + 4, 4), "generated", fill="black")

    def paste(image, x, y):
        grid.paste(Image.fromarray(np.asarray(image)).resize(
            (cell, cell), Image.NEAREST), (x, y))

    for i, name in enumerate(names):
        top = 20 + i * cell
        draw.text((4, top + cell // 2 - 6), name, fill="black")
        paste(real_images[np.argmax(real_labels == i)], _LABEL, top)
        images = pipe([i] * args.per_class, seed=args.seed + i)
        for j, image in enumerate(images):
            paste(image, _LABEL + cell + _GAP + j * cell, top)
    grid.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
