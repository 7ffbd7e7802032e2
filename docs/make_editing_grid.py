"""Makes docs/editing.png: inpainting, outpainting and mask-free editing by
the bundled model, each as input | mask | output.

The inputs are emoji images of the 128-pixel data (`muse-tf prepare-data
--config full_128`) at the model's image size.

  python docs/make_editing_grid.py --output docs/editing.png
"""

import argparse

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image, ImageDraw

import muse_tf
from muse_tf.data import emoji_captions  # noqa: F401  Registers the builder.
from muse_tf.presets import DEFAULT_MODEL

_LABEL = 20  # Pixels of the caption strip under each row.


def find_image(name, style, size, data_dir=None):
    """The uint8 image of emoji `name` in `style`, resized to `size`."""
    builder = tfds.builder("emoji_captions/full_128", data_dir=data_dir)
    style_id = builder.info.features["style"].str2int(style)
    for split in ("train", "test"):
        for ex in tfds.as_numpy(builder.as_dataset(split=split)):
            if ex["name"].decode() == name and ex["style"] == style_id:
                image = tf.image.resize(ex["image"], [size, size],
                                        method="area", antialias=True)
                return np.asarray(tf.cast(tf.round(image), tf.uint8))
    raise ValueError(f"No {name!r} emoji in {style!r} style")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--output", default="docs/editing.png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    pipe = muse_tf.load_pipeline(args.model)
    size = pipe.image_size
    rows = []

    image = find_image("grinning", "noto", size, args.data_dir)
    mask = np.zeros((size, size), np.uint8)
    mask[:size // 2] = 255
    prompt = "a smiling face with heart-eyes emoji, Noto style"
    rows.append((f"inpaint upper half: {prompt!r}", image, mask,
                 pipe.inpaint(image, mask, [prompt], seed=args.seed)[0]))

    image = find_image("fire", "twitter", size, args.data_dir)
    prompt = "a fire emoji, Twitter style"
    strip = np.zeros((size, size), np.uint8)
    strip[:, -size // 4:] = 255
    rows.append((f"outpaint right 25%: {prompt!r}", image, strip,
                 pipe.outpaint(image, [prompt], "right", 0.25,
                               seed=args.seed)[0]))

    image = find_image("cat", "noto", size, args.data_dir)
    prompt = "a dog face emoji, Noto style"
    rows.append((f"mask-free edit, 30 rounds: {prompt!r}", image,
                 np.zeros((size, size), np.uint8),
                 pipe.edit(image, [prompt], num_iterations=30,
                           seed=args.seed)[0]))

    grid = Image.new("RGB", (3 * size, len(rows) * (size + _LABEL)), "white")
    draw = ImageDraw.Draw(grid)
    for i, (caption, image, mask, output) in enumerate(rows):
        top = i * (size + _LABEL)
        for j, tile in enumerate((image, np.repeat(mask[..., None], 3, -1),
                                  output)):
            grid.paste(Image.fromarray(tile), (j * size, top))
            # A frame, so a mask's white (regenerate) area shows on white.
            draw.rectangle([j * size, top, (j + 1) * size - 1,
                            top + size - 1], outline=(160, 160, 160))
        draw.text((4, top + size + 4), caption, fill="black")
    grid.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
