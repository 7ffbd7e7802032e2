"""Trains a VQGAN tokenizer on images from a TFDS dataset, folder or shards.

  muse-tf train vqgan --preset emoji_next --workdir runs/vqgan_64 \
      --num-steps 12000 --learning-rate 5e-4 --disc-start 4000
  muse-tf train vqgan --preset emoji_128 --stage large_decoder \
      --data tfds:emoji_captions/full_128 --init-from runs/vqgan_128 \
      --workdir runs/large_decoder --model-dir runs/emoji_128
On a TPU:  ... --strategy tpu --tpu NAME --batch-size 256
The recipes in training/ hold the runs that made the bundled models.
"""

import os

import tensorflow as tf

from muse_tf import model_dir
from muse_tf.data import stream
from muse_tf.data.pipeline import image_grid, to_model_range, to_uint8
from muse_tf.data.sources import SkipCounter, load_source
from muse_tf.models.decoder_growth import grow_decoder
from muse_tf.models.vqgan import VQGAN
from muse_tf.precision import building_in
from muse_tf.presets import get_config
from muse_tf.training.checkpointing import (
    find_checkpoint,
    is_checkpoint,
    restore_model,
)
from muse_tf.training.jobs import flags
from muse_tf.training.loop import checkpoint_dir
from muse_tf.training.vqgan_trainer import VQGANTrainConfig, VQGANTrainer

# The VQGANs of a preset, by --stage: its base stage's, a cascade's
# high-res one, and Muse's larger decoder for the last of them; each one's
# component name in a model directory (muse_tf.model_dir).
STAGES = {"base": "vqgan", "high_res": "high_res_vqgan",
          "large_decoder": model_dir.LARGE_DECODER}
_SAMPLE_IMAGES = 8
# Relative noise on the grown decoder's copied kernels: enough to break the
# copies' symmetry, small next to the weights (see decoder_growth).
_GROWTH_NOISE = 0.01


def load_vqgan(config, path, stage="base"):
    """(frozen VQGAN, where its weights came from): a model directory's
    weights file of `stage` (STAGES), one checkpoint of a `vqgan` job
    (WORKDIR/checkpoints/ckpt-N: a tokenizer frozen at a measured step
    while its run goes on), else the latest checkpoint of a `vqgan` job's
    work directory."""
    vqgan = VQGAN(config, name="vqgan")
    weights = os.path.join(path, model_dir.weights_file(STAGES[stage]))
    if os.path.exists(weights):
        vqgan.load_weights(weights)
        return vqgan, weights
    return vqgan, restore_model(vqgan, _run_checkpoints(path), "vqgan")


def _run_checkpoints(path):
    """Where a `vqgan` job's weights are: one of its checkpoints
    (WORKDIR/checkpoints/ckpt-N), or its work directory's checkpoints."""
    return path if is_checkpoint(path) else checkpoint_dir(path)


def stage_config(preset, preset_name, stage):
    """The VQGANConfig of a preset's `stage` (STAGES); ValueError if the
    preset has no such VQGAN."""
    if stage == "base":
        return preset.vqgan
    if stage == "large_decoder":
        if preset.last_vqgan.large_decoder is None:
            raise ValueError(f"--stage large_decoder: preset {preset_name!r} "
                             "has no large decoder")
        return preset.last_vqgan.large_decoder
    if getattr(preset, "super_res", None) is None:
        raise ValueError(f"--stage {stage}: preset {preset_name!r} has no "
                         "super-res stage")
    return preset.super_res.vqgan


def add_arguments(parser):
    flags.add_run_arguments(parser, num_steps=3000, batch_size=16,
                            checkpoint_every=250)
    parser.add_argument("--learning-rate", type=float, default=2e-4,
                        help="peak learning rate (warm-up, cosine decay)")
    parser.add_argument("--disc-start", type=int, default=1500,
                        help="step at which the adversarial loss starts "
                        "(default 1500)")
    parser.add_argument("--perceptual-weight", type=float, default=0.0,
                        help="weight of the perceptual loss on the FID "
                        "Inception's features (default 0: none)")
    parser.add_argument("--disc-channels", type=int, default=32,
                        help="width of the PatchGAN discriminator "
                        "(default 32)")
    parser.add_argument("--stage", choices=STAGES, default="base",
                        help="which VQGAN of the preset: the base one, the "
                        "high-res one of a cascade, or Muse's larger "
                        "decoder for the last of them, trained with its "
                        "encoder and codebook (from --init-from) frozen "
                        "(default base)")
    parser.add_argument("--model-dir", default=None,
                        help="--stage large_decoder: after training, add "
                        "the VQGAN with the larger decoder to this model "
                        "directory")
    parser.add_argument("--init-from", default=None,
                        help="weights that start a new run: a work dir "
                        "(its latest VQGAN and discriminator) or one of its "
                        "checkpoints (WORKDIR/checkpoints/ckpt-N), or a model "
                        "directory (its vqgan.weights.h5; e.g. the base "
                        "VQGAN to start the high-res one, which has the "
                        "same layers); optimizer state is not taken")


