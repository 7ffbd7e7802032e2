"""Does a prompt naming an emoji give that emoji? A nearest-neighbour check.

For `--num` (emoji, style) pairs drawn from the training split, generates
the image for "a {name} emoji, {Style} style" and finds the nearest
training image (L2 distance on 16x16 area-downsampled RGB, so coarse shape
and colour count and pixel noise does not). A hit is a nearest neighbour of
the prompt's emoji (any style); top-5 counts a hit among the 5 nearest
distinct emoji. The same is measured for the empty prompt as the baseline a
model ignoring the text would reach, next to chance (1 / number of emoji).

This is a coarse proxy for "a person recognises it", not the classifier-
based prompt fidelity of the quality issue.

  python docs/check_recognisable.py --model emoji_128 --num 200
  python docs/check_recognisable.py --model emoji_64 --num 200   # base alone
"""

import argparse
import json

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from muse_tf.data.emoji_captions import STYLES, captions_for
from muse_tf.pipeline import TextToImage
from muse_tf.presets import DEFAULT_MODEL

_SIDE = 16


def features(images):
    """uint8 [N, H, W, 3] -> float32 [N, 16*16*3], area-downsampled."""
    small = tf.image.resize(tf.cast(images, tf.float32) / 255.0,
                            [_SIDE, _SIDE], method="area")
    return tf.reshape(small, [len(images), -1]).numpy()


def nearest_names(query, bank, bank_names, k=5):
    """The k nearest distinct names for each query row."""
    distances = (np.sum(query**2, 1)[:, None] - 2 * query @ bank.T
                 + np.sum(bank**2, 1)[None])
    order = np.argsort(distances, axis=1)
    result = []
    for row in order:
        names = []
        for index in row:
            if bank_names[index] not in names:
                names.append(bank_names[index])
            if len(names) == k:
                break
        result.append(names)
    return result


def generate(pipe, prompts, seed, batch=16):
    return np.concatenate([pipe(prompts[i:i + batch], seed=seed)
                           for i in range(0, len(prompts), batch)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--num", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    train = list(tfds.as_numpy(tfds.load("emoji_captions/full",
                                         split="train",
                                         data_dir=args.data_dir)))
    bank = features(np.stack([ex["image"] for ex in train]))
    bank_names = [ex["name"].decode() for ex in train]
    picks = np.random.default_rng(args.seed).choice(len(train), args.num,
                                                    replace=False)
    names = [bank_names[i] for i in picks]
    prompts = [captions_for(names[n], STYLES[train[i]["style"]])[0]
               for n, i in enumerate(picks)]

    pipe = TextToImage.from_pretrained(args.model)
    report = {"model": args.model, "num": args.num,
              "distinct_emoji": len(set(bank_names)),
              "chance_top1": 1 / len(set(bank_names))}
    for label, batch_prompts in (("prompt", prompts),
                                 ("empty_prompt", [""] * len(prompts))):
        found = nearest_names(features(generate(pipe, batch_prompts,
                                                args.seed)),
                              bank, bank_names)
        report[f"{label}_top1"] = float(np.mean(
            [f[0] == n for f, n in zip(found, names)]))
        report[f"{label}_top5"] = float(np.mean(
            [n in f for f, n in zip(found, names)]))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
