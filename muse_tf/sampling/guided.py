"""Guided generation and editing loops over any masked transformer.

Both run the conditional and unconditional inputs as one doubled batch
(classifier-free guidance, Muse §3.4). The model is a `DecodesFromMemory`
transformer: `model.attention_memory(states, mask, *extra_inputs)` once per
call, then `model.logits_from_memory(tokens, memory)` every step. Extra
inputs condition both halves alike (the super-res model's low-res tokens),
so one loop serves the base, super-res and class-conditional models.

Dimensions: B batch, L image tokens, T condition tokens, V codebook.
"""

import math

import tensorflow as tf

from muse_tf.sampling.guidance import guidance_scale_at, guided_logits
from muse_tf.sampling.sampler import decode, sample_categorical


def _guided_logits_fn(model, text_states, text_mask, uncond_states,
                      uncond_mask, extra_inputs):
    """f(tokens [B, L], scale) -> guided float32 logits [B, L, V].

    The attention memory of both halves is computed here, once, outside
    the decoding loop: it does not depend on the image tokens.
    """
    memory = model.attention_memory(
        tf.concat([text_states, uncond_states], 0),
        tf.concat([text_mask, uncond_mask], 0),
        *[tf.concat([x, x], 0) for x in extra_inputs])

    def logits(tokens, scale):
        cond, uncond = tf.split(model.logits_from_memory(
            tf.concat([tokens, tokens], 0), memory), 2, axis=0)
        return guided_logits(cond, uncond, scale)

    return logits


def generate_tokens(model, sampler, start, text_states, text_mask,
                    uncond_states, uncond_mask, seed, guidance_scale,
                    num_steps, extra_inputs=()):
    """Parallel decoding of the [MASK] positions of `start`.

    Args:
      model: a masked transformer (see the module docstring).
      sampler: a SamplerConfig (schedule, temperatures, guidance schedule).
      start: int32 [B, L]; all [MASK] to generate, partly known to inpaint
        or outpaint (known tokens never change).
      text_states, uncond_states: float32 [B, T, D]; text_mask,
        uncond_mask: bool [B, T] (the prompt's, and the negative or empty
        prompt's).
      seed: int32 [2]. guidance_scale: float32 []. num_steps: int32 [].
      extra_inputs: tensors [B, ...] passed after the mask.

    Returns:
      int32 [B, L] token ids.
    """
    logits = _guided_logits_fn(model, text_states, text_mask, uncond_states,
                               uncond_mask, extra_inputs)

    def tokens_to_logits(tokens, step):
        return logits(tokens, guidance_scale_at(
            step, num_steps, guidance_scale, sampler.guidance_schedule))

    return decode(tokens_to_logits, start, seed, num_steps=num_steps,
                  mask_token_id=model.config.mask_token_id,
                  choice_temperature=sampler.choice_temperature,
                  temperature=sampler.temperature, schedule=sampler.schedule)


def edit_tokens(model, tokens, text_states, text_mask, uncond_states,
                uncond_mask, seed, guidance_scale, num_iterations,
                remask_ratio=0.08, top_k=3, temperature=1.0,
                extra_inputs=()):
    """Mask-free editing (Muse §3.3): `num_iterations` rounds of re-masking
    a random `remask_ratio` of the tokens and resampling them under the
    (new) prompt, with constant guidance and top-k sampling, so the image
    drifts toward the prompt while most of it stays.

    Args:
      tokens: int32 [B, L] tokens of the image to edit (no [MASK]).
      num_iterations: int32 []; 0 returns `tokens` unchanged.
      remask_ratio: share of positions resampled per round (Muse: 8%).
      top_k: sample among the k most likely tokens (Muse: 3; 0 = all).
      Other arguments as `generate_tokens`.

    Returns:
      int32 [B, L] edited tokens.
    """
    tokens = tf.convert_to_tensor(tokens, tf.int32)
    _, length = tokens.shape
    count = max(1, math.ceil(remask_ratio * length))
    scale = tf.cast(guidance_scale, tf.float32)
    logits_of = _guided_logits_fn(model, text_states, text_mask,
                                  uncond_states, uncond_mask, extra_inputs)
    mask_token_id = model.config.mask_token_id

    def body(iteration, current):
        mask_seed, sample_seed = tf.unstack(
            tf.random.experimental.stateless_split(
                tf.random.experimental.stateless_fold_in(seed, iteration), 2))
        batch = tf.shape(current)[0]
        # `count` distinct random positions per row: the ranks of uniform
        # scores (static shapes, unlike a top_k of dynamic size).
        scores = tf.random.stateless_uniform([batch, length], mask_seed)
        ranks = tf.argsort(tf.argsort(scores, axis=-1), axis=-1)
        remask = ranks < count
        logits = logits_of(tf.where(remask, mask_token_id, current), scale)
        logits = logits / temperature
        if top_k:
            kth = tf.math.top_k(logits, top_k).values[..., -1:]
            logits = tf.where(logits < kth, -math.inf, logits)
        sampled = sample_categorical(logits, sample_seed)
        return iteration + 1, tf.ensure_shape(
            tf.where(remask, sampled, current), tokens.shape)

    _, edited = tf.while_loop(lambda i, _: i < num_iterations, body,
                              (tf.constant(0), tokens))
    return edited
