"""`muse-tf`: generate and edit images, evaluate, export, query a model
server, train and prepare data from the command line."""

import argparse
import os
import re
import sys

from muse_tf import logs
from muse_tf.configs import (
    EDIT,
    GUIDANCE_SCHEDULES,
    MASK_COUNT_RULES,
    MAX_BATCH,
    MAX_STEPS,
    SCHEDULES,
    UNMASK_ORDERS,
)
from muse_tf.precision import PRECISIONS
from muse_tf.presets import BUNDLED_MODELS, DEFAULT_MODEL
from muse_tf.training.jobs import JOBS


def _slug(text, limit=48):
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit]
    return slug or "image"


def _run_pipeline(args, make_images):
    """Loads --model, runs `make_images(pipe, sampling_kwargs)`, writes the
    images as PNGs (enlarged by --scale) and prints where. Prompts are
    class names or ids for a class-conditional model."""
    import muse_tf

    pipe = muse_tf.load_pipeline(args.model, decoder=args.decoder,
                                 precision=args.precision)
    print(pipe.precision)
    labels = [str(pipe.conditioner.describe(value))
              for value in pipe.conditioner.parse(args.prompts)]
    sampling = {"seed": args.seed, "guidance_scale": args.guidance_scale,
                "negative_prompts": _negative_prompts(args),
                "super_res_steps": args.super_res_steps,
                "super_res_guidance_scale": args.super_res_guidance_scale}
    images = make_images(pipe, sampling)
    _write_pngs(args.output, labels, _encode_pngs(images, args.scale),
                args.seed)


def _encode_pngs(images, scale):
    """uint8 images -> PNG bytes, enlarged `scale` times (nearest)."""
    import tensorflow as tf

    pngs = []
    for image in images:
        if scale > 1:
            image = tf.image.resize(image[None], [image.shape[0] * scale,
                                                  image.shape[1] * scale],
                                    method="nearest")[0]
        pngs.append(tf.io.encode_png(tf.cast(image, tf.uint8)).numpy())
    return pngs


def _generate(args):
    _run_pipeline(args, lambda pipe, sampling: pipe(
        args.prompts, num_steps=args.num_steps, **sampling))


def _inpaint(args):
    _run_pipeline(args, lambda pipe, sampling: pipe.inpaint(
        args.image, args.mask, args.prompts, num_steps=args.num_steps,
        **sampling))


def _outpaint(args):
    _run_pipeline(args, lambda pipe, sampling: pipe.outpaint(
        args.image, args.prompts, args.direction, args.fraction,
        num_steps=args.num_steps, **sampling))


def _edit(args):
    def edit(pipe, sampling):
        return pipe.edit(args.image, args.prompts, args.iterations,
                         **sampling)

    _run_pipeline(args, edit)


def _write_pngs(output, prompts, pngs, seed):
    os.makedirs(output, exist_ok=True)
    for i, (prompt, png) in enumerate(zip(prompts, pngs)):
        path = os.path.join(output, f"{i:03d}_{_slug(prompt)}.png")
        with open(path, "wb") as f:
            f.write(png)
        print(f"wrote {path}  ({prompt!r}, seed {seed})")


def _client(args):
    from muse_tf import serving_client

    client = serving_client.connect(args.server, rest=args.rest,
                                    model_name=args.model_name,
                                    timeout=args.timeout)
    try:
        pngs = serving_client.generate_png(
            client, args.prompts, _negative_prompts(args), seed=args.seed,
            guidance_scale=args.guidance_scale, num_steps=args.num_steps)
    finally:
        client.close()
    _write_pngs(args.output, args.prompts, pngs, args.seed)


def _train(args):
    from muse_tf.training import recipe

    if args.config:
        if args.job:
            raise ValueError(f"give a job ({args.job}) or --config, not both")
        if not args.workdir:
            raise ValueError("--config needs --workdir, where the recipe's "
                             "runs go")
        recipe.run(recipe.load(args.config, args.shrink), args.workdir,
                   args.only, args.dry_run, args.data_dir)
    elif args.job:
        recipe.run_job(args.job, [a for a in args.job_args
                                  if a != logs.VERBOSE_FLAG])
    else:
        raise ValueError("give a job or --config RECIPE (muse-tf train "
                         "--help)")


