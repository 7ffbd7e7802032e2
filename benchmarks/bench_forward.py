"""Where the decoding loop's time goes: one transformer forward, and the
machine's TensorFlow matmul peak, in fp32 and bf16, XLA on and off (the
better of the two is TensorFlow's peak).

One decoding step is one forward of the doubled (CFG) batch plus sampling,
so forward time x steps against `bench_generate.py`'s loop time gives the
sampling share, and the forward's GFLOP/s against the matmul peak says how
much is left to gain in the model itself. The matmul ceiling times each
of the forward's matrix products alone at its own shape: the forward's
GFLOP/s if nothing but its matmuls took time; its gap to the 2048² peak
is what TensorFlow's kernels lose on the model's own shapes. The forward
timed is a decoding step's: `logits_from_memory` against an attention
memory computed before, with `bench_generate.py`'s hand FLOP count.
Prints one JSON line.

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


def forward_matmuls(args, batch):
    """One decoding step's matrix products, as (count, batch_dims, m, k, n):
    the shapes behind `gflop_per_step`'s count."""
    h, length, text = args.hidden, args.tokens_side**2, args.text_len
    rows, heads = batch * length, (batch * args.heads,)
    head_dim = h // args.heads
    return [
        # Self-attention Q, K, V, out; cross-attention Q, out; the head's
        # dense layer; the MLP.
        (6 * args.depth + 1, (), rows, h, h),
        (args.depth, (), rows, h, 4 * h),
        (args.depth, (), rows, 4 * h, h),
        (args.depth, heads, length, head_dim, length),   # self-attention
        (args.depth, heads, length, length, head_dim),
        (args.depth, heads, length, head_dim, text),     # cross-attention
        (args.depth, heads, length, text, head_dim),
        (1, (), rows, h, args.codebook),                 # logits
    ]


def matmul_ceiling(args, dtype, repeats):
    """(GFLOP/s, seconds, {shape: GFLOP/s}) of the forward's matmuls
    alone, each shape timed on its own (bf16 as a graph, fp32 under XLA:
    each one's better mode) and in the faster of its two layouts (rows
    as one matrix, or as [sequences, length], as Keras' EinsumDense runs
    them): the most the forward can reach with TensorFlow's kernels if
    everything else in it were free. Each time is less an empty call's
    (the function's own overhead, a tenth of a millisecond, which the
    forward pays once)."""
    flops = seconds = 0.0
    by_shape = {}
    sequences = 2 * args.batch
    empty = tf.function(lambda: tf.zeros([]),
                        jit_compile=dtype == tf.float32)
    overhead = time_call(lambda: empty().numpy(), repeats)
    for count, batch_dims, m, k, n in forward_matmuls(args, sequences):
        if batch_dims:  # Attention: both operands batched.
            layouts = [([*batch_dims, m, k], [*batch_dims, k, n])]
        else:  # A projection: one weight for all rows.
            layouts = [([m, k], [k, n]),
                       ([sequences, m // sequences, k], [k, n])]
        best = min(_matmul_seconds(dtype, a, b, repeats)
                   for a, b in layouts)
        size = 2 * m * k * n * (batch_dims[0] if batch_dims else 1)
        flops += count * size
        seconds += count * (best - overhead)
        shape = "x".join(map(str, (*batch_dims, m, k, n)))
        by_shape[shape] = round(size / (best - overhead) / 1e9, 1)
    return flops / seconds / 1e9, seconds, by_shape


def _matmul_seconds(dtype, a_shape, b_shape, repeats):
    """Median seconds of one product of random `a_shape` and `b_shape`
    operands."""
    a = tf.cast(tf.random.normal(a_shape), dtype)
    b = tf.cast(tf.random.normal(b_shape), dtype)
    matmul = tf.function(lambda: tf.matmul(a, b),
                         jit_compile=dtype == tf.float32)
    return time_call(lambda: matmul().numpy(), repeats)


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
        gflops, seconds, by_shape = matmul_ceiling(
            args, tf.float32 if dtype == "fp32" else tf.bfloat16,
            args.repeats)
        report[f"matmul_ceiling_gflops_{dtype}"] = round(gflops, 1)
        report[f"matmul_ceiling_seconds_{dtype}"] = round(seconds, 4)
        report[f"matmul_shapes_gflops_{dtype}"] = by_shape
    print(json.dumps(report))


if __name__ == "__main__":
    main()
