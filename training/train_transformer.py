"""Trains the base masked transformer on captioned images.

An offline pass first turns the data into VQ token shards (the frozen
VQGAN and text encoder run once per example; muse_tf/data/pretokenize.py)
in WORKDIR/tokens, rebuilt only when the data or encoders change; the
transformer then trains on the shards alone.

Example (the bundled emoji model):
  python training/train_transformer.py --preset emoji_64 \
      --vqgan runs/vqgan --workdir runs/transformer --num-steps 2000 \
      --model-dir muse_tf/presets/emoji_64
On a TPU:  ... --strategy tpu --tpu NAME --batch-size 512
"""

import argparse
import os

import tensorflow as tf
import train_lib

from muse_tf.configs import get_preset
from muse_tf.data import pretokenize, stream
from muse_tf.data.pipeline import image_grid
from muse_tf.data.sources import SkipCounter, load_source, source_signature
from muse_tf.models.vqgan import VQGAN
from muse_tf.pipeline import TextToImage
from muse_tf.text.encoder import build_text_encoder
from muse_tf.training.checkpointing import restore_model
from muse_tf.training.transformer_trainer import (
    TransformerTrainConfig,
    TransformerTrainer,
)

_SAMPLE_PROMPTS = 8


def load_vqgan(config, path):
    """The frozen VQGAN: a model directory's `vqgan.weights.h5`, else the
    latest checkpoint of a train_vqgan.py work directory."""
    vqgan = VQGAN(config, name="vqgan")
    weights = os.path.join(path, "vqgan.weights.h5")
    if os.path.exists(weights):
        vqgan.load_weights(weights)
    else:
        restore_model(vqgan, os.path.join(path, "checkpoints"), "vqgan")
    return vqgan


def prepare_tokens(args, model_config, text_encoder):
    """Makes WORKDIR/tokens unless it is up to date; returns its path (or
    --tokens, used as it is)."""
    if args.tokens:
        return args.tokens
    directory = os.path.join(args.workdir, "tokens")
    if args.vqgan is None:
        raise ValueError("--vqgan is needed to make the token shards")
    vqgan = load_vqgan(model_config.vqgan, args.vqgan)
    key = pretokenize.fingerprint(
        source_signature(args.data, args.data_dir), args.image_key,
        args.caption_key, model_config.vqgan.to_dict(),
        model_config.text.to_dict(),
        *[w.numpy() for w in vqgan.weights + text_encoder.weights])
    metadata = pretokenize.read_metadata(directory)
    if metadata is None or metadata["key"] != key:
        if metadata is not None:
            print(f"{directory} was made from other inputs; remaking it")
        skipped = SkipCounter()
        examples = load_source(args.data, model_config.vqgan.image_size,
                               skipped, args.data_dir, args.image_key,
                               args.caption_key)
        metadata = pretokenize.write_token_shards(
            examples, vqgan, text_encoder, directory, key)
        print(f"wrote {metadata['num_examples']} examples to {directory} "
              f"({skipped.skipped} unreadable images skipped)")
    return directory


