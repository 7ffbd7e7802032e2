"""Export and serving cost of models' SavedModels, one JSON line each.

Measures, for each `--model` (default: the bundled default model):
  * export_s: `muse_tf.export.export` wall time (tracing and writing);
  * savedmodel_mb: the SavedModel directory's size on disk;
  * per batch size (1 and 4), in a fresh process as a newly started server
    would see it: load_s (`tf.saved_model.load`), first_call_s (the first
    `serving_default` call, which compiles the XLA loop), warm_s (median
    of --repeats warm calls, prompt in -> PNG out, the model's default
    steps and guidance) and peak_rss_mb of that process;
  * python_warm_s: the same warm call through the Python pipeline in this
    process (prompt in -> uint8 images -> PNG), which runs the same
    compiled loop, so served/python should be about 1.
With several models, a last line gives each one's warm served latency
over the first's, measured in the same run.

  python benchmarks/bench_export.py
  python benchmarks/bench_export.py --model emoji_128 runs/emoji_next/model
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from muse_tf.presets import DEFAULT_MODEL

PROMPT = "a ladybug emoji, Apple style"

# Runs in a fresh process so that load and first-call times include what a
# newly started server pays.
_SERVE = r"""
import json, resource, statistics, sys, time
import tensorflow as tf
import tensorflow_text  # noqa: F401
path, repeats, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
settings = json.loads(sys.argv[4])
start = time.perf_counter()
serve = tf.saved_model.load(path).signatures["serving_default"]
result = {"load_s": time.perf_counter() - start}
prompt = settings.pop("prompt")
inputs = {  # A loaded signature needs every input.
    "prompt": tf.constant([prompt] * batch),
    "negative_prompt": tf.constant([], tf.string),
    "seed": tf.constant(0, tf.int64),
    **{name: tf.constant(value, tf.int32 if isinstance(value, int)
                         else tf.float32)
       for name, value in settings.items()}}

def call():
    start = time.perf_counter()
    serve(**inputs)["image_bytes"].numpy()
    return time.perf_counter() - start

result["first_call_s"] = call()
result["warm_s"] = statistics.median(call() for _ in range(repeats))
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
    parser.add_argument("--model", nargs="+", default=[DEFAULT_MODEL],
                        help="bundled model names or model directories")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    results = [measure(model, args.repeats) for model in args.model]
    if len(results) > 1:
        first = results[0]
        print(json.dumps({"warm_s_over_first": {
            r["model"]: {f"batch{b}": round(r[f"warm_s_batch{b}"]
                                            / first[f"warm_s_batch{b}"], 3)
                         for b in (1, 4)}
            for r in results}}))


def measure(model, repeats):
    """Exports `model` and measures it (the module docstring); prints and
    returns the measurements."""
    import tensorflow as tf

    import muse_tf
    from muse_tf.export import export

    pipe = muse_tf.load_pipeline(model)
    sampler = pipe.config.sampler
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "muse", "1")
        start = time.perf_counter()
        export(pipe, path)
        result = {"model": model,
                  "export_s": time.perf_counter() - start,
                  "savedmodel_mb": _dir_mb(path),
                  "num_steps": sampler.num_steps,
                  "guidance_scale": sampler.guidance_scale}
        # Every stage's sampling inputs at the model's defaults.
        settings = json.dumps({"prompt": PROMPT, **{
            name: value for stage in pipe.stages for name, value in (
                (stage.inputs.num_steps, stage.sampler.num_steps),
                (stage.inputs.guidance_scale,
                 stage.sampler.guidance_scale))}})
        for batch in (1, 4):
            served = subprocess.run(
                [sys.executable, "-c", _SERVE, path, str(repeats),
                 str(batch), settings], stdout=subprocess.PIPE, text=True,
                check=True)
            for key, value in json.loads(
                    served.stdout.strip().splitlines()[-1]).items():
                result[f"{key}_batch{batch}"] = value

            def python_call(batch=batch):
                start = time.perf_counter()
                for image in pipe([PROMPT] * batch):
                    tf.io.encode_png(image).numpy()
                return time.perf_counter() - start

            python_call()
            result[f"python_warm_s_batch{batch}"] = statistics.median(
                python_call() for _ in range(repeats))
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                      for k, v in result.items()}))
    return result


if __name__ == "__main__":
    main()
