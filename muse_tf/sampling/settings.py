"""The sampling settings of one request, as one structure.

A request's settings are its seed and, for each stage of the cascade, the
number of decoding steps and the guidance scale. They travel through the
pipeline's compiled functions and the SavedModel's signatures as one
`Settings` (tf.function takes nested structures), not as loose arguments.
Their defaults are the stages' `SamplerConfig`s and their rules are
`configs.StageInputs.rules`: `from_python` applies both for the Python API
(ValueError), `assertions` the same rules for a SavedModel request
(InvalidArgument).
"""

import operator
from typing import NamedTuple

import tensorflow as tf


class StageSettings(NamedTuple):
    num_steps: tf.Tensor  # int32 []
    guidance_scale: tf.Tensor  # float32 []


class Settings(NamedTuple):
    seed: tf.Tensor  # int32 [2]
    stages: tuple  # A StageSettings per stage of the cascade.


def seed_pair(seed):
    """int64 seed (scalar tensor) -> the int32 [2] seed the sampler takes.

    XLA's stateless RNG accepts only int32 seeds, so the 64 bits are split.
    """
    seed = tf.cast(seed, tf.int64)
    low = tf.cast(tf.bitwise.bitwise_and(seed, 0xFFFFFFFF), tf.uint32)
    high = tf.cast(tf.bitwise.right_shift(seed, 32), tf.uint32)
    return tf.bitcast(tf.stack([low, high]), tf.int32)


def stage_seed(seed, index):
    """Stage `index`'s int32 [2] seed, derived from the request's so one
    seed fixes the whole cascade (the base stage uses it as it is)."""
    if index == 0:
        return seed
    return tf.random.experimental.stateless_fold_in(seed, index)


def from_python(stages, seed=0, **given):
    """Checked Settings from Python values.

    Args:
      stages: the pipeline's stages (each with `inputs`, a
        configs.StageInputs, and `sampler`, its SamplerConfig).
      seed: integer.
      given: values by input name (`num_steps=12`,
        `super_res_guidance_scale=3.0`); None or missing takes the stage's
        default. A name no stage has is a ValueError.
    """
    check_names([stage.inputs for stage in stages], given)
    per_stage = []
    for stage in stages:
        steps = given.get(stage.inputs.num_steps)
        scale = given.get(stage.inputs.guidance_scale)
        steps = stage.sampler.num_steps if steps is None else steps
        scale = stage.sampler.guidance_scale if scale is None else scale
        stage.inputs.check(steps, scale, guided=stage.sampler.guided)
        per_stage.append(StageSettings(tf.constant(steps, tf.int32),
                                       tf.constant(scale, tf.float32)))
    return Settings(seed_pair(tf.constant(check_seed(seed), tf.int64)),
                    tuple(per_stage))


def check_names(stage_inputs, given):
    """ValueError if `given` names a setting (not None) that none of the
    stages' `StageInputs` has."""
    names = {name for inputs in stage_inputs
             for name in (inputs.num_steps, inputs.guidance_scale)}
    unknown = sorted(k for k, v in given.items()
                     if k not in names and v is not None)
    if unknown:
        raise ValueError(f"This model has no stage with {unknown}; its "
                         f"sampling settings are {sorted(names)}")


def check_seed(seed):
    """A Python or numpy integer seed as an int, or a ValueError."""
    try:
        return operator.index(seed)
    except TypeError:
        raise ValueError(f"seed must be an integer, got {seed!r}") from None


def assertions(stages, settings, max_steps):
    """tf.debugging checks of a request's Settings: the rules of
    `from_python`, with `max_steps` bounding each stage's steps."""
    checks = []
    for stage, values in zip(stages, settings.stages):
        for rule, value in zip(stage.inputs.rules(max_steps,
                                                  stage.sampler.guided),
                               values):
            checks.append(tf.debugging.Assert(rule.holds(value),
                                              [rule.message]))
    return checks
