"""VQGAN decode speed: token ids -> pixels, GFLOP/s, one JSON line.

The peers' VQ decoders differ in size (peers/README.md: aMUSEd 477, the
lucidrains VQGanVAE 165 GFLOP per 256x256 image), so decoders compare on
GFLOP/s, not seconds. Ours runs at MaskGIT's VQGAN config by default (the
package's `VQGANConfig()`: 256x256 pixels from 16x16 tokens, base width
128, multipliers 1,1,2,2,4, two residual blocks per level; random weights)
or at a bundled model's decoder (`--model`). What is timed is one
XLA-compiled `VQGAN.decode` of `--batch` token grids (codebook lookup and
decoder, as the pipeline calls it), median of `--repeats` after a compiling
call. FLOPs are TensorFlow's profiler count of the Conv2D and MatMul ops in
the decode graph (multiply-add = 2), as the peers' FlopCounterMode counts
convolutions and matmuls.

  python benchmarks/bench_decode.py
  python benchmarks/bench_decode.py --model emoji_128
"""

import argparse
import json

import tensorflow as tf
from bench_forward import time_call

import muse_tf
from muse_tf.configs import VQGANConfig
from muse_tf.models.vqgan import VQGAN


def decode_gflop(decode, ids):
    """Profiler count of the Conv2D and MatMul FLOPs of `decode(ids)`."""
    graph = tf.function(decode).get_concrete_function(ids).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["account_type_regexes"] = ["Conv2D.*", "MatMul", "BatchMatMul.*"]
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(
        graph, options=options).total_float_ops / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None,
                        help="bundled model name or model dir (its final "
                        "decoder); default: MaskGIT's VQGAN config")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    if args.model:
        vqgan = muse_tf.load_pipeline(args.model).stages[-1].vqgan
        name = args.model
    else:
        vqgan = VQGAN(VQGANConfig())
        name = "maskgit_vqgan_256"
    side = vqgan.config.image_size // vqgan.config.downsampling_factor
    ids = tf.random.stateless_uniform([args.batch, side, side], [0, 1], 0,
                                      vqgan.config.codebook_size, tf.int32)
    gflop = decode_gflop(vqgan.decode, ids)
    compiled = tf.function(vqgan.decode, jit_compile=True)
    seconds = time_call(lambda: compiled(ids).numpy(), args.repeats)
    print(json.dumps({
        "peer": "muse_tf", "label": args.label, "decoder": name,
        "tokens": f"{args.batch}x{side}x{side}",
        "vqgan_params": vqgan.count_params(),
        "decode_vq_seconds": round(seconds, 4),
        "decode_vq_gflop": round(gflop, 2),
        "decode_vq_achieved_gflops": round(gflop / seconds, 1),
        "versions": {"tensorflow": tf.__version__}}))


if __name__ == "__main__":
    main()
