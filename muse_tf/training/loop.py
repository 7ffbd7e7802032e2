"""The checkpointed training loop shared by every model kind.

A run lives in a work directory: `checkpoints/` (tf.train.CheckpointManager)
and `logs/` (TensorBoard). Restarting with the same work directory resumes
from the latest checkpoint, so a killed run loses at most one checkpoint
interval. A non-finite loss stops the run before anything is saved, so the
last good checkpoint stays intact.
"""

import math
import os

import tensorflow as tf
import tqdm


class NonFiniteLossError(RuntimeError):
    """Raised when a training loss becomes NaN or Inf."""


def run_training(trainer, dataset, workdir, num_steps, checkpoint_every=500,
                 summary_every=50, max_to_keep=3, on_summary=None,
                 steps_per_call=1):
    """Trains until the trainer's step counter reaches `num_steps`.

    Args:
      trainer: a `ReplicatedTrainer` (`distribute(dataset)`,
        `train_steps(iterator, n) -> {name: scalar}`) with a `checkpoint`
        (tf.train.Checkpoint holding models and optimizers) and a `step`
        (int64 tf.Variable tracked by that checkpoint).
      dataset: an endless tf.data.Dataset of global batches.
      workdir: directory for checkpoints and TensorBoard logs.
      num_steps: total steps of the run, counting resumed ones.
      checkpoint_every: steps between checkpoints.
      summary_every: steps between TensorBoard scalar summaries.
      max_to_keep: checkpoints kept on disk.
      on_summary: optional callback(step) for extra summaries (e.g. images),
        called inside the summary writer's context.
      steps_per_call: train steps per graph call (fewer host round trips;
        calls stop at summary and checkpoint steps).

    Returns:
      The last step's metrics as Python floats.
    """
    manager = tf.train.CheckpointManager(
        trainer.checkpoint, os.path.join(workdir, "checkpoints"),
        max_to_keep=max_to_keep)
    if manager.latest_checkpoint:
        trainer.checkpoint.restore(manager.latest_checkpoint)
    writer = tf.summary.create_file_writer(os.path.join(workdir, "logs"))
    start = int(trainer.step.numpy())
    metrics = {}
    iterator = iter(trainer.distribute(dataset))
    with writer.as_default(), tqdm.tqdm(
            initial=start, total=num_steps, desc=type(trainer).__name__,
            dynamic_ncols=True) as progress:
        step = start
        while step < num_steps:
            boundary = min(num_steps,
                           (step // summary_every + 1) * summary_every,
                           (step // checkpoint_every + 1) * checkpoint_every)
            calls = min(steps_per_call, boundary - step)
            metrics = {k: float(v) for k, v in
                       trainer.train_steps(iterator, calls).items()}
            step += calls
            progress.update(calls)
            bad = [k for k, v in metrics.items() if not math.isfinite(v)]
            if bad:
                raise NonFiniteLossError(
                    f"Non-finite {bad} at step {step}; stopping. The last "
                    f"good checkpoint is {manager.latest_checkpoint}.")
            if step % summary_every == 0 or step == num_steps:
                for name, value in metrics.items():
                    tf.summary.scalar(name, value, step=step)
                if on_summary is not None:
                    on_summary(step)
                progress.set_postfix({k: f"{v:.4f}"
                                      for k, v in metrics.items()})
            if step % checkpoint_every == 0 or step == num_steps:
                manager.save(checkpoint_number=step)
    writer.flush()
    return metrics