def _sample_captions(records, metadata):
    """_SAMPLE_PROMPTS captions spread over the shards (neighbouring
    records often share an image)."""
    spread = records.shard(
        max(1, metadata["num_examples"] // _SAMPLE_PROMPTS), 0)
    caption = {"caption": tf.io.FixedLenFeature([], tf.string)}
    return [c.decode() for c in spread.take(_SAMPLE_PROMPTS).map(
        lambda r: tf.io.parse_single_example(r, caption)["caption"]
    ).as_numpy_iterator()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    train_lib.add_run_arguments(parser, num_steps=2000, batch_size=64,
                                checkpoint_every=100)
    parser.add_argument("--vqgan", default=None,
                        help="the frozen VQGAN: a train_vqgan.py work "
                        "directory or a model directory")
    parser.add_argument("--tokens", default=None,
                        help="token shards made elsewhere (used as they "
                        "are; default: WORKDIR/tokens, made from --data)")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="peak learning rate (warm-up, cosine decay)")
    parser.add_argument("--warmup-steps", type=int, default=200,
                        help="linear warm-up steps (default 200)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="only make the token shards")
    parser.add_argument("--export-only", action="store_true",
                        help="write --model-dir from a checkpoint without "
                        "training (e.g. a snapshot of a run that is still "
                        "going)")
    parser.add_argument("--export-from", default=None,
                        help="checkpoint (prefix or directory) that "
                        "--export-only writes, e.g. a `muse-tf ema` output "
                        "(default: the latest in WORKDIR/checkpoints)")
    parser.add_argument("--init-from", default=None,
                        help="model directory whose transformer weights start "
                        "a new run (e.g. muse_tf/presets/emoji_64 to train "
                        "the bundled model further; optimizer state is not "
                        "taken)")
    parser.add_argument("--model-dir", default=None,
                        help="after training, write a model directory "
                        "(config, transformer and VQGAN weights) that "
                        "TextToImage.from_pretrained and muse-tf load")
    args = parser.parse_args(argv)

    # === Strategy ===
    strategy = train_lib.make_run_strategy(args)
    model_config = get_preset(args.preset)

    # === Data: token shards, made once ===
    text_encoder = build_text_encoder(model_config.text)
    tokens_dir = prepare_tokens(args, model_config, text_encoder)
    if args.prepare_only:
        return
    records, metadata, (null_states, null_mask) = (
        pretokenize.read_token_shards(tokens_dir))

    def make_batches(start_step):
        return stream.training_stream(
            records, metadata["num_examples"], args.batch_size, start_step,
            args.seed, transform=lambda batch, _: pretokenize.
            parse_token_batch(batch, metadata))

    # === Model and optimizer, in the strategy's scope ===
    trainer = TransformerTrainer(
        model_config.transformer, null_states, null_mask,
        TransformerTrainConfig(
            learning_rate=args.learning_rate, warmup_steps=args.warmup_steps,
            decay_steps=args.num_steps), strategy=strategy)
    # Restore order: resume from --workdir if it has a checkpoint (inside
    # the loop), else start from --init-from's weights, else scratch.
    checkpoints = os.path.join(args.workdir, "checkpoints")
    if args.init_from and not tf.train.latest_checkpoint(checkpoints):
        trainer.model.load_weights(
            os.path.join(args.init_from, "transformer.weights.h5"))

    if args.export_only:
        source = args.export_from or checkpoints
        latest = (tf.train.latest_checkpoint(source)
                  if os.path.isdir(source) else source)
        if latest is None:
            raise ValueError(f"--export-only: no checkpoint in {source}")
        trainer.checkpoint.restore(latest).expect_partial()
        print(f"restored {latest}")
    else:
        # === Loop, with a grid of samples for fixed captions ===
        vqgan = load_vqgan(model_config.vqgan, args.vqgan) if args.vqgan \
            else None
        hooks = []
        if vqgan is not None:
            pipe = TextToImage(model_config, transformer=trainer.model,
                               vqgan=vqgan, text_encoder=text_encoder)
            prompts = _sample_captions(records, metadata)

            def log_samples(step):
                images = tf.constant(pipe(prompts, seed=0))
                tf.summary.image("samples", image_grid(images, 4)[None],
                                 step=step)
                tf.summary.text("sample_prompts", " | ".join(prompts),
                                step=step)

            hooks.append((args.sample_every, log_samples))
        train_lib.train(args, trainer, make_batches, hooks)
    if args.model_dir:
        TextToImage(model_config, transformer=trainer.model,
                    vqgan=load_vqgan(model_config.vqgan, args.vqgan),
                    text_encoder=text_encoder).save(args.model_dir)
        print(f"wrote model directory {args.model_dir}")


if __name__ == "__main__":
    main()
