"""Training throughput (examples/s) at the bundled model's config.

Times our train steps — the base transformer (random token ids and text
states, as the token shards give) and the VQGAN (random images) — under
OneDeviceStrategy and MirroredStrategy over two logical CPU devices, with
XLA on and off for the transformer, and, with --peer-python, the lucidrains
peer's transformer step at the same config (benchmarks/peer_train_maskgit.py
in the peers' virtualenv), so the ratios come from one run. Each line of
output is one JSON result; the last is the table of ratios.

On a CPU, the two "replicas" of MirroredStrategy share the same cores: it
shows the cost of the replication machinery (all-reduce, split batches),
not a speed-up; on GPUs or TPU cores each replica has its own device.

With the peers' virtualenv (`bash benchmarks/peers/setup_venv.sh`):

  python benchmarks/bench_train.py \
      --peer-python ~/.cache/muse_peers_venv/bin/python
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from muse_tf.training.distribute import logical_cpus, make_strategy

logical_cpus(2)  # Before TensorFlow initialises its devices.

import tensorflow as tf

from muse_tf.presets import get_config
from muse_tf.training.transformer_trainer import (
    TransformerTrainConfig,
    TransformerTrainer,
)
from muse_tf.training.vqgan_trainer import (
    VQGANTrainConfig,
    VQGANTrainer,
)

_TEXT_LENGTH = 32  # The bundled text encoder's window.


def _time_trainer(trainer, batch, steps_per_call, repeats):
    """Median seconds per step of `repeats` calls of `steps_per_call`
    steps, after one untimed call (tracing and compilation)."""
    iterator = iter(trainer.distribute(
        tf.data.Dataset.from_tensors(batch).repeat()))
    float(next(iter(trainer.train_steps(iterator, steps_per_call).values())))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        metrics = trainer.train_steps(iterator, steps_per_call)
        float(next(iter(metrics.values())))  # Waits for the steps.
        times.append((time.perf_counter() - start) / steps_per_call)
    return statistics.median(times)


def bench_transformer(config, batch_size, strategy, jit_compile, args):
    c = config.transformer
    trainer = TransformerTrainer(
        c, tf.zeros([1, _TEXT_LENGTH, c.text_dim]),
        tf.ones([1, _TEXT_LENGTH], tf.bool),
        TransformerTrainConfig(jit_compile=jit_compile),
        strategy=make_strategy(strategy))
    batch = {
        "tokens": tf.random.stateless_uniform(
            [batch_size, c.sequence_length], [1, 2], 0, c.codebook_size,
            tf.int32),
        "text_states": tf.random.stateless_normal(
            [batch_size, _TEXT_LENGTH, c.text_dim], [3, 4]),
        "text_mask": tf.ones([batch_size, _TEXT_LENGTH], tf.bool)}
    return _time_trainer(trainer, batch, args.steps_per_call, args.repeats)


def bench_vqgan(config, batch_size, strategy, args):
    c = config.vqgan
    # disc_start=0: the adversarial terms run, as in most of a real run.
    trainer = VQGANTrainer(c, VQGANTrainConfig(disc_start=0),
                           strategy=make_strategy(strategy))
    images = tf.random.stateless_uniform(
        [batch_size, c.image_size, c.image_size, 3], [5, 6], -1.0, 1.0)
    return _time_trainer(trainer, images, args.steps_per_call, args.repeats)


def run_peer(config, batch_size, args):
    c = config.transformer
    command = [args.peer_python, os.path.join(os.path.dirname(__file__),
                                              "peer_train_maskgit.py"),
               "--tokens-side", str(c.image_tokens_per_side),
               "--hidden", str(c.hidden_dim), "--depth", str(c.num_layers),
               "--heads", str(c.num_heads), "--codebook",
               str(c.codebook_size), "--text-len", str(_TEXT_LENGTH),
               "--text-dim", str(c.text_dim), "--batch", str(batch_size),
               "--steps", str(args.steps_per_call),
               "--repeats", str(args.repeats)]
    result = subprocess.run(command, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="emoji_64")
    parser.add_argument("--transformer-batch", type=int, default=32)
    parser.add_argument("--vqgan-batch", type=int, default=16)
    parser.add_argument("--steps-per-call", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-python", default=None,
                        help="python of the peers' virtualenv; also time "
                        "the lucidrains peer's transformer step")
    args = parser.parse_args()
    config = get_config(args.preset)

    results = {}

    def report(name, batch_size, seconds, **extra):
        results[name] = batch_size / seconds
        print(json.dumps({"run": name, "batch": batch_size,
                          "seconds_per_step_median": round(seconds, 4),
                          "examples_per_second": round(results[name], 2),
                          **extra}), flush=True)

    tb = args.transformer_batch
    for strategy, jit in (("one_device", True), ("one_device", False),
                          ("mirrored", True)):
        report(f"transformer/{strategy}/xla_{'on' if jit else 'off'}", tb,
               bench_transformer(config, tb, strategy, jit, args))
    if args.peer_python:
        peer = run_peer(config, tb, args)
        report("transformer/peer_muse_maskgit_pytorch", tb,
               peer["seconds_per_step_median"],
               transformer_params=peer["transformer_params"])
    vb = args.vqgan_batch
    for strategy in ("one_device", "mirrored"):
        report(f"vqgan/{strategy}/xla_on", vb,
               bench_vqgan(config, vb, strategy, args))

    base = results["transformer/one_device/xla_on"]
    ratios = {name: round(value / base, 3) for name, value in results.items()
              if name.startswith("transformer/")}
    ratios["vqgan/mirrored_vs_one_device"] = round(
        results["vqgan/mirrored/xla_on"] / results["vqgan/one_device/xla_on"],
        3)
    print(json.dumps({"ratios_vs_transformer_one_device_xla_on": ratios}))


if __name__ == "__main__":
    sys.exit(main())
