"""Generation speed: seconds per batch and images/s, one JSON line per run.

Two kinds of run:
  * `--model emoji_64` (or a model dir): the bundled model end to end from
    text states to tokens, plus the VQGAN decode, with its own config.
  * a random-weight transformer at the peers' flags (peers/):
      SMALL:  --tokens-side 16 --hidden 256 --depth 4 --heads 4 --codebook 1024
      MEDIUM: --tokens-side 16 --hidden 512 --depth 8 --heads 8 --codebook 8192
    with --steps 12 --batch 4 --cfg on and random 77x768 text states, as the
    peers get. MLP width is 4x hidden.

What is timed is one call of the whole decoding loop (all steps, CFG as one
doubled batch) in `--precision` (default fp32: XLA-compiled; bf16: the
transformer in bf16, sampling in float32, on a CPU as a oneDNN graph;
`muse_tf/precision.py`), after --warmup untimed calls; the median of
--repeats is reported. Only ratios taken in one run on one machine mean
anything (see peers/README.md).

FLOPs per step (config runs) are counted by hand, multiply-add = 2: every
Dense matmul of one forward of the doubled batch over the image tokens,
both attention matmuls, the head. The text's key/value projections are not
in it: the loop computes them once per call (`gflop_per_call_once`), not
once per step as the peers do.

  python benchmarks/bench_generate.py --model emoji_64
  python benchmarks/bench_generate.py --tokens-side 16 --hidden 256 \
      --depth 4 --heads 4 --codebook 1024 --steps 12 --batch 4 --cfg on
"""

import argparse
import functools
import json
import statistics
import time

import tensorflow as tf

import muse_tf
from muse_tf.conditioning import Condition
from muse_tf.configs import SamplerConfig, TransformerConfig
from muse_tf.models.transformer import MuseTransformer
from muse_tf.precision import PRECISIONS, choose, function_in
from muse_tf.sampling.guided import generate_tokens
from muse_tf.sampling.settings import StageSettings, seed_pair


def _time(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _random_text(batch, length, dim, seed):
    return (tf.random.stateless_normal([batch, length, dim], [seed, 0]),
            tf.ones([batch, length], tf.bool))


def add_config_arguments(parser):
    """The peers' model and batch flags (peers/bench_common.py)."""
    parser.add_argument("--tokens-side", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--codebook", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--text-len", type=int, default=77)
    parser.add_argument("--text-dim", type=int, default=768)


def transformer_config(args):
    """The transformer at the peers' flags (MLP width 4x hidden)."""
    return TransformerConfig(
        codebook_size=args.codebook, image_tokens_per_side=args.tokens_side,
        hidden_dim=args.hidden, num_layers=args.depth, num_heads=args.heads,
        mlp_dim=4 * args.hidden, dropout=0.0, text_dim=args.text_dim)


def gflop_per_step(args, batch):
    """Hand count of one decoding step's forward of `batch` sequences."""
    h, length, text = args.hidden, args.tokens_side**2, args.text_len
    per_layer = length * (4 * h * h          # self-attention Q, K, V, out
                          + 2 * h * h        # cross-attention Q, out
                          + 2 * h * 4 * h)   # MLP in, out
    per_layer += 2 * length * length * h     # self-attention scores, sum
    per_layer += 2 * length * text * h       # cross-attention scores, sum
    total = args.depth * per_layer
    total += length * (h * h + h * args.codebook)  # MLM head
    return 2 * total * batch / 1e9


def gflop_once(args, batch):
    """Hand count of the attention memory, computed once per call: the
    text projection and every layer's cross-attention K, V."""
    h, text = args.hidden, args.text_len
    total = text * args.text_dim * h + args.depth * text * 2 * h * h
    return 2 * total * batch / 1e9


def random_loop(args, guidance_scale=3.0, precision=None):
    """A random-weight transformer at the peers' flags and a call of its
    whole decoding loop in `precision` (a Choice; default fp32) on random
    text states, as the peers get them: (transformer, call)."""
    precision = precision or choose("fp32")
    config = transformer_config(args)
    transformer = MuseTransformer(config)
    sampler = SamplerConfig(num_steps=args.steps)
    condition = Condition(*_random_text(args.batch, args.text_len,
                                        args.text_dim, 1))
    uncondition = Condition(*_random_text(args.batch, args.text_len,
                                          args.text_dim, 2))
    start = tf.fill([args.batch, config.sequence_length],
                    config.mask_token_id)
    run = function_in(functools.partial(generate_tokens, transformer,
                                        sampler), [transformer], precision)

    def call():
        run(start, condition, uncondition,
            seed_pair(tf.constant(0, tf.int64)),
            StageSettings(tf.constant(args.steps),
                          tf.constant(guidance_scale))).numpy()

    return transformer, call


def bench_config(args):
    transformer, call = random_loop(
        args, 3.0 if args.cfg == "on" else 0.0, args.precision)
    times = _time(call, args.warmup, args.repeats)
    # The loop always runs the doubled batch (--cfg off is guidance 0).
    batch = 2 * args.batch
    per_step = gflop_per_step(args, batch)
    return {"transformer_params": transformer.count_params(),
            "config": (f"h{args.hidden} d{args.depth} H{args.heads} "
                       f"K{args.codebook} {args.tokens_side}x"
                       f"{args.tokens_side} steps{args.steps} b{args.batch} "
                       f"cfg {args.cfg}"),
            "gflop_per_step": round(per_step, 3),
            "gflop_per_call_once": round(gflop_once(args, batch), 3),
            "achieved_gflops_generation": round(
                per_step * args.steps / statistics.median(times), 1),
            "times": times}


def bench_model(args):
    pipe = muse_tf.load_pipeline(args.model, precision=args.precision)
    prompts = ["a ladybug emoji, Apple style"] * args.batch
    steps = args.steps or pipe.config.sampler.num_steps
    tokens = lambda: pipe.tokens(prompts, seed=0,
                                 num_steps=steps)
    times = _time(tokens, args.warmup, args.repeats)
    ids = tf.constant(tokens())
    decode_times = _time(lambda: pipe._decode(ids).numpy(), 1, args.repeats)
    return {"transformer_params": pipe.stages[0].transformer.count_params(),
            "config": f"{args.model} steps{steps} b{args.batch} cfg on",
            "times": times,
            "decode_vq_seconds": statistics.median(decode_times)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None,
                        help="bundled model name or model dir; otherwise a "
                        "random-weight transformer at the flags below")
    add_config_arguments(parser)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--cfg", choices=["on", "off"], default="on")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    args.precision = choose(args.precision)

    result = bench_model(args) if args.model else bench_config(args)
    times = result.pop("times")
    median = statistics.median(times)
    print(json.dumps({
        "peer": "muse_tf", "label": args.label, **result,
        "precision": args.precision.name, "xla": args.precision.xla,
        "seconds_per_batch_median": round(median, 4),
        "seconds_per_batch_min": round(min(times), 4),
        "images_per_second": round(args.batch / median, 3),
        "all_times": [round(t, 4) for t in times],
        "intra_op_threads":
            tf.config.threading.get_intra_op_parallelism_threads(),
        "versions": {"tensorflow": tf.__version__},
    }))


if __name__ == "__main__":
    main()
