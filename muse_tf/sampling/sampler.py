"""Iterative parallel decoding (MaskGIT §3.2, Algorithm; Muse §3.4).

Each step predicts every position in one forward pass, samples the masked
ones, and re-masks the least confident samples so that exactly
⌊γ((t+1)/T)·N⌋ positions stay masked (MaskGIT's clamp keeps at least one
masked until the end; the last step's samples are the output). Known
tokens never change. With the Halton order (Besnier et al., ICLR 2025),
the positions re-masked are instead the last of a fixed order of the grid
(`halton.py`), and the count may follow that paper's rule.

Built for XLA/TPU: every shape is static, randomness is stateless from an
explicit int32 [2] seed folded with the step, the loop is a tf.while_loop,
and the re-masking cut-off comes from ranks (argsort) rather than a
data-dependent top_k. The model enters as a `tokens_to_logits` closure, so
the loop knows nothing about text or guidance.

Dimensions: B batch, L image tokens, V codebook size.
"""

import math

import tensorflow as tf

from muse_tf.configs import (
    CHOICE_ANNEALINGS,
    CUTOFFS,
    MASK_COUNT_RULES,
    MASK_COUNTS_FROM,
    UNMASK_ORDERS,
)
from muse_tf.sampling.halton import halton_ranks
from muse_tf.sampling.mask_schedule import mask_ratio


def masked_count_after_step(step, num_steps, initial_masked, num_unknown,
                            schedule="cosine", rule="maskgit"):
    """How many positions stay masked after 0-based `step`: int32 [B].

    N is `initial_masked` (MaskGIT's count of the masked tokens; aMUSEd
    passes the sequence length instead). tests/sampling checks the counts
    against the official decodes'.

    rule "maskgit": ⌊γ((t+1)/T)·N⌋ masked, clamped as MaskGIT's
    `parallel_decode` does to max(1, min(unknown − 1, ·)): a step uncovers
    at least one token while more than one is masked, and keeps one masked
    otherwise (the last step's samples fill it).

    rule "halton" (Halton-MaskGIT's `HaltonSampler.__call__`): the
    uncovered count ⌊(1 − γ)·N⌋, at least t + 1 after step t (so a step
    may uncover none when γ is flat) and N after the last. Flooring the
    uncovered rather than the masked count leaves one more token masked
    after most steps than "maskgit".
    """
    progress = tf.cast(step + 1, tf.float32) / tf.cast(num_steps, tf.float32)
    total = tf.cast(initial_masked, tf.float32)
    ratio = mask_ratio(progress, schedule, total)
    if rule == "maskgit":
        count = tf.cast(tf.floor(total * ratio), tf.int32)
        return tf.maximum(1, tf.minimum(count, num_unknown - 1))
    if rule == "halton":
        uncovered = tf.maximum(
            tf.cast(tf.floor((1.0 - ratio) * total), tf.int32), step + 1)
        # mask_ratio's floor of 1e-6 (for training) would leave one token
        # masked after the last step, where the reference's γ(1) = 0.
        uncovered = tf.where(step + 1 >= num_steps, initial_masked, uncovered)
        return tf.clip_by_value(initial_masked - uncovered, 0, num_unknown)
    raise ValueError(f"Unknown mask count rule {rule!r}; expected one of "
                     f"{MASK_COUNT_RULES}")


