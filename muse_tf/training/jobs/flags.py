"""The options every training job shares: run flags, strategy set-up, the
loop.

Every job trains under `--strategy` (tpu, multi_worker, mirrored,
one_device; see muse_tf/training/distribute.py) with a global
`--batch-size` that the replicas split, several steps per graph call, and
optionally mixed bfloat16 precision.
"""

import os

import keras
import tensorflow as tf

from muse_tf.precision import PRECISIONS, choose
from muse_tf.training.distribute import STRATEGIES, logical_cpus, make_strategy
from muse_tf.training.loop import checkpoint_dir, run_training

DEFAULT_DATA = "tfds:emoji_captions"


def add_run_arguments(parser, *, num_steps, batch_size, checkpoint_every):
    """Flags of every training job (job-specific defaults)."""
    parser.add_argument("--preset", default="emoji_64",
                        help="model config preset, or a model directory "
                        "whose architecture to train (e.g. a converted "
                        "model, with --init-from the same directory; "
                        "default emoji_64)")
    parser.add_argument("--workdir", required=True,
                        help="checkpoints, TensorBoard logs and caches; "
                        "rerunning with the same workdir resumes")
    data = parser.add_argument_group("data")
    data.add_argument("--data", default=DEFAULT_DATA,
                      help="tfds:NAME[/CONFIG][:SPLIT], folder:DIR (images "
                      "+ captions.jsonl/csv), tfrecord:GLOB or "
                      "fashion_mnist:SPLIT, each optionally sliced as in "
                      "TFDS: SPEC[START:STOP], e.g. fashion_mnist:"
                      "train[:2048] or folder:DIR[:10%%] (default "
                      f"{DEFAULT_DATA})")
    data.add_argument("--data-dir", default=None, help="TFDS data directory")
    data.add_argument("--image-key", default="image",
                      help="image feature of a TFDS dataset")
    data.add_argument("--caption-key", default="captions",
                      help="caption feature of a TFDS dataset (a string or "
                      "a sequence of strings; default captions)")
    data.add_argument("--seed", type=int, default=0,
                      help="seed of the initial weights, data order and "
                      "augmentation (default 0)")
    run = parser.add_argument_group("run")
    run.add_argument("--num-steps", type=int, default=num_steps,
                     help="total train steps, resumed ones included "
                     "(the learning rate decays to 0 over them)")
    run.add_argument("--batch-size", type=int, default=batch_size,
                     help="global batch size, split across replicas")
    run.add_argument("--checkpoint-every", type=int, default=checkpoint_every,
                     help="steps between checkpoints (a killed run loses at "
                     "most this many)")
    run.add_argument("--keep-checkpoints", type=int, default=3,
                     help="checkpoints kept (0 keeps all, e.g. for "
                     "`muse-tf train ema`; default 3)")
    run.add_argument("--summary-every", type=int, default=50,
                     help="steps between TensorBoard scalars")
    run.add_argument("--sample-every", type=int, default=500,
                     help="steps between TensorBoard sample grids (0: "
                     "none)")
    run.add_argument("--steps-per-call", type=int, default=10,
                     help="train steps per graph call (default 10)")
    dist = parser.add_argument_group("distribution")
    dist.add_argument("--strategy", choices=STRATEGIES, default="one_device",
                      help="tf.distribute strategy (multi_worker reads "
                      "TF_CONFIG; default one_device)")
    dist.add_argument("--tpu", default=None,
                      help="TPU name or grpc:// address for --strategy tpu "
                      "(empty on a TPU VM)")
    dist.add_argument("--cpu-replicas", type=int, default=0,
                      help="split the CPU into this many logical devices "
                      "(for --strategy mirrored without GPUs)")
    dist.add_argument("--precision", choices=PRECISIONS, default="auto",
                      help="number format of the computation: auto "
                      "(default: bf16 on TPUs, GPUs and CPUs with "
                      "AVX512-BF16 or AMX, else fp32), fp32 or bf16 (Keras "
                      "mixed_bfloat16: weights and optimizer stay float32; "
                      "on a CPU it runs without XLA, whose CPU backend "
                      "multiplies bf16 at its fp32 rate)")


def add_export_arguments(parser):
    """--export-only and --export-from, for jobs that write --model-dir."""
    parser.add_argument("--export-only", action="store_true",
                        help="write --model-dir from a checkpoint without "
                        "training (e.g. a snapshot of a run that is still "
                        "going)")
    parser.add_argument("--export-from", default=None,
                        help="checkpoint (prefix or directory) that "
                        "--export-only writes, e.g. a `muse-tf train ema` "
                        "output (default: the latest in "
                        "WORKDIR/checkpoints)")


def starts_from_init(args):
    """Whether --init-from's weights start this run: only when --workdir
    holds no checkpoint, since resuming one (inside the loop) wins."""
    return bool(args.init_from) and not tf.train.latest_checkpoint(
        checkpoint_dir(args.workdir))


def check_export_arguments(args):
    """Right after parsing, before any data or model work: --export-only
    has nothing to do without --model-dir."""
    if args.export_only and not args.model_dir:
        raise ValueError("--export-only writes --model-dir: give one")


def restore_for_export(args, trainer):
    """Restores --export-from (default: the run's latest checkpoint) into
    `trainer` for --export-only."""
    source = args.export_from or checkpoint_dir(args.workdir)
    latest = (tf.train.latest_checkpoint(source) if os.path.isdir(source)
              else source)
    if latest is None:
        raise ValueError(f"--export-only: no checkpoint in {source}")
    trainer.checkpoint.restore(latest).expect_partial()
    print(f"restored {latest}")


def make_run_strategy(args):
    """(strategy, precision.Choice) of `args`, after the device set-up
    that must come before any model is built; the trainer is then built
    within `precision.building_in(choice)`."""
    if args.cpu_replicas:
        logical_cpus(args.cpu_replicas)
    keras.utils.set_random_seed(args.seed)  # Reproducible initial weights.
    strategy = make_strategy(args.strategy, args.tpu)
    if args.batch_size % strategy.num_replicas_in_sync:
        raise ValueError(f"--batch-size {args.batch_size} does not split "
                         f"evenly over {strategy.num_replicas_in_sync} "
                         f"replicas")
    choice = choose(args.precision, {
        tf.DeviceSpec.from_string(device).device_type
        for device in strategy.extended.worker_devices})
    print(choice, flush=True)
    return strategy, choice


def train(args, trainer, make_batches, precision, hooks=()):
    """Runs (or resumes) the training loop with the flags of `args`,
    recording the run's `precision` (a Choice)."""
    return run_training(
        trainer, make_batches, args.workdir, args.num_steps,
        checkpoint_every=args.checkpoint_every,
        summary_every=args.summary_every,
        max_to_keep=args.keep_checkpoints or None,
        hooks=[(every, hook) for every, hook in hooks if every > 0], steps_per_call=args.steps_per_call,
        batch_size=args.batch_size, notes={"precision": str(precision)})
