"""Times diffusers' whole `AmusedPipeline` loaded from a diffusers folder:
CLIP text encoding, the 12 decoding steps with guidance 10 (against the
empty prompt), and the VQ decode to pixels (`output_type="np"`), at each
batch of one fixed prompt; one first call, then the median of --repeats.

Run by benchmarks/bench_amused.py in the PyTorch peers' virtualenv, torch
threads = the cores. Prints one JSON line on stdout; its `peak_rss_mb` is
this process's resident-set high-water mark.
"""

import argparse
import json
import os
import resource
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="the diffusers aMUSEd folder")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--guidance", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    from diffusers import AmusedPipeline

    start = time.perf_counter()
    pipe = AmusedPipeline.from_pretrained(args.folder)
    pipe.set_progress_bar_config(disable=True)
    load = time.perf_counter() - start

    def generate(batch, seed):
        with torch.inference_mode():
            return pipe([args.prompt] * batch,
                        num_inference_steps=args.steps,
                        guidance_scale=args.guidance, output_type="np",
                        generator=torch.Generator().manual_seed(seed)).images

    results = {}
    for batch in args.batch:
        start = time.perf_counter()
        images = generate(batch, 0)
        first = time.perf_counter() - start
        assert images.shape == (batch, 256, 256, 3), images.shape
        times = []
        for repeat in range(args.repeats):
            start = time.perf_counter()
            generate(batch, repeat + 1)
            times.append(time.perf_counter() - start)
        results[str(batch)] = {"seconds_per_batch": statistics.median(times),
                               "times": times, "first_call": first}
    import diffusers
    print(json.dumps({"impl": "diffusers_amused", "torch": torch.__version__,
                      "diffusers": diffusers.__version__,
                      "threads": torch.get_num_threads(), "load": load,
                      "steps": args.steps, "results": results,
                      "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
