"""Classifier-free guidance with a scale that rises over the steps (Muse §3.4).

ℓ = (1 + s)·ℓ_cond − s·ℓ_uncond. Muse raises s linearly during sampling:
low guidance early keeps diversity, high guidance late sharpens the
prompt's details. With a negative prompt, ℓ_uncond comes from it instead of
the empty prompt.
"""

import tensorflow as tf


def guidance_scale_at(step, num_steps, guidance_scale, schedule="linear"):
    """The guidance scale used at 0-based `step` of `num_steps`.

    "linear" rises from guidance_scale/T at the first step to guidance_scale
    at the last; "constant" keeps it fixed; "none" (no guidance) is 0.
    """
    if schedule == "none":
        return tf.constant(0.0)
    scale = tf.cast(guidance_scale, tf.float32)
    if schedule == "constant":
        return scale
    if schedule == "linear":
        return scale * tf.cast(step + 1, tf.float32) / tf.cast(num_steps,
                                                               tf.float32)
    raise ValueError(f"Unknown guidance schedule {schedule!r}")


def guided_logits(cond_logits, uncond_logits, scale):
    """(1 + s)·cond − s·uncond, in float32."""
    cond_logits = tf.cast(cond_logits, tf.float32)
    uncond_logits = tf.cast(uncond_logits, tf.float32)
    return cond_logits + scale * (cond_logits - uncond_logits)
