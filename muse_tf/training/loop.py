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
                 summary_every=50, max_to_keep=3, on_summary=None):
    """Runs `trainer.train_step` until the step counter reaches `num_steps`.

    Args:
      trainer: an object with `train_step(batch) -> {name: scalar}`, a
        `checkpoint` (tf.train.Checkpoint holding models and optimizers) and
        a `step` (int64 tf.Variable tracked by that checkpoint).
      dataset: an endless tf.data.Dataset of batches.
      workdir: directory for checkpoints and TensorBoard logs.
      num_steps: total steps of the run, counting resumed ones.
      checkpoint_every: steps between checkpoints.
      summary_every: steps between TensorBoard scalar summaries.
      max_to_keep: checkpoints kept on disk.
      on_summary: optional callback(step) for extra summaries (e.g. images),
        called inside the summary writer's context.

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
    iterator = iter(dataset)
    with writer.as_default(), tqdm.trange(
            start, num_steps, initial=start, total=num_steps,
            desc=type(trainer).__name__, dynamic_ncols=True) as progress:
        for step in progress:
            metrics = {k: float(v) for k, v in
                       trainer.train_step(next(iterator)).items()}
            bad = [k for k, v in metrics.items() if not math.isfinite(v)]
            if bad:
                raise NonFiniteLossError(
                    f"Non-finite {bad} at step {step}; stopping. The last "
                    f"good checkpoint is {manager.latest_checkpoint}.")
            done = step + 1
            if done % summary_every == 0 or done == num_steps:
                for name, value in metrics.items():
                    tf.summary.scalar(name, value, step=done)
                if on_summary is not None:
                    on_summary(done)
                progress.set_postfix({k: f"{v:.4f}"
                                      for k, v in metrics.items()})
            if done % checkpoint_every == 0 or done == num_steps:
                manager.save(checkpoint_number=done)
    writer.flush()
    return metrics