def _prepare_data(args):
    import tensorflow_datasets as tfds

    from muse_tf.data import emoji_captions

    data_dir = os.path.expanduser(args.data_dir)
    manual_dir = emoji_captions.manual_directory(data_dir)
    emoji_captions.fetch_npm_sources(manual_dir)
    builder = tfds.builder(f"emoji_captions/{args.config}", data_dir=data_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=manual_dir))
    print(f"prepared {builder.info.full_name} in {data_dir}: "
          + ", ".join(f"{k} {v.num_examples}"
                      for k, v in builder.info.splits.items()))


def export_command(args):
    """`muse-tf export` (also export/export_savedmodel.py)."""
    from muse_tf.export import export
    from muse_tf.precision import choose

    choice = choose(args.precision)
    print(choice)
    path = export(args.model, args.out_dir, args.max_batch, args.max_steps,
                  choice)
    print(f"wrote SavedModel {path}")


def _convert_maskgit(args):
    from muse_tf.convert import maskgit

    class_names = None
    if args.class_names:
        with open(args.class_names) as f:
            class_names = [line.strip() for line in f if line.strip()]
    config, unread = maskgit.convert(args.tokenizer, args.transformer,
                                     args.output, class_names)
    if unread:
        print("not read (the official inference does not use them "
              f"either): {', '.join(unread)}")
    t, v = config.transformer, config.vqgan
    print(f"wrote model directory {args.output}: {v.image_size} px, "
          f"{t.image_tokens_per_side}x{t.image_tokens_per_side} tokens of "
          f"{v.codebook_size} codes, {t.num_layers} layers of width "
          f"{t.hidden_dim}, {config.classes.num_classes} classes")


def _convert_amused(args):
    from muse_tf.convert import amused

    config = amused.convert(args.folder, args.output)
    t, v = config.transformer, config.vqgan
    print(f"wrote model directory {args.output}: {v.image_size} px, "
          f"{t.sample_size}x{t.sample_size} tokens of {v.codebook_size} "
          f"codes, {t.num_hidden_layers} layers of width {t.hidden_size}, "
          f"CLIP text encoder of width {config.text.output_dim}")


def add_export_arguments(parser):
    """Arguments of `muse-tf export`, shared with export/export_savedmodel."""
    parser.add_argument("model", help="bundled model name (e.g. emoji_128) "
                        "or model directory")
    parser.add_argument("out_dir", help="SavedModel directory; for TF "
                        "Serving, a numbered version dir such as "
                        "models/muse/1")
    parser.add_argument("--max-batch", type=int, default=MAX_BATCH,
                        help="largest batch of prompts (or classes) the "
                        f"model accepts (default {MAX_BATCH})")
    parser.add_argument("--max-steps", type=int, default=MAX_STEPS,
                        help="largest number of decoding steps of any stage "
                        f"the model accepts (default {MAX_STEPS})")
    add_precision_argument(parser, "the exported signatures; a bf16 export "
                           "also has float32 twins (<name>_fp32) for "
                           "machines without bf16")


def add_precision_argument(parser, what):
    """--precision auto|fp32|bf16 (`precision.choose`)."""
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help=f"number format of {what}: auto (default: "
                        "bf16 where the CPU has AVX512-BF16 or AMX, or on "
                        "a TPU or GPU; else fp32), fp32 or bf16")


def _add_sampling_arguments(parser, defaults_from, num_steps=True):
    """Output and decoding options of every generating subcommand, from
    prompts or classes; `defaults_from` says where omitted options take
    their values."""
    parser.add_argument("--output", default="samples",
                        help="output directory (default: samples)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed; the same seed gives the same "
                        "images")
    _add_decoding_arguments(parser, defaults_from, num_steps)


def _add_decoding_arguments(parser, defaults_from, num_steps=True):
    """Decoding steps and guidance scale, of generation and of eval."""
    if num_steps:
        parser.add_argument("--num-steps", type=int, default=None,
                            help="decoding steps (of the base stage, in a "
                            f"cascade; default: {defaults_from})")
    parser.add_argument("--guidance-scale", type=float, default=None,
                        help="classifier-free guidance scale >= 0, reached "
                        f"at the last step (default: {defaults_from})")


