"""Mask schedules γ and training-time masking (MaskGIT §3.2-3.3, Table 3).

γ(r) is the fraction of image tokens still masked once a fraction r of
decoding is done. The same function draws the training masking rate
r = γ(u), u ~ U[0, 1), so training masks match what the sampler later asks
the model to fill in. The formulas follow MaskGIT's `mask_schedule.py`,
including its log and exp forms, which depend on the token count N, and
add Halton-MaskGIT's arccos (`Utils/masking_scheduler.py`; its decoding
schedule, docs/design.md §5).

Everything is float32, as in the reference: 16·cos(π/3) floors to 7 in
float32 but 8 in float64, and decoding counts must match the reference.
"""

import math

import tensorflow as tf

from muse_tf.configs import SCHEDULES


def mask_ratio(progress, schedule="cosine", total_tokens=None):
    """γ(progress), clipped to [1e-6, 1].

    Args:
      progress: float in [0, 1] (any shape): t/T when sampling, U[0, 1)
        when training.
      schedule: one of SCHEDULES.
      total_tokens: N, needed by "log" and "exp".

    Returns:
      float32 tensor of the shape of `progress`. The floor of 1e-6 keeps a
      training example from ever having zero masked targets.
    """
    r = tf.cast(progress, tf.float32)
    if schedule == "cosine":
        ratio = tf.cos(0.5 * math.pi * r)
    elif schedule == "linear":
        ratio = 1.0 - r
    elif schedule == "square":
        ratio = 1.0 - tf.square(r)
    elif schedule == "cubic":
        ratio = 1.0 - r**3
    elif schedule == "sqrt":
        ratio = 1.0 - tf.sqrt(r)
    elif schedule == "arccos":
        # Divided by π/2 as a float32 constant, as the reference computes
        # it: decoding counts floor this, so the rounding must match.
        ratio = tf.acos(r) / (0.5 * math.pi)
    elif schedule in ("log", "exp"):
        if total_tokens is None:
            raise ValueError(f"the {schedule!r} schedule needs total_tokens")
        log_n = tf.math.log(tf.cast(total_tokens, tf.float32)) / math.log(2.0)
        if schedule == "log":
            ratio = -(tf.math.log(r) / math.log(2.0)) / log_n
        else:
            ratio = 1.0 - tf.pow(2.0, -log_n * (1.0 - r))
    else:
        raise ValueError(f"Unknown mask schedule {schedule!r}; expected one "
                         f"of {SCHEDULES}")
    return tf.clip_by_value(ratio, 1e-6, 1.0)


def sample_mask_rate(batch_size, seed, schedule="cosine", total_tokens=None):
    """Training masking rates r = γ(u), u ~ U[0, 1): float32 [B].

    For the cosine schedule r = cos(π/2·u) has mean 2/π ≈ 0.64.
    """
    u = tf.random.stateless_uniform([batch_size], seed)
    return mask_ratio(u, schedule, total_tokens)


def random_mask(batch_size, length, rates, seed):
    """Masks ⌈r·L⌉ positions per example, chosen uniformly at random.

    Args:
      batch_size, length: B and L.
      rates: float32 [B] masking rates in (0, 1].
      seed: int32 [2] stateless seed.

    Returns:
      bool [B, L], True at masked positions; exactly ⌈r_b·L⌉ per row.
    """
    scores = tf.random.stateless_uniform([batch_size, length], seed)
    num_masked = tf.cast(tf.math.ceil(rates * length), tf.int32)
    # Rank of each position in a random order: the first num_masked ranks
    # are masked, so every row gets its exact count with static shapes.
    ranks = tf.argsort(tf.argsort(scores, axis=-1), axis=-1)
    return ranks < num_masked[:, None]
