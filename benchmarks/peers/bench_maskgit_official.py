"""Times the official MaskGIT inference: google-research/maskgit's
`ImageNet_class_conditional_generator.generate_samples` (the transformer's
16 decoding steps, then the VQGAN decoder), jitted as its demo jits it
(`p_generate_samples` is a pmap; on one CPU device a jit), on this CPU.

Run by benchmarks/bench_maskgit.py in the MaskGIT virtualenv (see
tests/golden/make_maskgit_golden.py), with the official code on PYTHONPATH
and, as the generator expects, the checkpoints under ./checkpoints/ of the
working directory. Prints one JSON line.
"""

import argparse
import functools
import json
import statistics
import time

import jax
from maskgit.inference import ImageNet_class_conditional_generator


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label", type=int, default=207)
    args = parser.parse_args()

    generator = ImageNet_class_conditional_generator(args.image_size)
    generate = jax.jit(functools.partial(
        generator.generate_samples, start_iter=0,
        num_iterations=args.steps))
    results = {}
    for batch in args.batch:
        generator.maskgit_cf.eval_batch_size = batch
        tokens = generator.create_input_tokens_normal(args.label)
        start = time.perf_counter()
        generate(tokens, jax.random.PRNGKey(0)).block_until_ready()
        first = time.perf_counter() - start
        times = []
        for repeat in range(args.repeats):
            start = time.perf_counter()
            generate(tokens, jax.random.PRNGKey(repeat + 1)
                     ).block_until_ready()
            times.append(time.perf_counter() - start)
        results[str(batch)] = {"seconds_per_batch": statistics.median(times),
                               "times": times, "first_call": first}
    print(json.dumps({"impl": "official_jax", "jax": jax.__version__,
                      "steps": args.steps, "results": results}))


if __name__ == "__main__":
    main()
