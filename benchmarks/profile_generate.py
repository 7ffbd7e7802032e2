"""Where a decoding loop's time goes, by op, from a profiler trace.

Compiles the loop of `bench_generate.py` (same flags), runs it once under
the TensorFlow profiler with XLA's per-op trace events on
(`--xla_cpu_enable_xprof_traceme`), and prints the ops' total time grouped
by kind (HLO op name without its number: `MatMul` are the Dense layers,
`dot` the attention einsums and MultiHeadAttention projections, `*_fusion`
fused element-wise work, `wrapped_reduce-window` reductions such as layer
norm moments and softmax sums, `TopKV2` the sampler's argsorts) as a share
of the profiled loop. With `--precision bf16` the loop is a TensorFlow
graph and its events are TensorFlow ops (`_MklNativeFusedMatMul` the
Dense layers, `_MklBatchMatMulV2` the attention projections,
`_MklEinsum` the attention products). Per-op trace
events add overhead, so the profiled loop is slower than
`bench_generate.py`'s; the shares are what the table is for. The trace
stays in --logdir for TensorBoard's profile plugin (pip install
".[bench]").

  python benchmarks/profile_generate.py                     # SMALL
  python benchmarks/profile_generate.py --hidden 512 --depth 8 --heads 8 --codebook 8192
"""

import os

# XLA reads its flags once, when TensorFlow first compiles.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_cpu_enable_xprof_traceme=true")

import argparse
import collections
import glob
import json
import re

import tensorflow as tf
from bench_generate import add_config_arguments, random_loop
from xprof.convert import raw_to_tool_data

from muse_tf.precision import choose

# Trace events that enclose others (the call, the executable, thread-pool
# regions) rather than being one op's own work.
_ENCLOSING = re.compile(r"^(end: |ThreadpoolListener|ThunkExecutor|"
                        r"SlinkyThreadPool|CpuExecutable|BlockUntilReady|"
                        r"Eager|TFE_|__inference|generate_tokens|while$|"
                        r"ExecutorState::|KernelAndDeviceFunc::|traced$|"
                        r"FunctionRun$|ParallelFor$)")


def op_times(logdir):
    """{op kind: (total microseconds, count)} from the trace in logdir."""
    xspace = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"),
                       recursive=True)
    data, _ = raw_to_tool_data.xspace_to_tool_data(xspace, "trace_viewer",
                                                   {})
    totals = collections.defaultdict(lambda: [0.0, 0])
    for event in json.loads(data)["traceEvents"]:
        if event.get("ph") != "X" or _ENCLOSING.match(event["name"]):
            continue
        kind = re.sub(r"\.\d+$", "", event["name"])
        totals[kind][0] += event.get("dur", 0.0)
        totals[kind][1] += 1
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--logdir", default="runs/profile_generate")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--precision", default="fp32",
                        choices=["fp32", "bf16"],
                        help="bf16: the loop as a graph of oneDNN kernels, "
                        "its trace events TensorFlow ops")
    args = parser.parse_args()

    _, call = random_loop(args, precision=choose(args.precision))
    call()  # Compiles outside the trace.
    tf.profiler.experimental.start(args.logdir)
    call()
    tf.profiler.experimental.stop()

    totals = op_times(args.logdir)
    loop = sum(total for total, _ in totals.values())
    print(f"{args.steps} steps, {loop / 1e3:.0f} ms of op time in the "
          f"profiled loop (trace in {args.logdir})\n")
    print("| op kind | calls | ms | share |\n|---|---|---|---|")
    ranked = sorted(totals.items(), key=lambda item: -item[1][0])
    for kind, (total, count) in ranked[:args.top]:
        print(f"| {kind} | {count} | {total / 1e3:.1f} | "
              f"{total / loop:.1%} |")


if __name__ == "__main__":
    main()
