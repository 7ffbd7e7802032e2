"""Where the decoding loop's time goes: one transformer forward, and the
machine's TensorFlow matmul peak, in fp32 and bf16, XLA on and off (the
better of the two is TensorFlow's peak).

One decoding step is one forward of the doubled (CFG) batch plus sampling,
so forward time x steps against `bench_generate.py`'s loop time gives the
sampling share, and the forward's GFLOP/s against the matmul peak says how
much is left to gain in the model itself. The forward timed is a decoding
step's: `logits_from_memory` against an attention memory computed before,
with `bench_generate.py`'s hand FLOP count. Prints one JSON line.

  python benchmarks/bench_forward.py                      # SMALL
  python benchmarks/bench_forward.py --hidden 512 --depth 8 --heads 8 --codebook 8192
"""

import argparse
import json
import statistics

import tensorflow as tf
from bench_generate import (
    _time,
    add_config_arguments,
    gflop_per_step,
    transformer_config,
)

from muse_tf.models.transformer import MuseTransformer
from muse_tf.precision import choose, computing_in


def time_call(fn, repeats):
    """Median seconds of `repeats` calls after one that compiles."""
    return statistics.median(_time(fn, 1, repeats))


def matmul_gflops(dtype, repeats, jit_compile, n=2048):
    a = tf.cast(tf.random.normal([n, n]), dtype)
    matmul = tf.function(lambda: tf.matmul(a, a), jit_compile=jit_compile)
    return 2 * n**3 / time_call(lambda: matmul().numpy(), repeats) / 1e9


def forward_seconds(args, precision, jit_compile):
    config = transformer_config(args)
    model = MuseTransformer(config)
    batch = 2 * args.batch  # The doubled CFG batch.
    tokens = tf.fill([batch, config.sequence_length], config.mask_token_id)
    states = tf.random.normal([batch, args.text_len, args.text_dim])
    mask = tf.ones([batch, args.text_len], tf.bool)
    with computing_in([model], choose(precision)):
        memory = model.attention_memory(states, mask)
        forward = tf.function(model.logits_from_memory,
                              jit_compile=jit_compile)
        return time_call(lambda: forward(tokens, memory).numpy(),
                         args.repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_arguments(parser)  # --batch images: the forward runs 2x.
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    gflop = gflop_per_step(args, 2 * args.batch)
    report = {"config": f"h{args.hidden} d{args.depth} H{args.heads} "
                        f"K{args.codebook} {args.tokens_side}x"
                        f"{args.tokens_side} b{args.batch} cfg",
              "forward_gflop": round(gflop, 3)}
    for dtype in ("fp32", "bf16"):
        for jit_compile in (True, False):
            mode = "xla" if jit_compile else "graph"
            report[f"matmul_gflops_{dtype}_{mode}"] = round(matmul_gflops(
                tf.float32 if dtype == "fp32" else tf.bfloat16, args.repeats,
                jit_compile), 1)
            name = f"forward_{dtype}_{mode}"
            seconds = forward_seconds(args, dtype, jit_compile)
            report[f"{name}_seconds"] = round(seconds, 4)
            report[f"{name}_gflops"] = round(gflop / seconds, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
