"""Guided generation and editing loops over any masked transformer.

Both run the condition and its unconditional twin (`conditioning.py`) as
one doubled batch (classifier-free guidance, Muse §3.4), or the condition
alone for a sampler without guidance (`SamplerConfig.guided`). The model is a
`DecodesFromMemory` transformer: `model.attention_memory(states, mask,
[pooled,] *extra_inputs)` once per call, then
`model.logits_from_memory(tokens, memory)` every step. Extra inputs condition both halves alike (the
super-res model's low-res tokens), so one loop serves the base, super-res
and class-conditional models.

Dimensions: B batch, L image tokens, T condition tokens, V codebook.
"""

import math

import tensorflow as tf

from muse_tf.conditioning import concat
from muse_tf.configs import EDIT
from muse_tf.sampling.guidance import guidance_scale_at, guided_logits
from muse_tf.sampling.sampler import decode, sample_categorical


def _guided_logits_fn(model, condition, uncondition, extra_inputs,
                      guided=True):
    """f(tokens [B, L], scale) -> guided float32 logits [B, L, V].

    The attention memory of both halves is computed here, once, outside
    the decoding loop: it does not depend on the image tokens. Unguided
    (`guided=False`), only the condition runs and the scale is not used.
    """
    if not guided:
        memory = model.attention_memory(*condition.model_inputs(),
                                        *extra_inputs)
        return lambda tokens, scale: model.logits_from_memory(tokens, memory)
    both = concat(condition, uncondition)
    memory = model.attention_memory(
        *both.model_inputs(), *[tf.concat([x, x], 0) for x in extra_inputs])

    def logits(tokens, scale):
        cond, uncond = tf.split(model.logits_from_memory(
            tf.concat([tokens, tokens], 0), memory), 2, axis=0)
        return guided_logits(cond, uncond, scale)

    return logits


def generate_tokens(model, sampler, start, condition, uncondition, seed,
                    settings, extra_inputs=(), start_step=0):
    """Parallel decoding of the [MASK] positions of `start`.

    Args:
      model: a masked transformer (see the module docstring).
      sampler: a SamplerConfig (schedule, temperatures, guidance schedule).
      start: int32 [B, L]; all [MASK] to generate, partly known to inpaint
        or outpaint (known tokens never change).
      condition, uncondition: Conditions [B, ...] (the request's, and the
        negative or null one guidance pushes away from).
      seed: int32 [2].
      settings: a StageSettings (num_steps int32 [], guidance_scale
        float32 []).
      extra_inputs: tensors [B, ...] passed after the mask.
      start_step: the decoding step to start from (`sampler.decode`).

    Returns:
      int32 [B, L] token ids.
    """
    logits = _guided_logits_fn(model, condition, uncondition, extra_inputs,
                               sampler.guided)

    def tokens_to_logits(tokens, step):
        return logits(tokens, guidance_scale_at(
            step, settings.num_steps, settings.guidance_scale,
            sampler.guidance_schedule))

    return decode(tokens_to_logits, start, seed, num_steps=settings.num_steps,
                  mask_token_id=model.config.mask_token_id,
                  choice_temperature=sampler.choice_temperature,
                  temperature=sampler.temperature, schedule=sampler.schedule,
                  start_step=start_step,
                  choice_annealing=sampler.choice_annealing,
                  mask_count_from=sampler.mask_count_from,
                  cutoff=sampler.cutoff, unmask_order=sampler.unmask_order,
                  mask_count_rule=sampler.mask_count_rule)


def edit_tokens(model, tokens, condition, uncondition, seed, guidance_scale,
                num_iterations, edit=EDIT, temperature=1.0, extra_inputs=(),
                guided=True):
    """Mask-free editing (Muse §3.3): `num_iterations` rounds of re-masking
    a random `edit.remask_ratio` of the tokens and resampling them under
    the (new) condition, with constant guidance and top-k sampling, so the
    image drifts toward the condition while most of it stays.

    Args:
      tokens: int32 [B, L] tokens of the image to edit (no [MASK]).
      num_iterations: int32 []; 0 returns `tokens` unchanged.
      edit: an EditConfig (the share re-masked per round, Muse: 8%; top-k,
        Muse: 3, 0 = all).
      guided: False for a model decoded without guidance (the scale is
        then not used).
      Other arguments as `generate_tokens`.

    Returns:
      int32 [B, L] edited tokens.
    """
    tokens = tf.convert_to_tensor(tokens, tf.int32)
    _, length = tokens.shape
    count = max(1, math.ceil(edit.remask_ratio * length))
    top_k = edit.top_k
    scale = tf.cast(guidance_scale, tf.float32)
    logits_of = _guided_logits_fn(model, condition, uncondition,
                                  extra_inputs, guided)
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

    # Sequential like the sampler's loop (see there for why).
    _, edited = tf.while_loop(lambda i, _: i < num_iterations, body,
                              (tf.constant(0), tokens), parallel_iterations=1)
    return edited
