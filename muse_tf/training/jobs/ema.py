"""Muse's offline EMA: averages the checkpoints a training run kept.

Oldest first (ema = decay * ema + (1 - decay) * next), into a new
checkpoint of the same objects (muse_tf/training/ema.py). Restore it like
any checkpoint of the run, e.g. `muse-tf train transformer --export-only
--export-from OUTPUT`.

  muse-tf train ema --last 4 runs/fashion_ft2/checkpoints runs/fashion_ema
"""

import os

from muse_tf.training import ema


def add_arguments(parser):
    parser.add_argument("checkpoints",
                        help="a run's checkpoint directory (WORKDIR/checkpoints)")
    parser.add_argument("output", help="directory for the averaged checkpoint")
    parser.add_argument("--decay", type=float, default=0.7,
                        help="weight of the running average (default 0.7, as "
                        "in Muse)")
    parser.add_argument("--last", type=int, default=0,
                        help="average only the newest N checkpoints (default: "
                        "all that the run kept)")


def run(args):
    paths = ema.checkpoints_in(args.checkpoints)
    if args.last:
        paths = paths[-args.last:]
    prefix = ema.average_checkpoints(paths, args.output, args.decay)
    print(f"wrote {prefix}: EMA (decay {args.decay}) of "
          f"{', '.join(os.path.basename(p) for p in paths)}")
