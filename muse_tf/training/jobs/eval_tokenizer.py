"""Measures what a VQGAN tokenizer keeps of real images, without a transformer.

The judge's accuracy on real training and held-out images and on their
round trips (encoded and decoded by the tokenizer), and the share of the
first that the second keeps: a transformer that reproduced real images'
tokens exactly would score the round trip's accuracy, so a tokenizer
should keep at least 90% on both sets. Beside them: the FID of held-out
round trips against other held-out images, with the FID of the two real
halves (the floor), and the codebook's usage
(`muse_tf.evaluate.tokenizer_report`). The JSON report goes to --output.

The tokenizer is a stage's VQGAN (as the `vqgan` job's --preset and
--stage) from a `vqgan` job's work directory (its latest checkpoint),
one of its checkpoints (WORKDIR/checkpoints/ckpt-N) or a model directory
(its weights file of that stage). Real images larger
than the tokenizer's are area-averaged down to its size, as the `vqgan`
job shrinks its data; the judge sees every image at the size it learned
(bilinear when enlarging, e.g. a 32-pixel tokenizer's for the 64-pixel
emoji judge: `muse_tf.evaluate.resize_to`).

  muse-tf train eval-tokenizer --preset emoji_next --stage base \
      --workdir runs/emoji_next/vqgan_64 --output vqgan_64.json
  muse-tf train eval-tokenizer --preset fashion_32 \
      --workdir muse_tf/presets/fashion_32
"""

import json

from muse_tf import quality
from muse_tf.presets import JUDGES, get_config
from muse_tf.training.jobs.vqgan import STAGES, load_vqgan, stage_config


def default_judge_and_real(preset, image_size):
    """The bundled judge and held-out data (JUDGES) of what a preset's
    tokenizer learns: Fashion-MNIST for a class-conditional preset, else
    the emoji at the smallest size it has that is not below the
    tokenizer's (64 or 128 pixels)."""
    if preset.classes is not None:
        return JUDGES["fashion_32"]
    return JUDGES["emoji_64" if image_size <= 64 else "emoji_128"]


def add_arguments(parser):
    parser.add_argument("--preset", required=True,
                        help="the config preset the tokenizer was trained "
                        "with (the `vqgan` job's --preset)")
    parser.add_argument("--stage", choices=STAGES, default="base",
                        help="which VQGAN of the preset (the `vqgan` job's "
                        "--stage; default base)")
    parser.add_argument("--workdir", required=True,
                        help="a `vqgan` job's work directory (its latest "
                        "checkpoint), one of its checkpoints "
                        "(WORKDIR/checkpoints/ckpt-N) or a model directory")
    parser.add_argument("--judge", default=None,
                        help="classifier directory (default: the bundled "
                        "judge of the preset's data)")
    parser.add_argument("--real", default=None,
                        help="held-out real images, as muse-tf eval --real "
                        "(default: the bundled judge's)")
    parser.add_argument("--real-train", default=None,
                        help="real training images, as --real (default: "
                        "the training split of --real's dataset)")
    parser.add_argument("--train-images", type=int, default=None,
                        help="judge this many evenly spaced images of "
                        "--real-train, or all it has if fewer (default: as "
                        "many as the held-out images)")
    parser.add_argument("--data-dir", default=None,
                        help="TFDS data directory of the emoji data")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the held-out halves of the FID")
    parser.add_argument("--output", default="tokenizer_report.json",
                        help="JSON report path (default: "
                        "tokenizer_report.json)")


def run(args):
    preset = get_config(args.preset)
    config = stage_config(preset, args.preset, args.stage)
    judge, real = default_judge_and_real(preset, config.image_size)
    vqgan, source = load_vqgan(config, args.workdir, args.stage)
    report = quality.evaluate_tokenizer(
        vqgan, args.judge or judge, args.real or real, args.real_train,
        args.train_images, args.seed, args.batch_size, args.data_dir)
    report = {"preset": args.preset, "stage": args.stage,
              "vqgan": quality.recorded_path(source), **report}
    with open(args.output, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report))
    print(quality.round_trip_summary(report))
    print(f"wrote {args.output}")

