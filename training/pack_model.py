"""Packs a model directory for bundling: every weight stored as float16.

The bundled model ships inside the package (the git repository and the
wheel), so its size matters; float16 halves it (`muse_tf.model_dir.pack`).
A model directory written before manifests existed gets one.

Example (the bundled cascade; a fidelity judge packs the same way):
  python training/pack_model.py runs/emoji_128 muse_tf/presets/emoji_128
"""

import argparse
import sys

from muse_tf import model_dir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", help="a model directory to pack")
    parser.add_argument("output", help="the packed model directory")
    args = parser.parse_args(argv)
    try:
        written = model_dir.pack(args.model_dir, args.output)
    except ValueError as e:
        print(f"pack_model.py: error: {e}", file=sys.stderr)
        return 2
    for name, size in written.items():
        print(f"{name}: {size / 1e6:.1f} MB")
    print(f"{args.output}: {sum(written.values()) / 1e6:.1f} MB in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
