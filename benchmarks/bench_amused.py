"""aMUSEd-256 at full size, ours against diffusers' `AmusedPipeline`, in
one run on this CPU: prompt in, pixels out (CLIP text encoding, 12
decoding steps with guidance 10 against the empty prompt, VQ decode), at
batch 1 and 4 of one fixed prompt; seconds per batch, the median of
--repeats after a first call (ours compiles its XLA functions in it), and
each side's peak resident memory; each side in its own fresh process, one
after the other. Ours in --precision (default auto: bf16 on a CPU with
AVX512-BF16 or AMX; docs/design.md §11); diffusers in fp32, as its
pipeline runs on a CPU.

Both run the same weights: random ones at amused-256's config, written as
a diffusers folder by benchmarks/peers/make_amused_random.py, which
`AmusedPipeline.from_pretrained` loads and `muse-tf convert amused`
converts for ours (timed, kept in FOLDER/muse_tf_model).

  ~/.cache/muse_peers_venv/bin/python benchmarks/peers/make_amused_random.py \
      ~/.cache/amused_random256
  python benchmarks/bench_amused.py --folder ~/.cache/amused_random256 \
      --peer-python ~/.cache/muse_peers_venv/bin/python

Goal (issue 31): ours at most 0.7x diffusers' time. Results:
benchmarks/README.md.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from child_process import last_json

from muse_tf.precision import PRECISIONS

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = "a photograph of a red fox sitting in the snow, golden hour"


def ours(model_dir, batches, repeats, prompt, precision):
    """Times our pipeline on a converted model directory; one JSON line."""
    start = time.perf_counter()
    import tensorflow as tf

    from muse_tf.pipeline import MusePipeline

    pipe = MusePipeline.from_pretrained(model_dir, precision=precision)
    load = time.perf_counter() - start
    results = {}
    for batch in batches:
        prompts = [prompt] * batch
        start = time.perf_counter()
        images = pipe(prompts, seed=0)
        first = time.perf_counter() - start
        assert images.shape == (batch, 256, 256, 3), images.shape
        times = []
        for repeat in range(repeats):
            start = time.perf_counter()
            pipe(prompts, seed=repeat + 1)
            times.append(time.perf_counter() - start)
        results[str(batch)] = {"seconds_per_batch": statistics.median(times),
                               "times": times, "first_call": first}
    sampler = pipe.config.sampler
    print(json.dumps({
        "impl": "muse_tf", "tensorflow": tf.__version__, "load": load,
        "precision": str(pipe.precision),
        "steps": sampler.num_steps,
        "guidance": sampler.guidance_scale + 1.0, "results": results,
        "peak_rss_mb": resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", required=True,
                        help="diffusers aMUSEd folder "
                        "(peers/make_amused_random.py)")
    parser.add_argument("--peer-python", required=True,
                        help="python of the PyTorch peers' virtualenv")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="ours (default auto)")
    parser.add_argument("--only", choices=["ours", "theirs"], default=None,
                        help="run one side (a partial result, no ratio)")
    parser.add_argument("--ours-only", default=None, metavar="MODEL_DIR",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours_only:
        ours(args.ours_only, args.batch, args.repeats, args.prompt,
             args.precision)
        return

    model_dir = os.path.join(args.folder, "muse_tf_model")
    if not os.path.exists(os.path.join(model_dir, "model.json")):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "muse_tf.cli", "convert",
                        "amused", args.folder, model_dir], check=True)
        print(f"converted in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
    common = ["--batch", *map(str, args.batch), "--repeats",
              str(args.repeats), "--prompt", args.prompt]
    theirs = mine = None
    if args.only != "ours":
        theirs = last_json(
            [args.peer_python,
             os.path.join(HERE, "peers", "bench_amused_pipeline.py"),
             args.folder, *common, "--threads", str(os.cpu_count())])
        print(json.dumps(theirs), file=sys.stderr)
    if args.only != "theirs":
        mine = last_json([sys.executable, os.path.abspath(__file__),
                           "--folder", args.folder, "--peer-python",
                           args.peer_python, "--ours-only", model_dir,
                           "--precision", args.precision, *common])
        print(json.dumps(mine), file=sys.stderr)
    if theirs and mine:
        print("| batch | diffusers s/batch | muse_tf s/batch | ratio "
              "| first call diffusers / muse_tf |")
        print("|---|---|---|---|---|")
        for batch in map(str, args.batch):
            them = theirs["results"][batch]
            us = mine["results"][batch]
            print(f"| {batch} | {them['seconds_per_batch']:.2f} "
                  f"| {us['seconds_per_batch']:.2f} "
                  f"| {us['seconds_per_batch'] / them['seconds_per_batch']:.2f}x"
                  f" | {them['first_call']:.1f} s / {us['first_call']:.1f} s |")
        print(f"peak RSS: diffusers {theirs['peak_rss_mb']:.0f} MB, "
              f"muse_tf {mine['peak_rss_mb']:.0f} MB; load: diffusers "
              f"{theirs['load']:.1f} s, muse_tf {mine['load']:.1f} s")
    print(json.dumps({"diffusers": theirs, "muse_tf": mine}))


if __name__ == "__main__":
    main()