def _add_scale_argument(parser):
    parser.add_argument("--scale", type=int, default=1,
                        help="save images enlarged by this integer factor "
                        "(nearest neighbour; default 1)")


def _add_generation_arguments(parser, defaults_from, num_steps=True):
    """Prompts and decoding options shared by the subcommands that generate
    from text."""
    parser.add_argument("prompts", nargs="+",
                        help="text prompts, one image each; for a class-"
                        "conditional model class names or ids (e.g. sneaker "
                        "or 7)")
    _add_sampling_arguments(parser, defaults_from, num_steps)
    parser.add_argument("--negative-prompt", default=None,
                        help="steer away from this text, or class, for "
                        "every prompt (default: the empty prompt, or the "
                        "null class)")


def _add_decoder_argument(parser):
    parser.add_argument("--decoder", choices=["base", "large"],
                        default="base",
                        help="the last VQGAN's decoder: its base one or "
                        "Muse's fine-tuned larger one, where the model has "
                        "it (default base)")


def _add_pipeline_arguments(parser, num_steps=True):
    """Options of the subcommands that run a model in this process
    (`num_steps=False`: no base decoding steps to set, as in editing)."""
    _add_generation_arguments(parser, "the model's config", num_steps)
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"bundled model name ({', '.join(BUNDLED_MODELS)}"
                        f") or model directory (default: {DEFAULT_MODEL})")
    add_precision_argument(parser, "the model's computation")
    _add_decoder_argument(parser)
    parser.add_argument("--super-res-steps", type=int, default=None,
                        help="decoding steps of a cascade's super-res stage "
                        "(default: the model's config)")
    parser.add_argument("--super-res-guidance-scale", type=float,
                        default=None,
                        help="guidance scale of the super-res stage "
                        "(default: the model's config)")
    _add_scale_argument(parser)


def _negative_prompts(args):
    """--negative-prompt repeated for every prompt, or None."""
    if args.negative_prompt is None:
        return None
    return [args.negative_prompt] * len(args.prompts)


