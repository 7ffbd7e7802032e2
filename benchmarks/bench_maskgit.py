"""MaskGIT's released 256-px model, ours against the official JAX
inference, in one run on this CPU: 16-step generation of a class, VQGAN
decoding included, at batch 1 and 4 (seconds per batch, median of
--repeats after a first, compiling call; each side in a fresh process).

Both run the same weights: random ones at the released architecture,
written in the released files' format and names by
tests/golden/make_maskgit_golden.py --full-size-dir DIR/checkpoints, which
the official generator loads from DIR/checkpoints/ and `muse-tf convert
maskgit` converts for ours (the conversion is timed and kept in DIR).

  python benchmarks/bench_maskgit.py --checkpoints ~/.cache/maskgit_random256 \
      --official-python ~/.cache/muse_maskgit_venv/bin/python \
      --official-code ~/.cache/maskgit_official

Goal (issue "Run the official MaskGIT ImageNet models"): ours at most 1.0x
the official time. Results: benchmarks/README.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from child_process import last_json

HERE = os.path.dirname(os.path.abspath(__file__))


def ours(model_dir, batches, repeats, label):
    """Times our pipeline on a converted model directory; one JSON line."""
    import tensorflow as tf

    from muse_tf.pipeline import MusePipeline

    pipe = MusePipeline.from_pretrained(model_dir)
    results = {}
    for batch in batches:
        classes = [label] * batch
        start = time.perf_counter()
        pipe(classes, seed=0)
        first = time.perf_counter() - start
        times = []
        for repeat in range(repeats):
            start = time.perf_counter()
            pipe(classes, seed=repeat + 1)
            times.append(time.perf_counter() - start)
        results[str(batch)] = {"seconds_per_batch": statistics.median(times),
                               "times": times, "first_call": first}
    print(json.dumps({"impl": "muse_tf", "tensorflow": tf.__version__,
                      "steps": pipe.config.sampler.num_steps,
                      "results": results}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", required=True,
                        help="directory holding checkpoints/{tokenizer,"
                        "maskgit}_imagenet256_checkpoint")
    parser.add_argument("--official-python", required=True,
                        help="python of the virtualenv with JAX and Flax")
    parser.add_argument("--official-code", required=True,
                        help="checkout of google-research/maskgit")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label", type=int, default=207)
    parser.add_argument("--ours-only", default=None, metavar="MODEL_DIR",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours_only:
        ours(args.ours_only, args.batch, args.repeats, args.label)
        return

    files = os.path.join(args.checkpoints, "checkpoints")
    model_dir = os.path.join(args.checkpoints, "muse_tf_model")
    if not os.path.exists(os.path.join(model_dir, "model.json")):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "muse_tf.cli", "convert",
                        "maskgit", "--tokenizer",
                        os.path.join(files, "tokenizer_imagenet256_checkpoint"),
                        "--transformer",
                        os.path.join(files, "maskgit_imagenet256_checkpoint"),
                        model_dir], check=True)
        print(f"converted in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
    common = ["--batch", *map(str, args.batch), "--repeats",
              str(args.repeats), "--label", str(args.label)]
    official = last_json(
        [args.official_python,
         os.path.join(HERE, "peers", "bench_maskgit_official.py"), *common],
        cwd=args.checkpoints,
        env={**os.environ, "PYTHONPATH": os.path.abspath(args.official_code)})
    mine = last_json([sys.executable, os.path.abspath(__file__),
                       "--checkpoints", args.checkpoints, "--official-python",
                       args.official_python, "--official-code",
                       args.official_code, "--ours-only", model_dir, *common])
    print("| batch | official JAX s/batch | muse_tf s/batch | ratio |")
    print("|---|---|---|---|")
    for batch in map(str, args.batch):
        theirs = official["results"][batch]["seconds_per_batch"]
        us = mine["results"][batch]["seconds_per_batch"]
        print(f"| {batch} | {theirs:.2f} | {us:.2f} | {us / theirs:.2f}x |")
    print(json.dumps({"official": official, "muse_tf": mine}))


if __name__ == "__main__":
    main()
