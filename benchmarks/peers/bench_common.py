"""Shared helpers for the PyTorch peer benchmarks (aMUSEd / muse-maskgit-pytorch).

Every bench_<peer>.py prints exactly ONE JSON line on stdout; everything else
(library warnings, progress bars, stray prints) goes to stderr.
"""
import argparse
import contextlib
import importlib.metadata as md
import json
import os
import platform
import statistics
import sys
import time

# Keep library chatter and progress bars out of the way, and never touch the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

LOAD_AT_START = round(os.getloadavg()[0], 2)


def on_off(v):
    v = str(v).strip().lower()
    if v in ("1", "on", "true", "yes", "y"):
        return True
    if v in ("0", "off", "false", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"expected on/off, got {v!r}")


def base_parser(description):
    p = argparse.ArgumentParser(description=description)
    g = p.add_argument_group("shared benchmark knobs (same names in every bench_<peer>.py)")
    g.add_argument("--tokens-side", type=int, default=16, help="token grid side; 16 -> 16x16 = 256 image tokens")
    g.add_argument("--hidden", type=int, default=256, help="transformer width")
    g.add_argument("--depth", type=int, default=4, help="number of transformer layers")
    g.add_argument("--heads", type=int, default=4, help="attention heads (head dim = hidden / heads)")
    g.add_argument("--codebook", type=int, default=1024, help="VQ codebook size (= number of output classes)")
    g.add_argument("--steps", type=int, default=12, help="parallel-decoding iterations")
    g.add_argument("--batch", type=int, default=4, help="images per batch (before the CFG doubling)")
    g.add_argument("--cfg", type=on_off, default=True, help="classifier-free guidance on/off (on doubles the work)")
    g.add_argument("--repeats", type=int, default=3, help="timed generation runs (median is reported)")
    g.add_argument("--warmup", type=int, default=1, help="untimed generation runs before timing")
    g.add_argument("--decode-repeats", type=int, default=2, help="timed VQ decodes (after one untimed warm-up); 0 skips VQ decode")
    g.add_argument("--threads", type=int, default=2, help="torch.set_num_threads value")
    g.add_argument("--text-len", type=int, default=77, help="length of the (random) text-encoder sequence")
    g.add_argument("--text-dim", type=int, default=768, help="width of the (random) text embeddings")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--forward-repeats", type=int, default=3,
                   help="also time the bare transformer call of one step (CFG batch), to split loop time into "
                        "model vs. sampling/bookkeeping; 0 skips")
    g.add_argument("--no-flops", action="store_true", help="skip the FlopCounterMode pass")
    g.add_argument("--label", type=str, default="", help="free text copied into the JSON (e.g. SMALL)")
    g.add_argument("--max-other-cores", type=float, default=0.25,
                   help="discard and redo a timed run if other processes kept more than this many cores busy")
    g.add_argument("--max-discards", type=int, default=6, help="per timing phase; then keep runs regardless")
    return p


def setup_torch(threads, seed, args=None):
    if args is not None:
        RETRY["max_other_cores"] = args.max_other_cores
        RETRY["max_discards"] = args.max_discards
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    return torch.get_num_threads()


