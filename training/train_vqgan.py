"""Trains a VQGAN tokenizer on a TFDS image dataset.

Example (the bundled emoji model):
  python training/train_vqgan.py --preset emoji_64 --workdir runs/vqgan \
      --num-steps 3000 --batch-size 16
"""

import argparse

from muse_tf.configs import get_preset
from muse_tf.data.pipeline import tfds_image_batches
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
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--disc-start", type=int, default=1500)
    parser.add_argument("--disc-channels", type=int, default=32)
    parser.add_argument("--checkpoint-every", type=int, default=250)
    args = parser.parse_args(argv)

    trainer = VQGANTrainer(get_preset(args.preset).vqgan, VQGANTrainConfig(
        learning_rate=args.learning_rate, disc_start=args.disc_start,
        disc_channels=args.disc_channels))
    data = tfds_image_batches(args.dataset, "train", args.batch_size,
                              data_dir=args.data_dir, flip=True)
    run_training(trainer, data, args.workdir, args.num_steps,
                 checkpoint_every=args.checkpoint_every)


if __name__ == "__main__":
    main()
