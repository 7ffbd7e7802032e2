"""Trains MaskGIT's class-conditional transformer (e.g. on Fashion-MNIST).

The frozen VQGAN encodes every image once; the tokens and labels are cached
in WORKDIR/tokens.npz (remade when the data or the VQGAN change), and the
transformer trains on them with the shared loop (checkpoints, resume,
TensorBoard, a grid of one sample per class every --sample-every steps).

Example (the class-conditional Fashion-MNIST model):
  python training/train_vqgan.py --preset fashion_32 \
      --data fashion_mnist:train --workdir runs/fashion_vqgan
  python training/train_class_conditional.py --preset fashion_32 \
      --data fashion_mnist:train --vqgan runs/fashion_vqgan \
      --workdir runs/fashion --model-dir runs/fashion_model
"""

import train_lib  # First: it quiets TensorFlow's start-up log.

# isort: split
import argparse
import os

import numpy as np
import tensorflow as tf
import tqdm
from train_transformer import load_vqgan

from muse_tf.data import pretokenize, stream
from muse_tf.data.pipeline import image_grid, to_model_range
from muse_tf.data.sources import load_source, source_signature
from muse_tf.model_dir import WEIGHT_FILES
from muse_tf.pipeline import MusePipeline
from muse_tf.presets import get_config
from muse_tf.training.transformer_trainer import (
    ClassConditionalTrainer,
    TransformerTrainConfig,
)


def prepare_tokens(args, config, vqgan):
    """(tokens int32 [N, L], labels int32 [N]) of every image, cached."""
    path = os.path.join(args.workdir, "tokens.npz")
    key = pretokenize.fingerprint(
        source_signature(args.data, args.data_dir), config.vqgan.to_dict(),
        *[w.numpy() for w in vqgan.weights])
    if os.path.exists(path):
        with np.load(path) as cached:
            if str(cached["key"]) == key:
                return cached["tokens"], cached["labels"]
    examples = load_source(args.data, config.vqgan.image_size,
                           data_dir=args.data_dir)
    encode = tf.function(lambda images: vqgan.encode(to_model_range(images)))
    tokens, labels = [], []
    for batch in tqdm.tqdm(examples.batch(256), desc="VQ encode",
                           unit="batch"):
        ids = encode(batch["image"]).numpy()
        tokens.append(ids.reshape(len(ids), -1))
        labels.append(batch["label"].numpy())
    tokens, labels = np.concatenate(tokens), np.concatenate(labels)
    os.makedirs(args.workdir, exist_ok=True)
    np.savez(path, key=key, tokens=tokens.astype(np.int32),
             labels=labels.astype(np.int32))
    return tokens, labels


def batch_maker(args, config, vqgan):
    """make_batches(start_step) of the shared loop, over the cached tokens
    (made first if they are not)."""
    tokens, labels = prepare_tokens(args, config, vqgan)
    if labels.min() < 0 or labels.max() >= config.classes.num_classes:
        raise ValueError(f"Labels must be in [0, {config.classes.num_classes}), got "
                         f"[{labels.min()}, {labels.max()}]")
    examples = tf.data.Dataset.from_tensor_slices(
        {"tokens": tokens, "label": labels})

    def make_batches(start_step):
        return stream.training_stream(examples, len(tokens), args.batch_size,
                                      start_step, args.seed)

    return make_batches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    train_lib.add_run_arguments(parser, num_steps=3000, batch_size=64,
                                checkpoint_every=200)
    parser.add_argument("--vqgan", required=True,
                        help="the frozen VQGAN: a train_vqgan.py work "
                        "directory or a model directory")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="peak learning rate (warm-up, cosine decay)")
    parser.add_argument("--warmup-steps", type=int, default=200,
                        help="linear warm-up steps (default 200)")
    parser.add_argument("--init-from", default=None,
                        help="model directory whose class transformer starts "
                        "a new run (e.g. muse_tf/presets/fashion_32 to train "
                        "the bundled model further; optimizer state is not "
                        "taken)")
    parser.add_argument("--model-dir", default=None,
                        help="after training, write a model directory that "
                        "muse_tf.load_pipeline and every muse-tf verb load")
    train_lib.add_export_arguments(parser)
    args = parser.parse_args(argv)
    train_lib.check_export_arguments(args)

    strategy = train_lib.make_run_strategy(args)
    config = get_config(args.preset)
    if config.classes is None:
        raise ValueError(f"Preset {args.preset!r} is not class-conditional")
    vqgan = load_vqgan(config.vqgan, args.vqgan)
    trainer = ClassConditionalTrainer(
        config.transformer, config.classes.num_classes, TransformerTrainConfig(
            learning_rate=args.learning_rate, warmup_steps=args.warmup_steps,
            decay_steps=args.num_steps), strategy=strategy)
    # Restore order: resume from --workdir if it has a checkpoint (inside
    # the loop), else start from --init-from's weights, else scratch.
    if train_lib.starts_from_init(args):
        trainer.model.load_weights(os.path.join(args.init_from,
                                                WEIGHT_FILES["class_transformer"]))
    pipe = MusePipeline(config, {"class_transformer": trainer.model,
                                 "vqgan": vqgan})
    classes = list(range(config.classes.num_classes))

    def log_samples(step):
        images = tf.constant(pipe(classes, seed=0))
        tf.summary.image("one_sample_per_class",
                         image_grid(images, len(classes))[None], step=step)

    if args.export_only:
        train_lib.restore_for_export(args, trainer)
    else:
        train_lib.train(args, trainer, batch_maker(args, config, vqgan),
                        [(args.sample_every, log_samples)])
    if args.model_dir:
        pipe.save(args.model_dir)
        print(f"wrote model directory {args.model_dir}")


if __name__ == "__main__":
    train_lib.run_main(main)
