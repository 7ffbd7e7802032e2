"""The checkpointed training loop shared by every model kind.

A run lives in a work directory: `checkpoints/` (tf.train.CheckpointManager)
and `logs/` (TensorBoard). Restarting with the same work directory resumes
from the latest checkpoint (and prints that it does, with the step), so a
killed run loses at most one checkpoint interval. A non-finite loss stops
the run before anything is saved, so the last good checkpoint stays intact.
"""

import math
import os
import time

import tensorflow as tf
import tqdm


def checkpoint_dir(workdir):
    """Where a run in `workdir` keeps its checkpoints."""
    return os.path.join(workdir, "checkpoints")


class NonFiniteLossError(RuntimeError):
    """Raised when a training loss becomes NaN or Inf."""


def run_training(trainer, make_batches, workdir, num_steps,
                 checkpoint_every=500, summary_every=50, max_to_keep=3,
                 hooks=(), steps_per_call=1, batch_size=None, notes=None):
    """Trains until the trainer's step counter reaches `num_steps`.

    Args:
      trainer: a `ReplicatedTrainer` (`distribute(dataset)`,
        `train_steps(iterator, n) -> {name: scalar}`) with a `checkpoint`
        (tf.train.Checkpoint holding models and optimizers) and a `step`
        (int64 tf.Variable tracked by that checkpoint).
      make_batches: `fn(start_step) -> tf.data.Dataset`, the endless
        stream of global batches from step `start_step` on (see
        `muse_tf.data.stream`); called after the restore, so a resumed run
        continues where the data stopped.
      workdir: directory for checkpoints and TensorBoard logs.
      num_steps: total steps of the run, counting resumed ones.
      checkpoint_every: steps between checkpoints.
      summary_every: steps between TensorBoard scalar summaries (the
        metrics, the learning rate, steps/s and examples/s).
      max_to_keep: checkpoints kept on disk (None keeps all, e.g. for the
        offline EMA).
      hooks: (every_n_steps, fn(step)) pairs for extra summaries such as
        sample grids; each fn runs inside the summary writer's context.
      steps_per_call: train steps per graph call (fewer host round trips;
        calls stop at summary, hook and checkpoint steps).
      batch_size: the global batch size, for the examples/s summary.
      notes: {name: text} recorded once per (re)start as TensorBoard text
        at the starting step, e.g. the precision the run computes in.

    Returns:
      The last step's metrics as Python floats.
    """
    manager = tf.train.CheckpointManager(
        trainer.checkpoint, checkpoint_dir(workdir),
        max_to_keep=max_to_keep)
    if manager.latest_checkpoint:
        trainer.checkpoint.restore(manager.latest_checkpoint)
    writer = tf.summary.create_file_writer(os.path.join(workdir, "logs"))
    start = int(trainer.step.numpy())
    if manager.latest_checkpoint:
        print(f"resuming {workdir} from step {start} "
              f"({manager.latest_checkpoint})", flush=True)
    else:
        print(f"starting {workdir} at step {start}: no checkpoint in "
              f"{manager.directory} yet", flush=True)
    periods = [summary_every, checkpoint_every] + [n for n, _ in hooks]
    metrics = {}
    iterator = iter(trainer.distribute(make_batches(start)))
    with writer.as_default(), tqdm.tqdm(
            initial=start, total=num_steps, desc=type(trainer).__name__,
            dynamic_ncols=True) as progress:
        for name, text in (notes or {}).items():
            tf.summary.text(name, text, step=start)
        step = start
        # Throughput counts training only: neither summaries, hooks and
        # saves, nor the first call, which compiles the step.
        timed_steps, train_seconds, compiled = 0, 0.0, False
        while step < num_steps:
            boundary = min([num_steps] + [(step // n + 1) * n
                                          for n in periods])
            calls = min(steps_per_call, boundary - step)
            started = time.perf_counter()
            metrics = {k: float(v) for k, v in
                       trainer.train_steps(iterator, calls).items()}
            if compiled:
                train_seconds += time.perf_counter() - started
                timed_steps += calls
            compiled = True
            step += calls
            progress.update(calls)
            bad = [k for k, v in metrics.items() if not math.isfinite(v)]
            if bad:
                raise NonFiniteLossError(
                    f"Non-finite {bad} at step {step}; stopping. The last "
                    f"good checkpoint is {manager.latest_checkpoint}.")
            if step % summary_every == 0 or step == num_steps:
                if timed_steps:
                    steps_per_second = timed_steps / train_seconds
                    timed_steps, train_seconds = 0, 0.0
                    metrics["throughput/steps_per_second"] = steps_per_second
                    if batch_size:
                        metrics["throughput/examples_per_second"] = (
                            steps_per_second * batch_size)
                for name, value in metrics.items():
                    tf.summary.scalar(name, value, step=step)
                progress.set_postfix({k: f"{v:.4g}"
                                      for k, v in metrics.items()})
            for every, hook in hooks:
                if step % every == 0 or step == num_steps:
                    hook(step)
            if step % checkpoint_every == 0 or step == num_steps:
                manager.save(checkpoint_number=step)
    writer.flush()
    return metrics