def run(args):
    # === Strategy ===
    strategy, precision = flags.make_run_strategy(args)
    preset = get_config(args.preset)
    config = stage_config(preset, args.preset, args.stage)
    if args.stage == "large_decoder" and not args.init_from:
        raise ValueError("--stage large_decoder needs --init-from (the "
                         "VQGAN whose decoder it grows)")

    # === Data: each image once (not once per caption), decoded once,
    # cached, reshuffled each epoch ===
    skipped = SkipCounter()
    images = load_source(args.data, config.image_size, skipped,
                         args.data_dir, args.image_key, args.caption_key,
                         per_caption=False).map(lambda ex: ex["image"]
                                                ).cache()
    num_images = stream.count_examples(images)
    print(f"{num_images} images ({skipped.skipped} unreadable, skipped)")

    def make_batches(start_step):
        return stream.training_stream(
            images, num_images, args.batch_size, start_step, args.seed,
            transform=lambda batch, first: to_model_range(
                stream.flip_images(batch, first, args.seed)))

    # === Model and optimizer, in the strategy's scope ===
    with building_in(precision):
        trainer = VQGANTrainer(config, VQGANTrainConfig(
            learning_rate=args.learning_rate, decay_steps=args.num_steps,
            disc_start=args.disc_start, disc_channels=args.disc_channels,
            perceptual_weight=args.perceptual_weight,
            decoder_only=args.stage == "large_decoder",
            jit_compile=precision.xla), strategy=strategy)
    # Restore order: resume from --workdir if it has a checkpoint (inside
    # the loop), else start from --init-from's weights, else scratch.
    if flags.starts_from_init(args):
        weights = os.path.join(args.init_from, "vqgan.weights.h5")
        init_checkpoints = _run_checkpoints(args.init_from)
        if args.stage == "large_decoder":
            # The encoder and codebook carry over (and stay frozen); the
            # larger decoder starts as a grown copy of the trained one, and
            # the discriminator as the trained one's, where a run has it.
            source, _ = load_vqgan(
                preset.last_vqgan, args.init_from,
                "base" if preset.super_res is None else "high_res")
            for part in ("encoder", "quantizer"):
                getattr(trainer.vqgan, part).set_weights(
                    getattr(source, part).get_weights())
            grow_decoder(source.decoder, trainer.vqgan.decoder,
                         noise=_GROWTH_NOISE, seed=args.seed)
            if find_checkpoint(init_checkpoints):
                restore_model(trainer.discriminator, init_checkpoints,
                              "discriminator")
        elif os.path.exists(weights):
            trainer.vqgan.load_weights(weights)
        else:
            restore_model(trainer.vqgan, init_checkpoints, "vqgan")
            restore_model(trainer.discriminator, init_checkpoints,
                          "discriminator")

    # === Loop, with reconstructions of fixed images in TensorBoard ===
    originals = to_model_range(next(iter(images.batch(_SAMPLE_IMAGES))))
    reconstruct = tf.function(lambda x: trainer.vqgan(x)[0])

    def log_reconstructions(step):
        pairs = tf.concat([originals, reconstruct(originals)], axis=0)
        tf.summary.image("originals_over_reconstructions",
                         image_grid(to_uint8(pairs), _SAMPLE_IMAGES)[None],
                         step=step)

    flags.train(args, trainer, make_batches, precision,
                hooks=[(args.sample_every, log_reconstructions)])
    if args.model_dir and args.stage == "large_decoder":
        model_dir.add_component(args.model_dir, model_dir.LARGE_DECODER,
                                trainer.vqgan)
        print(f"added the larger decoder to {args.model_dir}")

