"""Exports a muse_tf model as a SavedModel for TF Serving.

  python export/export_savedmodel.py emoji_64 models/muse/1

The same as `muse-tf export`; see `muse_tf/export.py` for the signatures.
"""

import argparse

from muse_tf.cli import add_export_arguments, export_command


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_export_arguments(parser)
    export_command(parser.parse_args(argv))


if __name__ == "__main__":
    main()
