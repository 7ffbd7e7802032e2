"""Writes the PNGs that `tests/bundled_png_test.py` holds the bundled
models to: what each bundled model draws for fixed prompts (or classes) and
seeds, through its Python pipeline.

Run from the repository root when a bundled model's weights change on
purpose (never to make a failing test pass after a refactor: these files
pin what users get from a seed):

    python tests/golden/make_bundled_pngs.py
"""

import os

import tensorflow as tf

import muse_tf

HERE = os.path.join(os.path.dirname(__file__), "bundled")

# (bundled model, what to ask for, seed): the first README command's
# prompts for the text model; three classes for the class model.
CASES = (
    ("emoji_128", ["a grinning face emoji, Twitter style",
                   "a fire emoji, Noto style"], 0),
    ("fashion_32", [0, 7, 9], 0),
)


def png_name(model, seed, index):
    return f"{model}_seed{seed}_{index}.png"


def main():
    os.makedirs(HERE, exist_ok=True)
    for model, requests, seed in CASES:
        images = muse_tf.load_pipeline(model, precision="fp32")(
            requests, seed=seed)
        for index, image in enumerate(images):
            path = os.path.join(HERE, png_name(model, seed, index))
            tf.io.write_file(path, tf.io.encode_png(image))
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
