"""Trains a VQGAN tokenizer on a TFDS image dataset.

Example (the bundled emoji model):
  python training/train_vqgan.py --preset emoji_64 --workdir runs/vqgan \
      --num-steps 2000 --batch-size 16 --learning-rate 1e-3 --disc-start 1200
"""

import argparse
import os

import tensorflow as tf

from muse_tf.configs import get_preset
from muse_tf.data.pipeline import tfds_image_batches
from muse_tf.training.checkpointing import restore_model
from muse_tf.training.loop import run_training
from muse_tf.training.vqgan_trainer import VQGANTrainConfig, VQGANTrainer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="emoji_64")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--dataset", default="emoji_captions")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--num-steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-4,
                        help="peak learning rate (warm-up, cosine decay)")
    parser.add_argument("--disc-start", type=int, default=1500)
    parser.add_argument("--disc-channels", type=int, default=32)
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--init-from", default=None,
                        help="work dir whose latest VQGAN and discriminator "
                        "weights start a new run (optimizer state is not "
                        "taken)")
    args = parser.parse_args(argv)

    trainer = VQGANTrainer(get_preset(args.preset).vqgan, VQGANTrainConfig(
        learning_rate=args.learning_rate, decay_steps=args.num_steps,
        disc_start=args.disc_start,
        disc_channels=args.disc_channels))
    # Restore order: resume from --workdir if it has a checkpoint (inside
    # run_training), else start from --init-from's weights, else scratch.
    checkpoints = os.path.join(args.workdir, "checkpoints")
    if args.init_from and not tf.train.latest_checkpoint(checkpoints):
        source = os.path.join(args.init_from, "checkpoints")
        restore_model(trainer.vqgan, source, "vqgan")
        restore_model(trainer.discriminator, source, "discriminator")
    data = tfds_image_batches(args.dataset, "train", args.batch_size,
                              data_dir=args.data_dir, flip=True)
    run_training(trainer, data, args.workdir, args.num_steps,
                 checkpoint_every=args.checkpoint_every)


if __name__ == "__main__":
    main()
