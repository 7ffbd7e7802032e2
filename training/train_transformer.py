"""Trains the base masked transformer on a TFDS caption dataset.

The frozen VQGAN (a `train_vqgan.py` work directory, or saved weights) and
text encoder run once over the data; their outputs are cached in the work
directory, then the transformer trains on (tokens, caption states).

Example (the bundled emoji model):
  python training/train_transformer.py --preset emoji_64 \
      --vqgan runs/vqgan --workdir runs/transformer --num-steps 2000 \
      --model-dir muse_tf/presets/emoji_64
"""

import argparse
import os

import numpy as np
import tensorflow as tf

from muse_tf.configs import get_preset
from muse_tf.data import pretokenize
from muse_tf.models.vqgan import VQGAN
from muse_tf.pipeline import TextToImage
from muse_tf.text.encoder import build_text_encoder
from muse_tf.training.checkpointing import restore_model
from muse_tf.training.loop import run_training
from muse_tf.training.transformer_trainer import (
    TransformerTrainConfig,
    TransformerTrainer,
)


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


def prepare(args, model_config):
    """Returns (tokens [N, L], caption_ids [N, C], states, masks, null)."""
    os.makedirs(args.workdir, exist_ok=True)
    path = lambda name: os.path.join(args.workdir, name)
    images, captions = pretokenize.load_caption_dataset(
        args.dataset, "train", args.data_dir)
    distinct = sorted({c for cs in captions for c in cs} | {""})
    index = {c: i for i, c in enumerate(distinct)}
    caption_ids = np.array([[index[c] for c in cs] for cs in captions],
                           np.int32)
    encoder = build_text_encoder(model_config.text)
    text_key = pretokenize.fingerprint(
        distinct, model_config.text.to_dict(),
        *[w.numpy() for w in encoder.weights])
    states = pretokenize.cached(path("text_states.npy"), lambda: (
        pretokenize.encode_captions(encoder, distinct)[0]), text_key)
    masks = pretokenize.cached(path("text_masks.npy"), lambda: (
        encoder.tokenizer(tf.constant(distinct))[1].numpy()), text_key)
    vqgan = load_vqgan(model_config.vqgan, args.vqgan)
    image_key = pretokenize.fingerprint(
        images, *[w.numpy() for w in vqgan.weights])
    tokens = pretokenize.cached(path("tokens.npy"), lambda: (
        pretokenize.encode_images(vqgan, images)), image_key)
    null = index[""]
    return tokens, caption_ids, states, masks, null


def batches(tokens, caption_ids, states, masks, batch_size, seed=0):
    """An endless tf.data.Dataset of batches; each example takes one of its
    captions at random. The caption states stay in host memory (a Python
    generator gathers them), not in the dataset's graph."""
    rng = np.random.default_rng(seed)

    def generate():
        while True:
            for start in range(0, len(tokens) - batch_size + 1, batch_size):
                rows = order[start:start + batch_size]
                pick = rng.integers(0, caption_ids.shape[1], batch_size)
                ids = caption_ids[rows, pick]
                yield {"tokens": tokens[rows],
                       "text_states": states[ids].astype(np.float32),
                       "text_mask": masks[ids]}
            order[:] = rng.permutation(len(tokens))

    order = rng.permutation(len(tokens))
    length, text_length, dim = tokens.shape[1], states.shape[1], \
        states.shape[2]
    return tf.data.Dataset.from_generator(generate, output_signature={
        "tokens": tf.TensorSpec([batch_size, length], tf.int32),
        "text_states": tf.TensorSpec([batch_size, text_length, dim],
                                     tf.float32),
        "text_mask": tf.TensorSpec([batch_size, text_length], tf.bool),
    }).prefetch(2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="emoji_64")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--vqgan", required=True,
                        help="the frozen VQGAN: a train_vqgan.py work "
                        "directory or a model directory")
    parser.add_argument("--dataset", default="emoji_captions")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--num-steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="peak learning rate (warm-up, cosine decay)")
    parser.add_argument("--warmup-steps", type=int, default=200)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--prepare-only", action="store_true",
                        help="only fill the token and text-state caches")
    parser.add_argument("--export-only", action="store_true",
                        help="write --model-dir from the latest checkpoint "
                        "in --workdir without training (e.g. a snapshot of "
                        "a run that is still going)")
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

    model_config = get_preset(args.preset)
    tokens, caption_ids, states, masks, null = prepare(args, model_config)
    if args.prepare_only:
        return
    trainer = TransformerTrainer(
        model_config.transformer, states[null:null + 1].astype(np.float32),
        masks[null:null + 1], TransformerTrainConfig(
            learning_rate=args.learning_rate, warmup_steps=args.warmup_steps,
            decay_steps=args.num_steps))
    # Restore order: resume from --workdir if it has a checkpoint (inside
    # run_training), else start from --init-from's weights, else scratch.
    checkpoints = os.path.join(args.workdir, "checkpoints")
    if args.init_from and not tf.train.latest_checkpoint(checkpoints):
        trainer.model.load_weights(
            os.path.join(args.init_from, "transformer.weights.h5"))
    if args.export_only:
        latest = tf.train.latest_checkpoint(checkpoints)
        if latest is None:
            raise ValueError(f"--export-only: no checkpoint in {checkpoints}")
        trainer.checkpoint.restore(latest).expect_partial()
        print(f"restored {latest}")
    else:
        run_training(trainer, batches(tokens, caption_ids, states, masks,
                                      args.batch_size),
                     args.workdir, args.num_steps,
                     checkpoint_every=args.checkpoint_every)
    if args.model_dir:
        TextToImage(model_config, transformer=trainer.model,
                    vqgan=load_vqgan(model_config.vqgan, args.vqgan)).save(
                        args.model_dir)
        print(f"wrote model directory {args.model_dir}")


if __name__ == "__main__":
    main()
