"""Makes docs/samples.png: the bundled model's images for emoji x style.

Rows are emoji names, columns the five styles; every cell is the prompt
"a {name} emoji, {Style} style" with one fixed seed (128x128 from the
bundled cascade; `--model emoji_64 --scale 2` for its base stage alone).

  python docs/make_sample_grid.py --output docs/samples.png
"""

import argparse

import numpy as np
from PIL import Image, ImageDraw

import muse_tf
from muse_tf.data.emoji_captions import STYLES, captions_for
from muse_tf.presets import DEFAULT_MODEL

NAMES = ("ladybug", "apple", "cat", "fire", "grinning",
         "sunflower", "rocket", "pizza", "heart", "snowman")
_LABEL = 90  # Pixels of the row-label column.


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--output", default="docs/samples.png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=1,
                        help="enlarge each image (nearest neighbour)")
    args = parser.parse_args()

    pipe = muse_tf.load_pipeline(args.model)
    cell = pipe.image_size * args.scale
    grid = Image.new("RGB", (_LABEL + cell * len(STYLES),
                             20 + cell * len(NAMES)), "white")
    draw = ImageDraw.Draw(grid)
    for j, style in enumerate(STYLES):
        draw.text((_LABEL + j * cell + 4, 4), style.capitalize(), fill="black")
    for i, name in enumerate(NAMES):
        prompts = [captions_for(name, style)[0] for style in STYLES]
        images = pipe(prompts, seed=args.seed)
        draw.text((4, 20 + i * cell + cell // 2 - 6), name, fill="black")
        for j, image in enumerate(images):
            tile = Image.fromarray(np.asarray(image)).resize(
                (cell, cell), Image.NEAREST)
            grid.paste(tile, (_LABEL + j * cell, 20 + i * cell))
    grid.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
