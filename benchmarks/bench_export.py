"""Export and serving cost of a model's SavedModel, as one JSON line.

Measures, for `--model` (default: the bundled emoji_64):
  * export_s: `muse_tf.export.export` wall time (tracing and writing);
  * savedmodel_mb: the SavedModel directory's size on disk;
  * in a fresh process, as a server would see it: load_s
    (`tf.saved_model.load`), first_call_s (the first `serving_default`
    call at batch 1, which compiles the XLA loop), warm_s_batch1 and
    warm_s_batch4 (median of --repeats warm calls, prompt in -> PNG out,
    the model's default steps and guidance), and peak_rss_mb of that
    process.

  python benchmarks/bench_export.py --model emoji_64
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# Runs in a fresh process so that load and first-call times include what a
# newly started server pays.
_SERVE = r"""
import json, resource, statistics, sys, time
import tensorflow as tf
import tensorflow_text  # noqa: F401
path, repeats = sys.argv[1], int(sys.argv[2])
start = time.perf_counter()
serve = tf.saved_model.load(path).signatures["serving_default"]
result = {"load_s": time.perf_counter() - start}

def call(batch):
    start = time.perf_counter()
    serve(prompt=tf.constant(["a ladybug emoji, Apple style"] * batch),
          negative_prompt=tf.constant([], tf.string),
          seed=tf.constant(0, tf.int64),
          guidance_scale=tf.constant(GUIDANCE),
          num_steps=tf.constant(STEPS))["image_bytes"].numpy()
    return time.perf_counter() - start

result["first_call_s"] = call(1)
for batch in (1, 4):
    call(batch)
    result[f"warm_s_batch{batch}"] = statistics.median(
        call(batch) for _ in range(repeats))
result["peak_rss_mb"] = resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def _dir_mb(path):
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path)
               for name in names) / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="emoji_64",
                        help="bundled model name or model directory")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    from muse_tf.export import export
    from muse_tf.pipeline import TextToImage

    pipe = TextToImage.from_pretrained(args.model)
    sampler = pipe.config.sampler
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "muse", "1")
        start = time.perf_counter()
        export(pipe, path)
        result = {"model": args.model,
                  "export_s": time.perf_counter() - start,
                  "savedmodel_mb": _dir_mb(path),
                  "num_steps": sampler.num_steps,
                  "guidance_scale": sampler.guidance_scale}
        script = _SERVE.replace("GUIDANCE", repr(sampler.guidance_scale))
        script = script.replace("STEPS", str(sampler.num_steps))
        served = subprocess.run(
            [sys.executable, "-c", script, path, str(args.repeats)],
            capture_output=True, text=True, check=True)
        result.update(json.loads(served.stdout.strip().splitlines()[-1]))
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                      for k, v in result.items()}))


if __name__ == "__main__":
    main()