def sample_categorical(logits, seed):
    """One index per row of float32 logits [..., V] (-inf allowed), drawn
    from softmax(logits) by inverse CDF: a single uniform per row against
    the cumulative probabilities, found in two levels.

    The same distribution as tf.random.stateless_categorical, which draws
    V random numbers per row; under XLA on CPU that draw took 16 of the 17
    ms of a sampling step at 4x256 tokens and 1,024 codes. A cumulative sum
    over all V codes was the next cost (at 8,192 codes, 58 ms of a bf16
    graph step, 39 under XLA), so the codes are cut into blocks of about
    √V: the uniform picks a block by the blocks' cumulative sums, then a
    code by the cumulative sum inside that block (12 and 7.5 ms; also
    shorter float32 sums, so less rounding than one V-long sum).
    Returns int32 [...].
    """
    codes = logits.shape[-1]
    block = 2 ** math.ceil(math.log2(math.sqrt(codes)))
    num_blocks = -(-codes // block)
    # Unnormalised probabilities; padding codes weigh 0.
    weights = tf.exp(logits - tf.reduce_max(logits, axis=-1, keepdims=True))
    rows = tf.shape(logits)[:-1]
    if num_blocks * block != codes:
        padding = tf.concat([rows, [num_blocks * block - codes]], axis=0)
        weights = tf.concat([weights, tf.zeros(padding)], axis=-1)
    blocks = tf.reshape(weights, tf.concat([rows, [num_blocks, block]], 0))
    block_sums = tf.reduce_sum(blocks, axis=-1)
    block_ends = tf.math.cumsum(block_sums, axis=-1)
    target = tf.random.stateless_uniform(
        tf.concat([rows, [1]], axis=0), seed) * block_ends[..., -1:]
    batch_dims = len(logits.shape) - 1
    chosen = _count_at_or_below(block_ends, target, num_blocks)
    within = tf.math.cumsum(
        tf.gather(blocks, chosen, batch_dims=batch_dims), axis=-1)
    block_start = tf.gather(block_ends - block_sums, chosen,
                            batch_dims=batch_dims)
    # The target's place inside the chosen block, kept below the block's
    # own total so that rounding never moves it onto a code of zero
    # probability after the block's last positive one.
    inside = tf.clip_by_value(target[..., 0] - block_start, 0.0,
                              within[..., -1] * (1.0 - 2.0**-23))
    index = chosen * block + _count_at_or_below(within, inside[..., None],
                                                block)
    return tf.minimum(index, codes - 1)


def _count_at_or_below(cumulative, target, size):
    """Index k where cumulative[k-1] <= target < cumulative[k]: the count
    of cumulative sums at or below the target (zero-weight entries add
    nothing to the sum, so they are never chosen), at most size − 1."""
    count = tf.reduce_sum(tf.cast(cumulative <= target, tf.int32), axis=-1)
    return tf.minimum(count, size - 1)


def choice_temperature_at(step, num_steps, choice_temperature,
                          annealing="maskgit"):
    """The Gumbel noise scale of 0-based `step`: float32 [].

    "maskgit": c·(1 − (t+1)/T), already below c at the first step and 0
    only after the last; "linspace": c·(1 − t/(T−1)), aMUSEd's
    `linspace(c, 0, T)[t]`, c at the first step and 0 at the last.
    """
    t = tf.cast(step, tf.float32)
    total = tf.cast(num_steps, tf.float32)
    if annealing == "maskgit":
        return choice_temperature * (1.0 - (t + 1.0) / total)
    if annealing == "linspace":
        return choice_temperature * (1.0 - t / tf.maximum(total - 1.0, 1.0))
    raise ValueError(f"Unknown choice annealing {annealing!r}; expected one "
                     f"of {CHOICE_ANNEALINGS}")


def sampler_step(tokens, logits, step, seed, *, num_steps, initial_masked,
                 mask_token_id, choice_temperature, temperature=1.0,
                 schedule="cosine", choice_annealing="maskgit",
                 cutoff="rank", unmask_order="confidence",
                 mask_count_rule="maskgit"):
    """Samples every masked slot, then re-masks the least confident ones
    (or the last in the Halton order).

    Args:
      tokens: int32 [B, L], `mask_token_id` where unknown.
      logits: float32 [B, L, V], already guided.
      step: int32 scalar, 0-based.
      seed: int32 [2] stateless seed of the whole decode.
      num_steps: T (int or int32 scalar).
      initial_masked: int32 [B], N: masked count before the first step.
      mask_token_id: the [MASK] id (= V).
      choice_temperature: scale of the Gumbel noise added to confidences,
        annealed linearly to 0 (MaskGIT uses 4.5, aMUSEd 2).
      temperature: sampling temperature for the token values; 0 takes the
        most likely token (greedy).
      schedule: mask schedule name.
      choice_annealing: how `choice_temperature` falls to 0, one of
        CHOICE_ANNEALINGS (`choice_temperature_at`).
      cutoff: which tokens are re-masked: "rank", exactly the scheduled
        count (ties broken by position), or "value", those below the
        count-th lowest confidence, as MaskGIT's and aMUSEd's code do
        (tied confidences then keep more tokens). The two differ only on
        ties, which Gumbel noise makes improbable; without noise (choice
        temperature 0, greedy decoding) positions that see the same inputs
        tie.
      unmask_order: "confidence" re-masks the least confident samples;
        "halton" those latest in the Halton order of the (square) grid,
        so the masked positions still to come are uncovered in that order
        whatever the model predicts (the choice temperature plays no part).
      mask_count_rule: one of MASK_COUNT_RULES
        (`masked_count_after_step`).

    Returns:
      (next_tokens, sampled), both int32 [B, L]. `sampled` has every
      position filled; `next_tokens` re-masks the least confident ones.
    """
    length = logits.shape[1]
    batch = tf.shape(logits)[0]
    step_seed = tf.random.experimental.stateless_fold_in(seed, step)
    sample_seed, gumbel_seed = tf.unstack(
        tf.random.experimental.stateless_split(step_seed, num=2))

    # float32: softmax and Gumbel ranking must not round under bf16.
    logits = tf.cast(logits, tf.float32)
    if temperature:
        logits = logits / temperature
        sampled = sample_categorical(logits, sample_seed)
    else:
        sampled = tf.argmax(logits, axis=-1, output_type=tf.int32)
    unknown = tf.equal(tokens, mask_token_id)
    sampled = tf.where(unknown, sampled, tokens)

    if unmask_order == "confidence":
        log_probs = tf.gather(tf.nn.log_softmax(logits), sampled,
                              batch_dims=2)
        uniform = tf.random.stateless_uniform(
            [batch, length], gumbel_seed, minval=1e-20, maxval=1.0)
        gumbel = -tf.math.log(-tf.math.log(uniform))
        confidence = log_probs + choice_temperature_at(
            step, num_steps, choice_temperature, choice_annealing) * gumbel
    elif unmask_order == "halton":
        # A constant "confidence" falling along the order: the cut-off
        # below then re-masks the latest positions still unknown. Ranks
        # are distinct, so "rank" and "value" cut-offs agree.
        confidence = tf.broadcast_to(
            -tf.constant(halton_ranks(length), tf.float32), [batch, length])
    else:
        raise ValueError(f"Unknown unmask order {unmask_order!r}; expected "
                         f"one of {UNMASK_ORDERS}")
    # Known tokens must never be re-masked, so their confidence is +inf
    # (not 1.0: a sampled token's log-probability can be 0 as well).
    confidence = tf.where(unknown, confidence, math.inf)

    num_unknown = tf.reduce_sum(tf.cast(unknown, tf.int32), axis=-1)
    mask_len = masked_count_after_step(step, num_steps, initial_masked,
                                       num_unknown, schedule, mask_count_rule)
    if cutoff == "rank":
        # Ties (e.g. log p = 0 for several tokens once the noise has
        # annealed) would make a value cut-off mask fewer than mask_len.
        # argsort is stable and static-shaped, so XLA compiles it. Only
        # unknown positions are re-masked (with none left, the clamp's one
        # would otherwise fall on a known token).
        ranks = tf.argsort(tf.argsort(confidence, axis=-1, stable=True),
                           axis=-1, stable=True)
        remask = (ranks < mask_len[:, None]) & unknown
    elif cutoff == "value":
        # The reference decoders': below the mask_len-th lowest confidence
        # (known tokens, at +inf, never are).
        lowest = tf.gather(tf.sort(confidence, axis=-1), mask_len[:, None],
                           batch_dims=1)
        remask = confidence < lowest
    else:
        raise ValueError(f"Unknown cutoff {cutoff!r}; expected one of "
                         f"{CUTOFFS}")
    return tf.where(remask, mask_token_id, sampled), sampled


def decode(tokens_to_logits, tokens, seed, *, num_steps, mask_token_id,
           choice_temperature=4.5, temperature=1.0, schedule="cosine",
           start_step=0, choice_annealing="maskgit",
           mask_count_from="masked", cutoff="rank",
           unmask_order="confidence", mask_count_rule="maskgit"):
    """Runs steps `start_step`.. `num_steps` − 1 of parallel decoding from
    `tokens`.

    Args:
      tokens_to_logits: f(tokens int32 [B, L], step int32) -> float32
        [B, L, V] guided logits.
      tokens: int32 [B, L] start tokens; all [MASK] to generate, partly
        known to inpaint.
      seed: int32 [2].
      num_steps: T, a Python int or an int32 scalar tensor (a serving
        input; the loop's trip count may be dynamic under XLA).
      mask_token_id, choice_temperature, temperature, schedule: see
        `sampler_step`.
      start_step: the first step (MaskGIT's box editing: 2 of 12); at most
        num_steps − 1, so at least one step runs.
      choice_annealing, cutoff, unmask_order, mask_count_rule: see
        `sampler_step`.
      mask_count_from: "masked" schedules the masked counts from the
        tokens masked at the start (MaskGIT), "length" from the sequence
        length (aMUSEd); the two differ only when inpainting.

    Returns:
      int32 [B, L] tokens with no [MASK] left (known tokens unchanged).
    """
    tokens = tf.convert_to_tensor(tokens, tf.int32)
    seed = tf.convert_to_tensor(seed, tf.int32)
    num_steps = tf.convert_to_tensor(num_steps, tf.int32)
    if mask_count_from == "masked":
        initial_masked = tf.reduce_sum(
            tf.cast(tf.equal(tokens, mask_token_id), tf.int32), axis=-1)
    elif mask_count_from == "length":
        initial_masked = tf.fill(tf.shape(tokens)[:1], tokens.shape[1])
    else:
        raise ValueError(f"Unknown mask_count_from {mask_count_from!r}; "
                         f"expected one of {MASK_COUNTS_FROM}")

    def body(step, current, _):
        logits = tokens_to_logits(current, step)
        current, sampled = sampler_step(
            current, logits, step, seed, num_steps=num_steps,
            initial_masked=initial_masked, mask_token_id=mask_token_id,
            choice_temperature=choice_temperature, temperature=temperature,
            schedule=schedule, choice_annealing=choice_annealing,
            cutoff=cutoff, unmask_order=unmask_order,
            mask_count_rule=mask_count_rule)
        # Keep the loop state's static shape whatever the closure's logits.
        return (step + 1, tf.ensure_shape(current, tokens.shape),
                tf.ensure_shape(sampled, tokens.shape))

    first = tf.minimum(tf.convert_to_tensor(start_step, tf.int32),
                       num_steps - 1)
    # One iteration at a time: each step needs the previous one's tokens,
    # and letting the graph executor start later iterations early only
    # runs their loop-invariant work ahead (the bf16 casts of every
    # weight), holding a copy per pending iteration.
    _, _, sampled = tf.while_loop(
        lambda step, *_: step < num_steps, body, (first, tokens, tokens),
        parallel_iterations=1)
    return sampled
