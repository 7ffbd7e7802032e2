"""One run: matmul peaks, both PyTorch peers and ours; prints the ratios.

Only ratios measured in one run on one machine mean anything (the CPU
differs between machines), so this script measures everything it compares,
one benchmark after another, each in a fresh process:

  1. torch's fp32 matmul peak (peers/bench_matmul.py), and
     TensorFlow's fp32 and bf16 peaks with one decoding step's forward
     (bench_forward.py), per config;
  2. at SMALL and MEDIUM (16x16 tokens, 12 steps, batch 4, CFG, text
     77x768): diffusers aMUSEd; muse-maskgit-pytorch at its default and at
     its faster `--flash off`; ours in `--precision fp32` (XLA loop) and
     `--precision bf16` (Keras mixed_bfloat16, a graph loop on oneDNN:
     XLA's CPU backend multiplies bf16 at its fp32 rate; docs/design.md
     §11);
  3. VQ decode GFLOP/s: the peers' decoders with their SMALL runs, ours at
     MaskGIT's VQGAN config (bench_decode.py).

The peers run in their own virtualenv (--peer-venv), which the first run
creates with peers/setup_venv.sh (CPU torch and both peers, pinned; see
peers/README.md). Every JSON line goes under --output-dir; the markdown
table goes to stdout.

  python benchmarks/against_peers.py
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")
CONFIGS = {
    "SMALL": ["--hidden", "256", "--depth", "4", "--heads", "4",
              "--codebook", "1024"],
    "MEDIUM": ["--hidden", "512", "--depth", "8", "--heads", "8",
               "--codebook", "8192"],
}
SHARED = ["--tokens-side", "16", "--batch", "4"]
LOOP = ["--steps", "12", "--cfg", "on"]


def run(name, command, output_dir, cwd=HERE):
    """Runs one benchmark; returns (and saves) its last JSON line."""
    print(f"== {name}", file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=cwd, check=True, text=True,
                            capture_output=True)
    line = result.stdout.strip().splitlines()[-1]
    with open(os.path.join(output_dir, f"{name}.json"), "w") as f:
        f.write(line + "\n")
    return json.loads(line)


def peer_python(venv):
    """The python of the peers' virtualenv `venv`, created first with
    peers/setup_venv.sh if it has none (pip installs torch: minutes)."""
    # Absolute: the peers' benchmarks run with peers/ as working directory.
    venv = os.path.abspath(venv)
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        print(f"== setting up the peers' virtualenv in {venv}",
              file=sys.stderr, flush=True)
        # Its output goes to stderr: stdout is for the report.
        subprocess.run(["bash", os.path.join(PEERS, "setup_venv.sh"), venv],
                       check=True, stdout=sys.stderr)
    return python


def measure(args):
    ours, peers = [sys.executable], [peer_python(args.peer_venv)]
    repeats = ["--repeats", str(args.repeats)]
    results = {"torch_matmul": run(
        "torch_matmul", peers + ["bench_matmul.py", "--threads", "2"],
        args.output_dir, cwd=PEERS)}
    for config, flags in CONFIGS.items():
        model = SHARED + flags
        decode = ["--decode-repeats", "2" if config == "SMALL" else "0"]
        runs = {
            "amused": (peers + ["bench_amused.py"] + decode, PEERS),
            "lucidrains": (peers + ["bench_muse_maskgit_pytorch.py"] + decode,
                           PEERS),
            "lucidrains_flash_off": (
                peers + ["bench_muse_maskgit_pytorch.py", "--flash", "off",
                         "--decode-repeats", "0"], PEERS),
            "ours_fp32": (ours + ["bench_generate.py", "--precision",
                                  "fp32"], HERE),
            "ours_bf16": (ours + ["bench_generate.py", "--precision",
                                  "bf16"], HERE),
        }
        for name, (command, cwd) in runs.items():
            results[f"{config.lower()}_{name}"] = run(
                f"{config.lower()}_{name}",
                command + model + LOOP + repeats + ["--label", config],
                args.output_dir, cwd=cwd)
        results[f"{config.lower()}_forward"] = run(
            f"{config.lower()}_forward", ours + ["bench_forward.py"] + model,
            args.output_dir)
    results["ours_decode"] = run("ours_decode", ours + ["bench_decode.py"],
                                 args.output_dir)
    return results


HEADER = ("| config | aMUSEd | muse-maskgit-pytorch (flash off) | ours fp32 "
          "(XLA) | ours bf16 (graph) | ours fp32 / fastest peer | ours bf16 "
          "/ fastest peer | GFLOP/step aMUSEd / lucidrains / ours | our fp32 "
          "loop GFLOP/s / TF fp32 peak | our bf16 loop GFLOP/s / TF bf16 "
          "peak |")


def saved_results(output_dir):
    """The results `measure` saved in output_dir, by benchmark name."""
    results = {}
    for name in os.listdir(output_dir):
        if name.endswith(".json"):
            with open(os.path.join(output_dir, name)) as f:
                results[name[:-len(".json")]] = json.load(f)
    return results


def table(r):
    """The markdown report of `measure`'s results."""
    peaks = {dtype: max(r["small_forward"][f"matmul_gflops_{dtype}_{mode}"]
                        for mode in ("xla", "graph"))
             for dtype in ("fp32", "bf16")}
    lines = [(f"torch fp32 matmul peak "
              f"{r['torch_matmul']['runs'][0]['gflops_median']} GFLOP/s; "
              f"TensorFlow (best of XLA and graph) fp32 {peaks['fp32']}, "
              f"bf16 {peaks['bf16']} GFLOP/s (2048x2048, 2 threads)."), "",
             HEADER, "|---" * 10 + "|"]
    for config in CONFIGS:
        key = config.lower()
        seconds = {name: r[f"{key}_{name}"]["seconds_per_batch_median"]
                   for name in ("amused", "lucidrains",
                                "lucidrains_flash_off", "ours_fp32",
                                "ours_bf16")}
        fastest_peer = min(seconds["amused"], seconds["lucidrains"],
                           seconds["lucidrains_flash_off"])
        flops = " / ".join(
            f"{r[f'{key}_{name}']['gflop_per_step']:.1f}"
            for name in ("amused", "lucidrains", "ours_fp32"))
        efficiency = {
            dtype: r[f"{key}_ours_{dtype}"]["achieved_gflops_generation"]
            / peaks[dtype] for dtype in ("fp32", "bf16")}
        lines.append(
            f"| {config} | {seconds['amused']:.2f} s | "
            f"{seconds['lucidrains']:.2f} s "
            f"({seconds['lucidrains_flash_off']:.2f} s) | "
            f"{seconds['ours_fp32']:.2f} s | {seconds['ours_bf16']:.2f} s | "
            f"**{seconds['ours_fp32'] / fastest_peer:.2f}** | "
            f"**{seconds['ours_bf16'] / fastest_peer:.2f}** | {flops} | "
            f"{efficiency['fp32']:.2f} | **{efficiency['bf16']:.2f}** |")
    decode = {name: r[f"small_{name}"]["decode_vq_achieved_gflops"]
              for name in ("amused", "lucidrains")}
    ours = r["ours_decode"]["decode_vq_achieved_gflops"]
    lines += ["", ("| VQ decode, batch 4 | aMUSEd | muse-maskgit-pytorch | "
                   "ours (MaskGIT VQGAN) | ours / better peer |"),
              "|---" * 5 + "|",
              (f"| GFLOP/s | {decode['amused']} | {decode['lucidrains']} | "
               f"{ours} | **{ours / max(decode.values()):.2f}** |")]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-venv", default=os.path.expanduser(
        "~/.cache/muse_peers_venv"),
        help="the peers' virtualenv; created with peers/setup_venv.sh when "
        "it has no bin/python")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output-dir", default="benchmark_results")
    parser.add_argument("--report-only", action="store_true",
                        help="print the table of the JSON lines already in "
                        "--output-dir instead of measuring")
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)
    args.output_dir = os.path.abspath(args.output_dir)
    if args.report_only:
        print(table(saved_results(args.output_dir)))
    else:
        print(table(measure(args)))


if __name__ == "__main__":
    main()
