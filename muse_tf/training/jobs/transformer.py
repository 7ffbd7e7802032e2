"""Trains a masked transformer: a base model (conditioned on text or on a
class) or a cascade's super-res model.

An offline pass first turns the data into VQ token shards (the frozen
VQGAN, and the text encoder for text models, run once per example;
muse_tf/data/pretokenize.py) in WORKDIR/tokens, rebuilt only when the data
or encoders change; the transformer then trains on the shards alone. For
`--stage super_res` the shards pair each image's high-res tokens
(--high-res-vqgan, at the preset's high-res size) with the low-res tokens
of the same image downsampled (--vqgan, the base VQGAN). A class preset
(e.g. fashion_32) reads labelled data (`fashion_mnist:train`) and trains
MaskGIT's class-conditional transformer.

  muse-tf train transformer --preset fashion_32 --data fashion_mnist:train \
      --vqgan runs/fashion_vqgan --workdir runs/fashion \
      --model-dir runs/fashion_model
  muse-tf train transformer --preset emoji_128 --stage super_res \
      --data tfds:emoji_captions/full_128 --vqgan runs/emoji_128 \
      --high-res-vqgan runs/vqgan_128 --workdir runs/super_res \
      --model-dir runs/emoji_128   # joins the base model written there
On a TPU:  ... --strategy tpu --tpu NAME --batch-size 512
"""

import dataclasses
import os

import tensorflow as tf
import tqdm

from muse_tf import model_dir
from muse_tf.conditioning import Condition, TextConditioner
from muse_tf.data import pretokenize, stream
from muse_tf.data.pipeline import image_grid
from muse_tf.data.sources import SkipCounter, load_source, source_signature
from muse_tf.pipeline import MusePipeline
from muse_tf.precision import building_in
from muse_tf.presets import get_config
from muse_tf.text.encoder import build_text_encoder
from muse_tf.training.jobs import flags
from muse_tf.training.jobs.vqgan import load_vqgan
from muse_tf.training.transformer_trainer import (
    ClassConditionalTrainer,
    SuperResTrainer,
    TransformerTrainConfig,
    TransformerTrainer,
    UViTTrainer,
)

_SAMPLE_PROMPTS = 8


def trained_component(config, stage):
    """The model directory component a stage's transformer is."""
    if stage == "super_res":
        return "super_res"
    return "transformer" if config.classes is None else "class_transformer"


def stage_vqgans(args, model_config):
    """(VQGAN whose tokens the stage predicts, low-res VQGAN or None)."""
    if args.vqgan is None:
        raise ValueError("--vqgan is needed to make the token shards or a "
                         "model directory")
    base, _ = load_vqgan(model_config.vqgan, args.vqgan)
    if args.stage == "base":
        return base, None
    if args.high_res_vqgan is None:
        raise ValueError("--stage super_res needs --high-res-vqgan")
    return load_vqgan(model_config.super_res.vqgan, args.high_res_vqgan,
                      "high_res")[0], base


def prepare_tokens(args, model_config, text_encoder, vqgans):
    """Makes WORKDIR/tokens unless it is up to date; returns its path (or
    --tokens, used as it is). `vqgans`: `stage_vqgans`."""
    if args.tokens:
        return args.tokens
    directory = os.path.join(args.workdir, "tokens")
    vqgan, low_res_vqgan = vqgans
    encoders = [vqgan] + [e for e in (text_encoder, low_res_vqgan)
                          if e is not None]
    condition = (model_config.text or model_config.classes).to_dict()
    key = pretokenize.fingerprint(
        source_signature(args.data, args.data_dir), args.image_key,
        args.caption_key, vqgan.config.to_dict(), condition,
        *[w.numpy() for e in encoders for w in e.weights])
    metadata = pretokenize.read_metadata(directory)
    if metadata is None or metadata["key"] != key:
        if metadata is not None:
            print(f"{directory} was made from other inputs; remaking it")
        skipped = SkipCounter()
        examples = load_source(args.data, vqgan.config.image_size,
                               skipped, args.data_dir, args.image_key,
                               args.caption_key)
        classes = model_config.classes
        metadata = pretokenize.write_token_shards(
            examples, vqgan, directory, key, text_encoder=text_encoder,
            class_names=classes and classes.class_names,
            low_res_vqgan=low_res_vqgan)
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


