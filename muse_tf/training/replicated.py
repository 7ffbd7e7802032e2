"""The parts of a train step that make it the same on one device or many.

A trainer computes, on each replica, the gradient of its share of the
global loss, all-reduces it together with its metrics in one
`all_reduce_sum` call (one call, so every replica issues its collectives in
the same order), then `apply_reduced_gradient` clips the global gradient
and updates the weights. Keras optimizers all-reduce (sum) the gradient
they are given and clip it per replica before that, which would make
clipping depend on the replica count; they get the clipped global gradient
divided by the replica count instead, so their sum is that gradient exactly
(for a power-of-two replica count). The price is a second all-reduce per
step.
"""

import tensorflow as tf


def apply_reduced_gradient(optimizer, grads, variables, schedule,
                           clip_norm=None):
    """Applies an all-reduced (global) gradient, clipped per variable.

    Args:
      optimizer: a built Keras optimizer created under the strategy, with a
        float learning rate (a variable).
      grads: the global gradient (the same on every replica).
      variables: the variables it belongs to.
      schedule: a Keras LearningRateSchedule, evaluated once per step into
        the optimizer's learning-rate variable. (Given to the optimizer
        itself, it would be evaluated again for each variable's update:
        AdamW's weight decay reads it per variable, and each reading traces
        the warm-up cond again, about a quarter of a trainer's tracing.)
      clip_norm: clip each variable's gradient to this norm (what Keras's
        `clipnorm` does, but after the all-reduce).

    Returns:
      The learning rate of this step (for the step's metrics).
    """
    learning_rate = schedule(optimizer.iterations)
    optimizer.learning_rate = learning_rate
    if clip_norm is not None:
        grads = [tf.clip_by_norm(g, clip_norm) for g in grads]
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    optimizer.apply([g / replicas for g in grads], variables)
    return learning_rate


def all_reduce_sum(values):
    """Sums a tensor (or nest of tensors) over the replicas."""
    return tf.distribute.get_replica_context().all_reduce(
        tf.distribute.ReduceOp.SUM, values)


def replica_rows(local_batch):
    """(first row of this replica in the global batch, global batch size),
    for a global batch split evenly and in order across the replicas."""
    context = tf.distribute.get_replica_context()
    return (context.replica_id_in_sync_group * local_batch,
            local_batch * context.num_replicas_in_sync)


def first_replica(strategy, metrics):
    """{name: value of the first local replica} of `strategy.run` results;
    the metrics are all-reduced, so every replica holds the same values."""
    return {k: strategy.experimental_local_results(v)[0]
            for k, v in metrics.items()}


class ReplicatedTrainer:
    """Runs a subclass's `_replica_step(batch) -> {name: float32 scalar}`
    under `self.strategy`, several steps per graph call. The subclass names
    its metrics in METRICS: the step loop carries them from step to step,
    so the step is traced once (tracing it a second time for the last
    step's metrics doubled the start-up: graph building and optimizing
    the Keras optimizer's per-variable updates cost more than the first
    steps themselves)."""

    METRICS = ()

    def _build_step_loop(self):
        self._train_steps = tf.function(self._steps)

    def _steps(self, iterator, num_steps):
        metrics = {name: tf.constant(0.0) for name in self.METRICS}
        for _ in tf.range(num_steps):
            metrics = first_replica(self.strategy, self.strategy.run(
                self._replica_step, args=(next(iterator),)))
        return metrics

    def distribute(self, dataset):
        """A dataset of global batches, split across the replicas."""
        return self.strategy.experimental_distribute_dataset(dataset)

    def train_steps(self, iterator, num_steps=1):
        """Runs `num_steps` steps in one graph call on batches from
        `iterator` (of `distribute(dataset)`); returns the last metrics."""
        return self._train_steps(iterator, tf.constant(num_steps, tf.int32))
