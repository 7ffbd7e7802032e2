"""What does the super-res stage add? Held-out 128-px emoji, three ways.

For `--num` images of the emoji_captions/full_128 test split (emoji and
styles the model never trained on):
  * upsampled base: the base VQGAN's reconstruction of the image at 64x64,
    bicubically upsampled to 128x128 (what the base model alone can give);
  * super-res: the super-res transformer's high-res tokens for that
    image's base tokens and its caption, decoded by the high-res decoder
    (`--decoder base|large`);
  * high-res VQGAN: the high-res VQGAN's own reconstruction (the ceiling:
    the super-res stage predicts its tokens).
Each is compared with the real 128-px image: mean L1 on the [0, 1] scale,
and sharpness (mean absolute Laplacian) as a fraction of the real image's,
because L1 alone rewards blur.

  python docs/check_super_res.py --model emoji_128 --num 200
"""

import argparse
import json

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

import muse_tf


def sharpness(images):
    """Mean absolute 4-neighbour Laplacian of float [N, H, W, 3] images."""
    lap = (4 * images[:, 1:-1, 1:-1] - images[:, :-2, 1:-1]
           - images[:, 2:, 1:-1] - images[:, 1:-1, :-2] - images[:, 1:-1, 2:])
    return float(np.mean(np.abs(lap)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="emoji_128")
    parser.add_argument("--decoder", choices=["base", "large"],
                        default="base")
    parser.add_argument("--num", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    pipe = muse_tf.load_pipeline(args.model, decoder=args.decoder)
    if len(pipe.stages) < 2:
        raise ValueError(f"{args.model} has no super-res stage")
    test = tfds.load("emoji_captions/full_128", split="test",
                     data_dir=args.data_dir).take(args.num).batch(16)
    results = {"upsampled_base": [], "super_res": [], "high_res_vqgan": []}
    real = []
    for batch in tfds.as_numpy(test):
        images = batch["image"]
        captions = [c[0].decode() for c in batch["captions"]]
        base_tokens, high_tokens = pipe.encode_images(images)
        base = tf.image.resize(pipe.decode(base_tokens, stage=0),
                               images.shape[1:3], method="bicubic")
        condition, _ = pipe.conditions(captions)
        super_res = pipe.decode(pipe.super_resolve(base_tokens, condition,
                                                   seed=args.seed))
        results["upsampled_base"].append(np.clip(base.numpy(), 0, 255))
        results["super_res"].append(super_res)
        results["high_res_vqgan"].append(pipe.decode(high_tokens))
        real.append(images)
    real = np.concatenate(real).astype(np.float32) / 255
    report = {"model": args.model, "decoder": args.decoder,
              "num": len(real), "real_sharpness": sharpness(real)}
    for name, parts in results.items():
        images = np.concatenate(parts).astype(np.float32) / 255
        report[f"{name}_l1"] = float(np.mean(np.abs(images - real)))
        report[f"{name}_relative_sharpness"] = (sharpness(images)
                                                / report["real_sharpness"])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
