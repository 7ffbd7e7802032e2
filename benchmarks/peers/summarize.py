#!/usr/bin/env python
"""Turn bench JSON lines (files given on the command line) into a markdown table."""
import json
import sys


def load(path):
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


def main(paths):
    peak = None
    rows = []
    for p in paths:
        d = load(p)
        if d is None:
            continue
        if d.get("peer") == "torch-matmul-reference":
            peak = d
            continue
        rows.append(d)
    if peak:
        runs = ", ".join(f"{r['threads']} thr: {r['gflops_median']} GFLOP/s" for r in peak["runs"])
        print(f"torch fp32 matmul {peak['config']['n']}x{peak['config']['n']}: {runs}\n")
    print("| config | peer | transformer params | GFLOP/fwd/img | s/batch (median) | img/s | gen GFLOP/s "
          "| fwd-only s/step | fwd share of loop | VQ decode s (batch) | VQ GFLOP (batch) | VQ GFLOP/s | discarded runs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for d in rows:
        c = d["config"]
        extra = d.get("label") or ""
        name = (f"{extra}: " if extra else "") + f"h{c['hidden']} d{c['depth']} H{c['heads']} K{c['codebook']} T{c['tokens']} s{c['steps']} b{c['batch']}{' cfg' if c['cfg'] else ''}"
        print(f"| {name} | {d['peer']} | {d['transformer_params']/1e6:.2f}M | {d.get('gflop_per_forward_per_image', '-')} "
              f"| {d['seconds_per_batch_median']} | {d['images_per_second']} | {d.get('achieved_gflops_generation', '-')} "
              f"| {d.get('forward_seconds_per_step_median', '-')} | {d.get('forward_share_of_step', '-')} "
              f"| {d.get('decode_vq_seconds') or '-'} | {d.get('decode_vq_gflop', '-')} | {d.get('decode_vq_achieved_gflops', '-')} "
              f"| {sum(v.get('discarded', 0) for v in d.get('contention', {}).values())} |")


if __name__ == "__main__":
    main(sys.argv[1:])
