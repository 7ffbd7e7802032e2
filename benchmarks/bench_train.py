"""Training throughput (examples/s) at the bundled model's config.

Times our train steps — the base transformer (random token ids and text
states, as the token shards give) and the VQGAN (random images) — under
OneDeviceStrategy and MirroredStrategy over two logical CPU devices, in
fp32 with XLA on and off and in bf16 (`--precision bf16`: Keras
mixed_bfloat16, on a CPU without XLA; docs/design.md §11), and, with
--peer-python, the lucidrains peer's transformer step at the same config
(benchmarks/peer_train_maskgit.py in the peers' virtualenv), so the ratios
come from one run. Then the transformer's loss over --curve-steps steps in
fp32 and in bf16 from the same initial weights on the same batch: the two
curves must agree. Each line of output is one JSON result; the last is the
table of ratios.

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

import keras
import tensorflow as tf

from muse_tf.precision import building_in, choose
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


def transformer_trainer(config, strategy, precision, jit_compile=None):
    """The base transformer's trainer built in `precision` (a Choice),
    XLA as the precision runs it unless `jit_compile` says otherwise."""
    c = config.transformer
    with building_in(precision):
        return TransformerTrainer(
            c, tf.zeros([1, _TEXT_LENGTH, c.text_dim]),
            tf.ones([1, _TEXT_LENGTH], tf.bool),
            TransformerTrainConfig(jit_compile=precision.xla
                                   if jit_compile is None else jit_compile),
            strategy=make_strategy(strategy))


def transformer_batch(config, batch_size):
    c = config.transformer
    return {
        "tokens": tf.random.stateless_uniform(
            [batch_size, c.sequence_length], [1, 2], 0, c.codebook_size,
            tf.int32),
        "text_states": tf.random.stateless_normal(
            [batch_size, _TEXT_LENGTH, c.text_dim], [3, 4]),
        "text_mask": tf.ones([batch_size, _TEXT_LENGTH], tf.bool)}


def bench_transformer(config, batch_size, strategy, precision, args,
                      jit_compile=None):
    trainer = transformer_trainer(config, strategy, precision, jit_compile)
    return _time_trainer(trainer, transformer_batch(config, batch_size),
                         args.steps_per_call, args.repeats)


def loss_curve(config, batch_size, precision, steps):
    """The transformer's loss at each of `steps` steps on one batch, from
    initial weights drawn with seed 0."""
    keras.utils.set_random_seed(0)
    trainer = transformer_trainer(config, "one_device", precision)
    iterator = iter(trainer.distribute(tf.data.Dataset.from_tensors(
        transformer_batch(config, batch_size)).repeat()))
    return [float(trainer.train_steps(iterator, 1)["loss/masked_token"])
            for _ in range(steps)]


def bench_vqgan(config, batch_size, strategy, precision, args):
    c = config.vqgan
    # disc_start=0: the adversarial terms run, as in most of a real run.
    with building_in(precision):
        trainer = VQGANTrainer(c, VQGANTrainConfig(
            disc_start=0, jit_compile=precision.xla),
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
    parser.add_argument("--curve-steps", type=int, default=100)
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

    fp32, bf16 = choose("fp32"), choose("bf16")
    tb = args.transformer_batch
    for strategy, jit in (("one_device", True), ("one_device", False),
                          ("mirrored", True)):
        report(f"transformer/{strategy}/xla_{'on' if jit else 'off'}", tb,
               bench_transformer(config, tb, strategy, fp32, args, jit))
    report("transformer/one_device/bf16", tb,
           bench_transformer(config, tb, "one_device", bf16, args))
    if args.peer_python:
        peer = run_peer(config, tb, args)
        report("transformer/peer_muse_maskgit_pytorch", tb,
               peer["seconds_per_step_median"],
               transformer_params=peer["transformer_params"])
    vb = args.vqgan_batch
    for strategy in ("one_device", "mirrored"):
        report(f"vqgan/{strategy}/xla_on", vb,
               bench_vqgan(config, vb, strategy, fp32, args))
    report("vqgan/one_device/bf16", vb,
           bench_vqgan(config, vb, "one_device", bf16, args))

    base = results["transformer/one_device/xla_on"]
    ratios = {name: round(value / base, 3) for name, value in results.items()
              if name.startswith("transformer/")}
    ratios["vqgan/mirrored_vs_one_device"] = round(
        results["vqgan/mirrored/xla_on"] / results["vqgan/one_device/xla_on"],
        3)
    ratios["vqgan/bf16_vs_fp32"] = round(
        results["vqgan/one_device/bf16"] / results["vqgan/one_device/xla_on"],
        3)
    print(json.dumps({"ratios_vs_transformer_one_device_xla_on": ratios}),
          flush=True)

    curves = {name: loss_curve(config, tb, choice, args.curve_steps)
              for name, choice in (("fp32", fp32), ("bf16", bf16))}
    gaps = [abs(a - b) for a, b in zip(curves["fp32"], curves["bf16"])]
    print(json.dumps({
        "loss_curves_every_10_steps": {
            name: [round(x, 4) for x in curve[::10] + curve[-1:]]
            for name, curve in curves.items()},
        "max_abs_gap": round(max(gaps), 4),
        "max_relative_gap": round(max(
            gap / a for gap, a in zip(gaps, curves["fp32"])), 4)}))


if __name__ == "__main__":
    sys.exit(main())
