"""Exports a muse_tf model as a SavedModel for TF Serving.

  python export/export_savedmodel.py emoji_64 models/muse/1

The same as `muse-tf export`; see `muse_tf/export.py` for the signatures.
"""

import argparse

from muse_tf.cli import add_export_arguments
from muse_tf.export import export


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_export_arguments(parser)
    args = parser.parse_args(argv)
    path = export(args.model, args.out_dir, args.max_batch, args.max_steps)
    print(f"wrote SavedModel {path}")


if __name__ == "__main__":
    main()