@contextlib.contextmanager
def stdout_to_stderr():
    """Libraries sometimes print(); keep stdout clean for the single JSON line."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


CPU_UTIL = {}    # label -> process CPU seconds / wall seconds over the kept timed runs
CONTENTION = {}  # label -> {"other_cores_busy": [...per kept run], "discarded": n, "threshold": x}
RETRY = {"max_other_cores": 0.25, "max_discards": 6}


def _cpu_snapshot():
    """(busy jiffies of the whole machine incl. steal, this process's jiffies, wall seconds)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = sum(v) - v[3] - (v[4] if len(v) > 4 else 0)  # all but idle and iowait
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        mine = int(fields[11]) + int(fields[12])  # utime + stime (all threads)
        return busy, mine, time.perf_counter()
    except (OSError, ValueError, IndexError):  # no or unexpected /proc
        return None


def _other_cores(s0, s1):
    """Average number of cores busy with something other than this process between snapshots."""
    if s0 is None or s1 is None:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    return max(0.0, ((s1[0] - s0[0]) - (s1[1] - s0[1])) / hz / max(s1[2] - s0[2], 1e-9))


def time_runs(fn, repeats, warmup, label=None):
    """Run fn() `warmup` times untimed, then `repeats` kept timed runs; returns (seconds list, last result).

    This machine has 2 cores and is shared: when another process takes a core, 2-thread
    OpenMP regions stall and a run can get 10x slower. Each timed run therefore measures
    how many cores *other* processes kept busy meanwhile (/proc/stat minus our own
    CPU time); a run with more than RETRY["max_other_cores"] is discarded and redone, at
    most RETRY["max_discards"] times per label (after that, runs are kept whatever the
    contention, and the per-run numbers in the JSON show it)."""
    out = None
    for _ in range(warmup):
        out = fn()
    times, others = [], []
    discarded = 0
    cpu_s = wall_s = 0.0
    while len(times) < repeats:
        s0 = _cpu_snapshot()
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        oc = _other_cores(s0, _cpu_snapshot())
        if (oc is not None and oc > RETRY["max_other_cores"] and discarded < RETRY["max_discards"]):
            discarded += 1
            print(f"[{label}] discarding a run of {dt:.3f}s: other processes used {oc:.2f} cores", file=sys.stderr)
            continue
        times.append(dt)
        others.append(None if oc is None else round(oc, 3))
        cpu_s += dc
        wall_s += dt
    if label is not None and repeats > 0:
        CPU_UTIL[label] = round(cpu_s / max(wall_s, 1e-9), 2)
        CONTENTION[label] = {"other_cores_busy": others, "discarded": discarded,
                             "threshold": RETRY["max_other_cores"]}
    return times, out


def _cpu_sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
    # torch's FlopCounterMode has formulas for the CUDA SDPA kernels but not for
    # aten._scaled_dot_product_flash_attention_for_cpu, which is what
    # F.scaled_dot_product_attention dispatches to on CPU. Same formula.
    return sdpa_flop_count(query_shape, key_shape, value_shape)


_CUSTOM_FLOPS = {}
if hasattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu"):
    _CUSTOM_FLOPS[torch.ops.aten._scaled_dot_product_flash_attention_for_cpu] = _cpu_sdpa_flop


def count_flops(fn):
    """FLOPs (matmul/conv/attention, multiply-add = 2) of one call of fn, plus the per-op breakdown."""
    mode = FlopCounterMode(display=False, custom_mapping=dict(_CUSTOM_FLOPS))
    with mode:
        out = fn()
    counts = mode.get_flop_counts().get("Global", {})
    by_op = {str(k).replace("aten.", ""): int(v) for k, v in counts.items()}
    return int(mode.get_total_flops()), by_op, out


def n_params(module):
    return int(sum(p.numel() for p in module.parameters()))


def versions(extra):
    v = {"python": platform.python_version(), "torch": torch.__version__}
    for name in extra:
        try:
            mod = __import__(name)
            v[name] = getattr(mod, "__version__", "?")
        except Exception as e:  # noqa: BLE001  A broken install raises anything.
            v[name] = f"unavailable: {e.__class__.__name__}"
    for dist in extra:
        # The distribution's version where installed, else the module's.
        with contextlib.suppress(md.PackageNotFoundError):
            v[dist] = md.version(dist.replace("_", "-"))
    return v


def emit(result):
    sys.stdout.write(json.dumps(result, sort_keys=False) + "\n")
    sys.stdout.flush()


def finish(peer, args, cfg_mult, transformer_params, gen_times, dec_times,
           flops_step, flops_by_op, flops_dec, flops_dec_by_op, extra, fwd_times=()):
    med = statistics.median(gen_times)
    res = {
        "peer": peer,
        "label": args.label,
        "config": {
            "tokens_side": args.tokens_side, "tokens": args.tokens_side ** 2,
            "hidden": args.hidden, "depth": args.depth, "heads": args.heads,
            "codebook": args.codebook, "steps": args.steps, "batch": args.batch,
            "cfg": bool(args.cfg), "effective_batch": args.batch * cfg_mult,
            "repeats": args.repeats, "warmup": args.warmup, "decode_repeats": args.decode_repeats,
            "text_len": args.text_len, "text_dim": args.text_dim, "seed": args.seed,
        },
        "transformer_params": transformer_params,
        "seconds_per_batch_median": round(med, 4),
        "seconds_per_batch_all": [round(t, 4) for t in gen_times],
        "images_per_second": round(args.batch / med, 4),
        "seconds_per_step": round(med / args.steps, 5),
        "decode_vq_seconds": round(statistics.median(dec_times), 4) if dec_times else None,
        "decode_vq_seconds_all": [round(t, 4) for t in dec_times],
        "torch_threads": torch.get_num_threads(),
        "seconds_per_batch_min": round(min(gen_times), 4),
        "cpu_utilization": dict(CPU_UTIL),
        "contention": dict(CONTENTION),
        "loadavg_1min_at_start": LOAD_AT_START,
        "loadavg_1min_at_end": round(os.getloadavg()[0], 2),
        "timestamp_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if fwd_times:
        fmed = statistics.median(fwd_times)
        res["forward_seconds_per_step_median"] = round(fmed, 5)
        res["forward_share_of_step"] = round(fmed * args.steps / med, 3)
        if flops_step is not None:
            res["achieved_gflops_forward_only"] = round(flops_step / fmed / 1e9, 2)
    if dec_times:
        res["images_per_second_incl_decode"] = round(args.batch / (med + statistics.median(dec_times)), 4)
    if flops_step is not None:
        gen_flops = flops_step * args.steps
        res["gflop_per_step"] = round(flops_step / 1e9, 3)
        res["gflop_per_forward_per_image"] = round(flops_step / (args.batch * cfg_mult) / 1e9, 4)
        res["gflop_per_batch_generation"] = round(gen_flops / 1e9, 2)
        res["achieved_gflops_generation"] = round(gen_flops / med / 1e9, 2)
        res["flops_by_op_per_step"] = flops_by_op
    if flops_dec is not None:
        res["decode_vq_gflop"] = round(flops_dec / 1e9, 2)
        if dec_times:
            res["decode_vq_achieved_gflops"] = round(flops_dec / statistics.median(dec_times) / 1e9, 2)
        res["decode_flops_by_op"] = flops_dec_by_op
    res.update(extra)
    emit(res)
    return res
