"""Packs a model directory for bundling: every weight stored as float16.

The bundled model ships inside the package (the git repository and the
wheel), so its size matters; float16 halves it (`muse_tf.model_dir.pack`).
A model directory written before manifests existed gets one.

  muse-tf train pack runs/emoji_128 muse_tf/presets/emoji_128
"""

from muse_tf import model_dir


def add_arguments(parser):
    parser.add_argument("model_dir", help="a model directory to pack")
    parser.add_argument("output", help="the packed model directory")


def run(args):
    written = model_dir.pack(args.model_dir, args.output)
    for name, size in written.items():
        print(f"{name}: {size / 1e6:.1f} MB")
    print(f"{args.output}: {sum(written.values()) / 1e6:.1f} MB in all")
