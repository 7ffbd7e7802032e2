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

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="muse_tf")
class OncePerStep(keras.optimizers.schedules.LearningRateSchedule):
    """A learning-rate schedule evaluated once per step.

    Keras evaluates an optimizer's schedule each time it reads the learning
    rate: AdamW's weight decay reads it for every variable, and each reading
    traced the warm-up cond again (about a quarter of a trainer's tracing).
    `apply_reduced_gradient` evaluates `schedule` once into `value`, which
    the optimizer then reads. `value` belongs to this object, not to the
    optimizer: a float learning rate would add a variable to the
    optimizer's checkpointed list and shift every slot's position, so
    checkpoints written with a plain schedule would no longer restore.
    Create it under the strategy's scope, like the optimizer.
    """

    def __init__(self, schedule):
        self.schedule = schedule
        self.value = tf.Variable(
            0.0, trainable=False, name="learning_rate",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def __call__(self, step):
        del step  # The value was set for this step.
        return tf.identity(self.value)

    def update(self, step):
        """Evaluates the schedule at `step` into `value`; returns it."""
        learning_rate = self.schedule(step)
        self.value.assign(learning_rate)
        return learning_rate

    def get_config(self):
        return {"schedule": keras.optimizers.schedules.serialize(
            self.schedule)}

    @classmethod
    def from_config(cls, config):
        return cls(keras.optimizers.schedules.deserialize(config["schedule"]))


def apply_reduced_gradient(optimizer, grads, variables, learning_rate,
                           clip_norm=None):
    """Applies an all-reduced (global) gradient, clipped per variable.

    Args:
      optimizer: a built Keras optimizer created under the strategy.
      grads: the global gradient (the same on every replica).
      variables: the variables it belongs to.
      learning_rate: the optimizer's `OncePerStep` learning rate.
      clip_norm: clip each variable's gradient to this norm (what Keras's
        `clipnorm` does, but after the all-reduce).

    Returns:
      The learning rate of this step (for the step's metrics).
    """
    rate = learning_rate.update(optimizer.iterations)
    if clip_norm is not None:
        grads = [tf.clip_by_norm(g, clip_norm) for g in grads]
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    optimizer.apply([g / replicas for g in grads], variables)
    return rate


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