def sample_hooks(args, model_config, trainer, text_encoder, records,
                 metadata, vqgans):
    """TensorBoard sample grids every --sample-every steps: for a class
    model, one image per class; for a text base model, images for fixed
    captions; for super-res, fixed images' low-res tokens made high-res
    (rows: low-res, super-res, original)."""
    if vqgans is None:
        return []
    if model_config.classes is not None:
        pipe = MusePipeline(model_config, {"class_transformer": trainer.model,
                                           "vqgan": vqgans[0]})
        classes = list(range(model_config.classes.num_classes))

        def log_class_samples(step):
            images = tf.constant(pipe(classes, seed=0))
            tf.summary.image("one_sample_per_class",
                             image_grid(images, len(classes))[None],
                             step=step)

        return [(args.sample_every, log_class_samples)]
    if args.stage == "base":
        pipe = MusePipeline(
            model_config, {"transformer": trainer.model, "vqgan": vqgans[0]},
            TextConditioner(text_encoder))
        prompts = _sample_captions(records, metadata)

        def log_samples(step):
            images = tf.constant(pipe(prompts, seed=0))
            tf.summary.image("samples", image_grid(images, 4)[None],
                             step=step)
            tf.summary.text("sample_prompts", " | ".join(prompts), step=step)

        return [(args.sample_every, log_samples)]

    high_res_vqgan, low_res_vqgan = vqgans
    pipe = MusePipeline(
        model_config, {"vqgan": low_res_vqgan, "super_res": trainer.model,
                       "high_res_vqgan": high_res_vqgan},
        TextConditioner(text_encoder))
    examples = pretokenize.parse_token_batch(
        next(iter(records.shard(max(1, metadata["num_examples"]
                                    // _SAMPLE_PROMPTS), 0)
                  .batch(_SAMPLE_PROMPTS))), metadata)
    side = model_config.super_res.vqgan.image_size

    def log_samples(step):
        high = pipe.super_resolve(
            examples["low_res_tokens"],
            Condition(examples["text_states"], examples["text_mask"]),
            seed=0)
        low = tf.image.resize(pipe.decode(examples["low_res_tokens"], 0),
                              [side, side], method="nearest")
        rows = tf.concat([low, pipe.decode(high),
                          pipe.decode(examples["tokens"])], axis=0)
        tf.summary.image("low_res_super_res_original",
                         image_grid(rows, _SAMPLE_PROMPTS)[None], step=step)

    return [(args.sample_every, log_samples)]


def write_model_dir(args, model_config, trainer, vqgans):
    """Writes --model-dir; a super-res stage joins the base model that is
    already there into one cascade directory. `vqgans`: `stage_vqgans`."""
    name = trained_component(model_config, args.stage)
    if args.stage == "base":
        # A base model alone, unless the directory already holds a
        # cascade: then only its base transformer is replaced.
        if (model_dir.is_model_dir(args.model_dir) and "super_res"
                in model_dir.read_manifest(args.model_dir)[1]):
            model_dir.add_component(args.model_dir, name, trainer.model)
        else:
            model_dir.save(
                args.model_dir,
                dataclasses.replace(model_config, super_res=None),
                {name: trainer.model, "vqgan": vqgans[0]})
    else:
        if not model_dir.is_model_dir(args.model_dir):
            raise ValueError(f"--model-dir {args.model_dir} must hold the "
                             "base model the super-res stage joins")
        model_dir.add_component(args.model_dir, name, trainer.model,
                                config=model_config)
        model_dir.add_component(args.model_dir, "high_res_vqgan", vqgans[0])
    print(f"wrote model directory {args.model_dir}")


def accuracy_hook(args, trainer, records, metadata):
    """A hook that logs the masked-token accuracy on the shards' first
    --eval-examples examples (whole global batches of them; fewer when
    the shards hold fewer)."""
    examples = min(args.eval_examples, metadata["num_examples"])
    if examples < args.batch_size:
        raise ValueError(f"--eval-examples: {examples} examples are fewer "
                         f"than a batch ({args.batch_size})")
    subset = records.take(examples).batch(
        args.batch_size, drop_remainder=True).map(
            lambda batch: pretokenize.parse_token_batch(batch, metadata)
        ).cache()
    count = examples // args.batch_size * args.batch_size

    def log_accuracy(step):
        accuracy = trainer.masked_accuracy(subset)
        tf.summary.scalar("eval/masked_token_accuracy", accuracy, step=step)
        tqdm.tqdm.write(f"step {step}: masked-token accuracy {accuracy:.4f} "
                        f"on {count} training examples")

    return log_accuracy


def add_arguments(parser):
    flags.add_run_arguments(parser, num_steps=2000, batch_size=64,
                            checkpoint_every=100)
    parser.add_argument("--stage", choices=["base", "super_res"],
                        default="base",
                        help="which transformer: the base model, or the "
                        "super-res model of a cascade preset (default base)")
    parser.add_argument("--vqgan", default=None,
                        help="the frozen (base) VQGAN: a `vqgan` job's work "
                        "directory (its latest checkpoint), one checkpoint "
                        "of it (WORKDIR/checkpoints/ckpt-N) or a model "
                        "directory")
    parser.add_argument("--high-res-vqgan", default=None,
                        help="--stage super_res: the frozen high-res VQGAN "
                        "(a `vqgan --stage high_res` job's work directory "
                        "or a model directory)")
    parser.add_argument("--tokens", default=None,
                        help="token shards made elsewhere (used as they "
                        "are; default: WORKDIR/tokens, made from --data)")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="peak learning rate (warm-up, cosine decay)")
    parser.add_argument("--warmup-steps", type=int, default=200,
                        help="linear warm-up steps (default 200)")
    parser.add_argument("--eval-every", type=int, default=0,
                        help="steps between measurements of the masked-token "
                        "accuracy on a fixed subset of the training tokens "
                        "(TensorBoard eval/masked_token_accuracy; the run "
                        "has learned what it can when it stops rising; "
                        "default 0: never)")
    parser.add_argument("--eval-examples", type=int, default=1024,
                        help="--eval-every: the first this many examples of "
                        "the token shards (default 1024)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="only make the token shards")
    parser.add_argument("--init-from", default=None,
                        help="model directory whose weights of this stage's "
                        "transformer start a new run (e.g. "
                        "muse_tf/presets/fashion_32 to train the bundled "
                        "model further; optimizer state is not taken)")
    parser.add_argument("--model-dir", default=None,
                        help="after training, write a model directory that "
                        "muse_tf.load_pipeline and every muse-tf verb load: "
                        "config, transformer and VQGAN weights; for "
                        "--stage super_res, the super-res and high-res "
                        "VQGAN weights are added to the base model that "
                        "must be there")
    flags.add_export_arguments(parser)


def make_trainer(model_config, stage, null_text, train_config, strategy):
    """The trainer of a stage's transformer: text base (aMUSEd's U-ViT for
    a converted aMUSEd model), class base or super-res. `null_text`: the
    empty prompt's encoding, (states, mask[, pooled])."""
    if model_config.classes is not None:
        if stage != "base":
            raise ValueError("a class-conditional preset has only a base "
                             "stage")
        return ClassConditionalTrainer(
            model_config.transformer, model_config.classes.num_classes,
            train_config, strategy=strategy)
    if model_config.uvit:
        return UViTTrainer(model_config.transformer, *null_text,
                           train_config, strategy=strategy)
    if stage == "base":
        return TransformerTrainer(model_config.transformer, *null_text,
                                  train_config, strategy=strategy)
    return SuperResTrainer(model_config.super_res.transformer, *null_text,
                           train_config, strategy=strategy)


def run(args):
    flags.check_export_arguments(args)
    # === Strategy ===
    strategy, precision = flags.make_run_strategy(args)
    model_config = get_config(args.preset)
    if model_config.classes is not None and args.stage != "base":
        raise ValueError(f"--stage {args.stage}: preset {args.preset!r} is "
                         "class-conditional, with a base stage only")

    # The frozen VQGANs, loaded once: the shards, the sample grids and the
    # model directory use them; with ready --tokens and no --model-dir
    # they are optional (no sample grids then).
    vqgans = (stage_vqgans(args, model_config)
              if args.vqgan or not args.tokens or args.model_dir else None)

    # === Data: token shards, made once (a snapshot needs none) ===
    text_encoder = (build_text_encoder(model_config.text)
                    if model_config.text else None)
    if args.export_only:
        null_text = None
        if text_encoder:
            null_text = tuple(t.numpy()
                              for t in text_encoder(tf.constant([""])))
    else:
        tokens_dir = prepare_tokens(args, model_config, text_encoder, vqgans)
        if args.prepare_only:
            return
        records, metadata, null_text = pretokenize.read_token_shards(
            tokens_dir)
        kind = "text" if model_config.text else "class"
        if metadata.get("condition", "text") != kind:
            raise ValueError(f"{tokens_dir} holds {metadata['condition']} "
                             f"conditions; preset {args.preset!r} needs "
                             f"{kind}")
        if model_config.uvit and "pooled_dim" not in metadata:
            raise ValueError(f"{tokens_dir} holds no pooled text vectors, "
                             "which an aMUSEd model is conditioned on")

        def make_batches(start_step):
            return stream.training_stream(
                records, metadata["num_examples"], args.batch_size,
                start_step, args.seed, transform=lambda batch, _:
                pretokenize.parse_token_batch(batch, metadata))

    # === Model and optimizer, in the strategy's scope ===
    with building_in(precision):
        trainer = make_trainer(model_config, args.stage, null_text,
                               TransformerTrainConfig(
                                   learning_rate=args.learning_rate,
                                   warmup_steps=args.warmup_steps,
                                   decay_steps=args.num_steps,
                                   jit_compile=precision.xla), strategy)
    # Restore order: resume from --workdir if it has a checkpoint (inside
    # the loop), else start from --init-from's weights, else scratch.
    if flags.starts_from_init(args):
        trainer.model.load_weights(os.path.join(
            args.init_from, model_dir.weights_file(
                trained_component(model_config, args.stage))))

    if args.export_only:
        flags.restore_for_export(args, trainer)
    else:
        hooks = sample_hooks(args, model_config, trainer, text_encoder,
                             records, metadata, vqgans)
        if args.eval_every:
            hooks.append((args.eval_every, accuracy_hook(
                args, trainer, records, metadata)))
        flags.train(args, trainer, make_batches, precision, hooks)
    if args.model_dir:
        write_model_dir(args, model_config, trainer, vqgans)