def _evaluate(args):
    import json

    import tensorflow as tf

    import muse_tf
    from muse_tf import quality

    judge, real = quality.judge_and_real(args.model, args.judge, args.real)
    pipe = muse_tf.load_pipeline(args.model, precision=args.precision,
                                 decoder=args.decoder)
    print(pipe.precision)
    changes = {k: v for k, v in (("schedule", args.schedule),
                                 ("guidance_schedule", args.guidance_schedule),
                                 ("unmask_order", args.unmask_order),
                                 ("mask_count_rule", args.mask_count_rule))
               if v is not None}
    if changes:
        pipe = pipe.with_sampler(**changes)
    report, grid = quality.evaluate(
        pipe, judge, real, seed=args.seed, per_class=args.per_class,
        num_classes=args.num_classes, batch_size=args.batch_size,
        data_dir=args.data_dir, real_train=args.real_train,
        train_images=args.train_images, num_steps=args.num_steps,
        guidance_scale=args.guidance_scale)
    report = {"model": args.model, "decoder": args.decoder, **report}
    with open(args.output, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({k: v for k, v in report.items()
                      if k not in ("class_fidelity_by_class", "sampler")}))
    print(quality.round_trip_summary(report))
    print(f"wrote {args.output}")
    if args.grid:
        tf.io.write_file(args.grid, tf.io.encode_png(grid))
        print(f"wrote {args.grid}")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="muse-tf", description="Muse/MaskGIT text-to-image in "
        "TensorFlow: generate and edit images (from prompts, or from classes), "
        "evaluate a model, export a SavedModel, query a "
        "model server, average checkpoints, prepare training data.")
    parser.add_argument(logs.VERBOSE_FLAG, action="store_true",
                        help=logs.VERBOSE_HELP + "; and a traceback with "
                        "an error")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser(
        "generate", help="generate PNG images from prompts (or classes)",
        description="Generate one PNG image per prompt with a trained model "
        "(by default the bundled emoji model) and print where it is. A "
        "class-conditional model (e.g. --model fashion_32) takes class "
        "names or ids where prompts go, in every verb.")
    _add_pipeline_arguments(gen)
    gen.set_defaults(run=_generate)

    inp = sub.add_parser(
        "inpaint", help="regenerate a masked region of an image",
        description="Inpainting (Muse §3.3): regenerate the region of IMAGE "
        "under MASK for each prompt; every other token of the image is "
        "kept. IMAGE and MASK are PNG/JPEG files at the model's image size; "
        "nonzero mask pixels are regenerated.")
    inp.add_argument("image", help="PNG or JPEG image to edit")
    inp.add_argument("mask", help="PNG or JPEG mask (nonzero = regenerate)")
    _add_pipeline_arguments(inp)
    inp.set_defaults(run=_inpaint)

    out = sub.add_parser(
        "outpaint", help="extend an image toward one side",
        description="Outpainting: move IMAGE away from --direction by "
        "--fraction of its side and generate the uncovered strip for each "
        "prompt.")
    out.add_argument("image", help="PNG or JPEG image to extend")
    _add_pipeline_arguments(out)
    out.add_argument("--direction", default="right",
                     choices=["left", "right", "up", "down"],
                     help="side to extend (default right)")
    out.add_argument("--fraction", type=float, default=0.25,
                     help="share of the side to generate, in (0, 1) "
                     "(default 0.25)")
    out.set_defaults(run=_outpaint)

    edi = sub.add_parser(
        "edit", help="mask-free editing toward a new prompt",
        description="Mask-free editing (Muse §3.3): rounds of re-masking a "
        "random 8%% of IMAGE's tokens and resampling them under each prompt "
        f"(top-{EDIT.top_k}, constant guidance, {EDIT.guidance_scale:g} "
        "unless --guidance-scale).")
    edi.add_argument("image", help="PNG or JPEG image to edit")
    _add_pipeline_arguments(edi, num_steps=False)
    edi.add_argument("--iterations", type=int, default=EDIT.num_iterations,
                     help=f"editing rounds (default {EDIT.num_iterations}, "
                     "as in Muse)")
    edi.set_defaults(run=_edit)

    evl = sub.add_parser(
        "eval", help="FID and prompt/class fidelity of a model",
        description="Generate images and report, as JSON, what the papers "
        "report: FID (TF-FID InceptionV3 features) of generated against "
        "held-out real images, beside the FID between two disjoint real "
        "halves (the data's noise floor); and fidelity, the share of "
        "generated images that a classifier trained on real images (the "
        "judge) labels with what was asked for, beside the judge's accuracy "
        "on the held-out real images and on them after the model's VQGAN "
        "encoded and decoded them (what its tokens keep), and the same two "
        "on real training images (what its tokens keep of the images the "
        "transformer learned to reproduce). A text model is "
        "asked for every emoji the judge knows, with training-style "
        "prompts, with paraphrases it never saw, and by synonyms (Unicode "
        "names); a class-conditional model for --per-class images of each "
        "class. The report also gives the FID of the real images' VQGAN "
        "round trips.")
    evl.add_argument("--model", default=DEFAULT_MODEL,
                     help="bundled model name (text or class-conditional) or "
                     f"model directory (default {DEFAULT_MODEL})")
    evl.add_argument("--judge", default=None,
                     help="classifier directory (`muse-tf train "
                     "classifier`; default: the bundled model's)")
    evl.add_argument("--real", default=None,
                     help="held-out real images: fashion_mnist:SPLIT or "
                     "emoji_captions/CONFIG:SPLIT, the split optionally "
                     "sliced as in TFDS (test[:2000]: its first 2000 "
                     "images; default: the bundled model's)")
    evl.add_argument("--real-train", default=None,
                     help="real training images, given as --real (default: "
                     "the training split of the held-out images' dataset, "
                     "e.g. fashion_mnist:train, emoji_captions/full_128:"
                     "train)")
    evl.add_argument("--train-images", type=int, default=None,
                     help="judge this many evenly spaced images of "
                     "--real-train, or all it has if fewer (default: as "
                     "many as the held-out images)")
    evl.add_argument("--data-dir", default=None,
                     help="TFDS data directory of the emoji data (default: "
                     "~/tensorflow_datasets, as muse-tf prepare-data)")
    evl.add_argument("--per-class", type=int, default=100,
                     help="class models: images generated per class "
                     "(default 100)")
    evl.add_argument("--num-classes", type=int, default=None,
                     help="text models: ask for this many evenly spaced "
                     "emoji, not all the judge knows (a quicker estimate)")
    evl.add_argument("--batch-size", type=int, default=32)
    evl.add_argument("--seed", type=int, default=0)
    add_precision_argument(evl, "the generation")
    _add_decoder_argument(evl)
    _add_decoding_arguments(evl, "the model's config")
    evl.add_argument("--schedule", default=None, choices=SCHEDULES,
                     help="(base) mask schedule (default: the model's "
                     "config)")
    evl.add_argument("--guidance-schedule", default=None,
                     choices=GUIDANCE_SCHEDULES,
                     help="(base) guidance schedule (default: the model's "
                     "config)")
    evl.add_argument("--unmask-order", default=None, choices=UNMASK_ORDERS,
                     help="(base) which masked tokens each step uncovers: "
                     "the most confident, or the next in the grid's Halton "
                     "order (default: the model's config)")
    evl.add_argument("--mask-count-rule", default=None,
                     choices=MASK_COUNT_RULES,
                     help="(base) how many: MaskGIT's floor of the masked "
                     "count, or Halton-MaskGIT's of the uncovered count; "
                     "its decoding is --unmask-order halton --schedule "
                     "arccos --mask-count-rule halton (default: the "
                     "model's config)")
    evl.add_argument("--output", default="report.json",
                     help="JSON report path (default: report.json)")
    evl.add_argument("--grid", default=None,
                     help="also write a PNG grid of generated images")
    evl.set_defaults(run=_evaluate)

    exp = sub.add_parser(
        "export", help="export a model as a SavedModel for TF Serving",
        description="Export the whole pipeline (tokenizer, text encoder, "
        "decoding loops, VQGAN decoders, PNG encoding) as one SavedModel "
        "with the signatures serving_default, generate_tokens, "
        "decode_tokens, inpaint and edit.")
    add_export_arguments(exp)
    exp.set_defaults(run=export_command)

    conv = sub.add_parser(
        "convert", help="convert another implementation's released model",
        description="Convert a released checkpoint into a model directory "
        "that every verb takes (--model DIR).")
    formats = conv.add_subparsers(dest="format", required=True)
    mg = formats.add_parser(
        "maskgit", help="google-research/maskgit's ImageNet models",
        description="Convert MaskGIT's released tokenizer and class-"
        "conditional transformer checkpoints (Flax files, e.g. "
        "tokenizer_imagenet256_checkpoint and maskgit_imagenet256_checkpoint "
        "from gs://maskgit-public/checkpoints/) into a model directory, "
        "with the official architecture and decoding (16 steps, no "
        "guidance) and ImageNet's class names. Needs msgpack: pip install "
        "'muse-tf[convert]'.")
    mg.add_argument("--tokenizer", required=True,
                    help="the tokenizer (VQGAN) checkpoint file")
    mg.add_argument("--transformer", required=True,
                    help="the transformer checkpoint file")
    mg.add_argument("output", help="model directory to write")
    mg.add_argument("--class-names", default=None,
                    help="a file of class names, one per line in label "
                    "order (default: ImageNet's, for 1,000 classes)")
    mg.set_defaults(run=_convert_maskgit)
    am = formats.add_parser(
        "amused", help="diffusers' aMUSEd text-to-image models",
        description="Convert a diffusers aMUSEd folder (e.g. `huggingface-"
        "cli download amused/amused-256 --local-dir amused-256`: "
        "transformer/, vqvae/, text_encoder/, tokenizer/, scheduler/) into a "
        "model directory, with aMUSEd's architecture, its CLIP text encoder "
        "and tokenizer, and its decoding (12 steps, guidance 10 against the "
        "empty prompt, which is --guidance-scale 9 in our convention). Reads "
        "safetensors without torch.")
    am.add_argument("folder", help="the diffusers folder")
    am.add_argument("output", help="model directory to write")
    am.set_defaults(run=_convert_amused)

    cli = sub.add_parser(
        "client", help="generate images with a model served by TF Serving",
        description="Send prompts to a TF Serving model server running an "
        "exported Muse SavedModel (gRPC PredictionService, or the REST API "
        "with --rest) and write the returned PNG images. A class-"
        "conditional model takes class ids (its names stay in the "
        "SavedModel: muse_tf.load reads them). Options left out take the "
        "defaults recorded in the SavedModel.")
    _add_generation_arguments(cli, "the SavedModel's")
    cli.add_argument("--server", required=True,
                     help="HOST:PORT of the model server (gRPC port, e.g. "
                     "localhost:8500; REST port with --rest, e.g. "
                     "localhost:8501)")
    cli.add_argument("--rest", action="store_true",
                     help="use the REST API instead of gRPC")
    cli.add_argument("--model-name", default="muse",
                     help="the served model's name (default: muse)")
    cli.add_argument("--timeout", type=float, default=300.0,
                     help="seconds to wait for the server (default 300)")
    cli.set_defaults(run=_client)

    train = sub.add_parser(
        "train", help="train a model: a recipe, or one job",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a recipe (the training steps that make a model; "
        "training/ holds one per bundled model) or one training job. A "
        "job's options: muse-tf train JOB --help.",
        epilog="jobs:\n" + "\n".join(f"  {name:15} {summary}" for name,
                                       (_, summary) in JOBS.items()))
    train.add_argument("job", nargs="?", choices=JOBS, metavar="JOB",
                       help="a job to run with the options after it")
    train.add_argument("job_args", nargs=argparse.REMAINDER,
                       help=argparse.SUPPRESS)
    train.add_argument("--config", default=None,
                       help="a recipe file, e.g. training/fashion_32.py")
    train.add_argument("--workdir", default=None,
                       help="--config: where the recipe's runs go; "
                       "rerunning resumes")
    train.add_argument("--data-dir", default=None,
                       help="--config: the TFDS data directory of every "
                       "step that reads TFDS data (default: TFDS's)")
    train.add_argument("--only", nargs="+", default=(), metavar="STEP",
                       help="--config: run only these steps")
    train.add_argument("--shrink", action="store_true",
                       help="--config: a few tiny steps on a slice of the "
                       "data, to check a recipe runs (as the tests do)")
    train.add_argument("--dry-run", action="store_true",
                       help="--config: print the steps' commands, run "
                       "nothing")
    train.set_defaults(run=_train)

    prep = sub.add_parser(
        "prepare-data", help="build the emoji caption dataset (TFDS)",
        description="Fetch the emoji-datasource npm packages (npm pack) and "
        "build the emoji_captions TFDS dataset. Needs the Noto Color Emoji "
        "font: apt-get install fonts-noto-color-emoji.")
    prep.add_argument("--data-dir", default="~/tensorflow_datasets",
                      help="TFDS data directory (default: "
                      "~/tensorflow_datasets)")
    prep.add_argument("--config", default="full",
                      choices=["full", "sample", "full_128", "sample_128"],
                      help="'full' (every emoji, 64x64, five styles), "
                      "'full_128' (128x128, the Twitter and Noto styles: "
                      "the super-res stage's data), or their 40-emoji "
                      "'sample' versions for tests (default full)")
    prep.set_defaults(run=_prepare_data)
    # --verbose also after the command; SUPPRESS keeps the global one's
    # value when it is not given there.
    for command in sub.choices.values():
        command.add_argument(logs.VERBOSE_FLAG, action="store_true",
                             default=argparse.SUPPRESS,
                             help="as `muse-tf --verbose`")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    # A job's own options (`muse-tf train JOB ...`) may hold --verbose too.
    args.verbose = args.verbose or logs.VERBOSE_FLAG in getattr(
        args, "job_args", ())
    # Before the command imports TensorFlow: its C++ start-up log stays
    # out of what the command prints, unless --verbose.
    logs.quiet_tensorflow(args.verbose)
    try:
        args.run(args)
    except ValueError as e:
        if args.verbose:
            raise
        print(f"muse-tf {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
