"""TextToImage: prompts -> text states -> parallel decoding -> pixels.

The Python face of a trained model (MUSE_NOTES §1): the frozen text encoder
runs in a graph function (tf-text tokenization is string work that XLA
cannot compile); token generation and the VQGAN decoders each run as one
XLA-compiled function. Guidance runs the conditional and unconditional
inputs as one doubled batch; the unconditional text is the negative prompt,
or the empty prompt when there is none.

A cascade (a config with `super_res`, Muse §2.3) generates base tokens,
then the super-res transformer generates the high-res tokens conditioned
on them and the text, and the high-res VQGAN decodes those. Both stages run
in one compiled function, so the SavedModel's signature is the same graph.

A model directory holds `config.json` (a `ModelConfig`),
`transformer.weights.h5` and `vqgan.weights.h5`, and for a cascade
`super_res.weights.h5` and `high_res_vqgan.weights.h5` (plus, once
fine-tuned, `high_res_vqgan_large_decoder.weights.h5`); the text encoder's
weights come from its own package.
"""

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf

from muse_tf import editing
from muse_tf.configs import (
    ModelConfig,
    check_guidance_scale,
    check_num_steps,
    replace_sampler,
)
from muse_tf.data.pipeline import downsample, to_model_range, to_uint8
from muse_tf.models.super_res import MuseSuperRes
from muse_tf.models.transformer import MuseTransformer
from muse_tf.models.vqgan import VQGAN
from muse_tf.presets import BUNDLED_MODELS, DEFAULT_MODEL
from muse_tf.sampling.guided import edit_tokens, generate_tokens
from muse_tf.text.encoder import build_text_encoder


def seed_pair(seed):
    """int64 seed (scalar tensor) -> the int32 [2] seed the sampler takes.

    XLA's stateless RNG accepts only int32 seeds, so the 64 bits are split.
    """
    seed = tf.cast(seed, tf.int64)
    low = tf.cast(tf.bitwise.bitwise_and(seed, 0xFFFFFFFF), tf.uint32)
    high = tf.cast(tf.bitwise.right_shift(seed, 32), tf.uint32)
    return tf.bitcast(tf.stack([low, high]), tf.int32)


def check_prompts(prompts, what="prompts"):
    """A non-empty list of strings, or a ValueError naming the problem."""
    if isinstance(prompts, str):
        prompts = [prompts]
    prompts = list(prompts)
    if not prompts:
        raise ValueError(f"{what} must be a non-empty list of strings")
    bad = [p for p in prompts if not isinstance(p, str)]
    if bad:
        raise ValueError(f"{what} must be strings, got {bad[:3]!r}")
    return prompts


# Model directory files of each part.
WEIGHT_FILES = {"transformer": "transformer.weights.h5",
                "vqgan": "vqgan.weights.h5",
                "super_res": "super_res.weights.h5",
                "high_res_vqgan": "high_res_vqgan.weights.h5",
                "large_decoder": "high_res_vqgan_large_decoder.weights.h5"}
DECODERS = ("base", "large")


def super_res_seed(seed):
    """The super-res stage's int32 [2] seed, derived from the base stage's
    so one user seed fixes the whole cascade."""
    return tf.random.experimental.stateless_fold_in(seed, 1)


class TextToImage(tf.Module):
    """A trained Muse model: `pipe(["a prompt"], seed=0)` -> images.

    With a super-res stage, images come out at the high resolution."""

    def __init__(self, config: ModelConfig, transformer=None, vqgan=None,
                 text_encoder=None, super_res=None, high_res_vqgan=None,
                 name="text_to_image"):
        super().__init__(name=name)
        self.config = config
        self.transformer = transformer or MuseTransformer(
            config.transformer, name="transformer")
        self.vqgan = vqgan or VQGAN(config.vqgan, name="vqgan")
        self.text_encoder = text_encoder or build_text_encoder(config.text)
        self._encode_text = tf.function(self.text_encoder.__call__)
        self._generate = tf.function(self.generate_tokens, jit_compile=True)
        self._decode = tf.function(self.decode_tokens, jit_compile=True)
        self.super_res = self.high_res_vqgan = None
        if config.super_res is not None:
            self.super_res = super_res or MuseSuperRes(
                config.super_res.transformer, name="super_res")
            self.high_res_vqgan = high_res_vqgan or VQGAN(
                config.super_res.vqgan, name="high_res_vqgan")
            self._super_resolve = tf.function(self.super_resolve_graph,
                                              jit_compile=True)
            self._decode_high_res = tf.function(self.decode_high_res_tokens,
                                                jit_compile=True)
        self._cascade = tf.function(self.cascade_tokens, jit_compile=True)
        self._encode = tf.function(self.encode_images, jit_compile=True)
        self._inpaint = tf.function(self.inpaint_graph, jit_compile=True)
        self._outpaint = tf.function(self.outpaint_graph, jit_compile=True)
        self._edit = tf.function(self.edit_graph, jit_compile=True)

    @property
    def is_cascade(self):
        return self.super_res is not None

    # === Loading and saving ===

    @classmethod
    def from_pretrained(cls, name_or_dir=DEFAULT_MODEL, stages=None,
                        decoder="base"):
        """A bundled model by name (see BUNDLED_MODELS) or a model dir.

        stages: "all", or "base" to leave out a cascade's super-res stage
          (default: "all" for a directory, the bundled model's own stages
          for a name).
        decoder: the high-res VQGAN decoder of a cascade: "base", or
          "large" (Muse's fine-tuned larger decoder, where the directory
          has one).
        """
        model_dir, bundled_stages = BUNDLED_MODELS.get(
            name_or_dir, (name_or_dir, "all"))
        stages = stages or bundled_stages
        config_path = os.path.join(model_dir, "config.json")
        if not os.path.exists(config_path):
            raise ValueError(
                f"Unknown model {name_or_dir!r}: not a bundled model "
                f"({sorted(BUNDLED_MODELS)}) nor a directory with config.json")
        if stages not in ("all", "base"):
            raise ValueError(f"stages must be 'all' or 'base', got "
                             f"{stages!r}")
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got "
                             f"{decoder!r}")
        with open(config_path) as f:
            config = ModelConfig.from_dict(json.load(f))
        if stages == "base":
            config = dataclasses.replace(config, super_res=None)
        parts = {}
        if config.super_res is not None:
            high_res, weights = config.super_res.vqgan, "high_res_vqgan"
            if decoder == "large":
                high_res = config.super_res.large_decoder_vqgan
                weights = "large_decoder"
                if high_res is None or not os.path.exists(
                        os.path.join(model_dir, WEIGHT_FILES[weights])):
                    raise ValueError(f"{model_dir} has no large decoder")
            parts["high_res_vqgan"] = VQGAN(high_res, name="high_res_vqgan")
        pipe = cls(config, **parts)
        pipe.transformer.load_weights(
            os.path.join(model_dir, WEIGHT_FILES["transformer"]))
        pipe.vqgan.load_weights(os.path.join(model_dir, WEIGHT_FILES["vqgan"]))
        if pipe.is_cascade:
            pipe.super_res.load_weights(
                os.path.join(model_dir, WEIGHT_FILES["super_res"]))
            pipe.high_res_vqgan.load_weights(
                os.path.join(model_dir, WEIGHT_FILES[weights]))
        return pipe

    def with_sampler(self, **changes):
        """The same model (weights shared, nothing copied) decoding its base
        stage with other sampler settings, e.g. `schedule="linear"` or
        `guidance_schedule="constant"` (the papers' decoding ablations)."""
        return type(self)(replace_sampler(self.config, **changes),
                          self.transformer, self.vqgan,
                          self.text_encoder, self.super_res,
                          self.high_res_vqgan)

    def save(self, model_dir):
        """Writes config.json and every stage's weights to `model_dir`."""
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, "config.json"), "w") as f:
            json.dump(self.config.to_dict(), f, indent=2)
        self.transformer.save_weights(
            os.path.join(model_dir, WEIGHT_FILES["transformer"]))
        self.vqgan.save_weights(os.path.join(model_dir, WEIGHT_FILES["vqgan"]))
        if self.is_cascade:
            self.super_res.save_weights(
                os.path.join(model_dir, WEIGHT_FILES["super_res"]))
            weights = ("high_res_vqgan" if self.high_res_vqgan.config
                       == self.config.super_res.vqgan else "large_decoder")
            self.high_res_vqgan.save_weights(
                os.path.join(model_dir, WEIGHT_FILES[weights]))

    @property
    def weights(self):
        """Every weight: transformers, VQGANs and frozen text encoder."""
        models = [self.transformer, self.vqgan]
        if self.is_cascade:
            models += [self.super_res, self.high_res_vqgan]
        return ([w for m in models for w in m.weights]
                + list(self.text_encoder.weights))

    # === Graph functions (also what the SavedModel exports) ===

    def generate_tokens(self, text_states, text_mask, uncond_states,
                        uncond_mask, seed, guidance_scale, num_steps,
                        start=None):
        """Base tokens int32 [B, L] by guided parallel decoding of the
        [MASK]s of `start` (default: all masked)."""
        c = self.config.transformer
        if start is None:
            start = tf.fill([tf.shape(text_states)[0], c.sequence_length],
                            c.mask_token_id)
        return generate_tokens(self.transformer, self.config.sampler, start,
                               text_states, text_mask, uncond_states,
                               uncond_mask, seed, guidance_scale, num_steps)

    def super_resolve_graph(self, low_res_tokens, text_states, text_mask,
                            uncond_states, uncond_mask, seed, guidance_scale,
                            num_steps, start=None):
        """High-res tokens int32 [B, L'] for base tokens [B, L], by guided
        decoding of the [MASK]s of `start` (default: all masked)."""
        c = self.config.super_res.transformer
        if start is None:
            start = tf.fill([tf.shape(low_res_tokens)[0], c.sequence_length],
                            c.mask_token_id)
        return generate_tokens(
            self.super_res, self.config.super_res.sampler, start,
            text_states, text_mask, uncond_states, uncond_mask, seed,
            guidance_scale, num_steps, extra_inputs=(low_res_tokens,))

    def cascade_tokens(self, text_states, text_mask, uncond_states,
                       uncond_mask, seed, guidance_scale, num_steps,
                       super_res_guidance_scale, super_res_steps):
        """Every stage in one graph: the final tokens (high-res for a
        cascade) int32 [B, L_final]."""
        tokens = self.generate_tokens(text_states, text_mask, uncond_states,
                                      uncond_mask, seed, guidance_scale,
                                      num_steps)
        if not self.is_cascade:
            return tokens
        return self.super_resolve_graph(
            tokens, text_states, text_mask, uncond_states, uncond_mask,
            super_res_seed(seed), super_res_guidance_scale, super_res_steps)

    def encode_images(self, images):
        """uint8 images [B, S, S, 3] at the final size -> (base tokens
        [B, L], high-res tokens [B, L'] for a cascade): the image is
        area-downsampled to the base VQGAN's size first."""
        images = to_model_range(images)
        low = downsample(images, self.config.vqgan.image_size)
        sides = self._sides()
        base = tf.reshape(self.vqgan.encode(low), [-1, sides[0] ** 2])
        if not self.is_cascade:
            return (base,)
        return base, tf.reshape(self.high_res_vqgan.encode(images),
                                [-1, sides[1] ** 2])

    def decode_tokens(self, tokens):
        """Base token ids int32 [B, L] -> uint8 images [B, H, W, 3]."""
        side = self.config.transformer.image_tokens_per_side
        return to_uint8(self.vqgan.decode(tf.reshape(tokens,
                                                     [-1, side, side])))

    def decode_high_res_tokens(self, tokens):
        """High-res token ids int32 [B, L'] -> uint8 images."""
        side = self.config.super_res.transformer.image_tokens_per_side
        return to_uint8(self.high_res_vqgan.decode(
            tf.reshape(tokens, [-1, side, side])))

    @property
    def image_size(self):
        """Pixels per side of the images this pipeline makes."""
        if self.is_cascade:
            return self.config.super_res.vqgan.image_size
        return self.config.vqgan.image_size

    def decode_final(self, tokens):
        """The last stage's tokens -> uint8 images (compiled)."""
        if self.is_cascade:
            return self._decode_high_res(tokens)
        return self._decode(tokens)

    # === Python API ===

    def encode_prompts(self, prompts, negative_prompts=None):
        """Checked prompts -> (states, mask, uncond_states, uncond_mask)."""
        prompts = check_prompts(prompts)
        if negative_prompts is None:
            negative_prompts = [""] * len(prompts)
        negative_prompts = check_prompts(negative_prompts, "negative_prompts")
        if len(negative_prompts) != len(prompts):
            raise ValueError(
                f"negative_prompts has {len(negative_prompts)} entries for "
                f"{len(prompts)} prompts")
        states, mask = self._encode_text(
            tf.constant(prompts + negative_prompts))
        n = len(prompts)
        return states[:n], mask[:n], states[n:], mask[n:]

    def sampling_inputs(self, seed, num_steps, guidance_scale, stage="base"):
        """Checked (seed int32 [2], guidance float32 [], steps int32 [])
        with the stage's defaults filled in (a model without super-res
        gets the base sampler's, which it ignores)."""
        sampler = (self.config.super_res.sampler
                   if stage == "super_res" and self.is_cascade
                   else self.config.sampler)
        num_steps = sampler.num_steps if num_steps is None else num_steps
        guidance_scale = (sampler.guidance_scale if guidance_scale is None
                          else guidance_scale)
        check_num_steps(num_steps)
        check_guidance_scale(guidance_scale)
        return (seed_pair(tf.constant(int(seed), tf.int64)),
                tf.constant(guidance_scale, tf.float32),
                tf.constant(num_steps, tf.int32))

    def tokens(self, prompts, negative_prompts=None, seed=0, num_steps=None,
               guidance_scale=None, super_res_steps=None,
               super_res_guidance_scale=None):
        """The final stage's token ids, int32 numpy [B, L] (high-res for a
        cascade). Arguments as __call__."""
        text = self.encode_prompts(prompts, negative_prompts)
        seed, scale, steps = self.sampling_inputs(seed, num_steps,
                                                  guidance_scale)
        _, sr_scale, sr_steps = self.sampling_inputs(
            0, super_res_steps, super_res_guidance_scale, "super_res")
        # The SavedModel's compiled function too, so both give the same
        # tokens for a seed.
        return self._cascade(*text, seed, scale, steps, sr_scale,
                             sr_steps).numpy()

    def super_resolve_tokens(self, low_res_tokens, text_states, text_mask,
                             seed=0, num_steps=None, guidance_scale=None):
        """High-res tokens for given base tokens and text states (guided
        away from the empty prompt): int32 [B, L']."""
        null_states, null_mask = self._encode_text(tf.constant([""]))
        batch = tf.shape(low_res_tokens)[0]
        seed, scale, steps = self.sampling_inputs(
            seed, num_steps, guidance_scale, "super_res")
        return self._super_resolve(
            tf.convert_to_tensor(low_res_tokens, tf.int32), text_states,
            text_mask, tf.repeat(null_states, batch, 0),
            tf.repeat(null_mask, batch, 0), super_res_seed(seed), scale,
            steps)

    def __call__(self, prompts, negative_prompts=None, seed=0, num_steps=None,
                 guidance_scale=None, super_res_steps=None,
                 super_res_guidance_scale=None):
        """Generates one image per prompt.

        Args:
          prompts: a string or a non-empty list of strings.
          negative_prompts: optional list, one per prompt; guidance pushes
            away from it instead of from the empty prompt.
          seed: integer; the same seed gives the same images.
          num_steps: base decoding steps (default from the model's config).
          guidance_scale: base stage's final classifier-free guidance
            scale >= 0.
          super_res_steps, super_res_guidance_scale: the same for the
            super-res stage of a cascade.

        Returns:
          uint8 numpy images [B, H, W, 3] (the high resolution for a
          cascade).
        """
        tokens = self.tokens(prompts, negative_prompts, seed, num_steps,
                             guidance_scale, super_res_steps,
                             super_res_guidance_scale)
        return self.decode_final(tf.constant(tokens)).numpy()

    # === Editing (muse_tf/editing.py) ===
    # Graph functions, compiled once each and shared with the SavedModel.

    def fill_in_graph(self, starts, text_states, text_mask, uncond_states,
                      uncond_mask, seed, guidance_scale, num_steps,
                      super_res_guidance_scale, super_res_steps):
        """Generates the [MASK]s of each stage's start tokens: the base
        stage's, then (a cascade) the super-res stage's conditioned on the
        result. starts: (base int32 [B, L], high-res [B, L'] or None for
        all-masked). Returns the final stage's tokens."""
        base = self.generate_tokens(text_states, text_mask, uncond_states,
                                    uncond_mask, seed, guidance_scale,
                                    num_steps, starts[0])
        if not self.is_cascade:
            return base
        return self.super_resolve_graph(
            base, text_states, text_mask, uncond_states, uncond_mask,
            super_res_seed(seed), super_res_guidance_scale, super_res_steps,
            starts[1])

    def _mask_ids(self):
        ids = [self.config.transformer.mask_token_id]
        if self.is_cascade:
            ids.append(self.config.super_res.transformer.mask_token_id)
        return ids

    def _sides(self):
        sides = [self.config.transformer.image_tokens_per_side]
        if self.is_cascade:
            sides.append(self.config.super_res.transformer
                         .image_tokens_per_side)
        return sides

    def inpaint_graph(self, images, masks, *sampling):
        """uint8 images [B, S, S, 3], pixel masks [B, S, S] -> the final
        stage's tokens, every token whose cell the mask touches
        regenerated, at each scale (Muse's multi-scale inpainting).
        `sampling`: the arguments of `fill_in_graph` after `starts`."""
        starts = [tf.where(editing.token_mask(masks, side), mask_id, tokens)
                  for tokens, side, mask_id in zip(
                      self.encode_images(images), self._sides(),
                      self._mask_ids())]
        return self.fill_in_graph(starts, *sampling)

    def outpaint_graph(self, images, direction, fraction, *sampling):
        """uint8 images [B, S, S, 3] -> the final stage's tokens with the
        image moved away from `direction` by `fraction` of its side (whole
        base tokens) and the uncovered strip generated."""
        sides = self._sides()
        amount = max(1, round(fraction * sides[0]))
        starts = [editing.outpaint_tokens(tokens, side,
                                          direction, amount * side // sides[0],
                                          mask_id)
                  for tokens, side, mask_id in zip(
                      self.encode_images(images), sides, self._mask_ids())]
        return self.fill_in_graph(starts, *sampling)

    def edit_graph(self, images, text_states, text_mask, uncond_states,
                   uncond_mask, seed, guidance_scale, num_iterations,
                   super_res_guidance_scale, super_res_steps):
        """Mask-free editing of uint8 images [B, S, S, 3]: the base tokens
        drift toward the text (`sampling.guided.edit_tokens`); a cascade
        then makes the high-res tokens afresh. Returns the final tokens."""
        base = edit_tokens(self.transformer, self.encode_images(images)[0],
                           text_states, text_mask, uncond_states,
                           uncond_mask, seed, guidance_scale, num_iterations)
        if not self.is_cascade:
            return base
        return self.super_resolve_graph(
            base, text_states, text_mask, uncond_states, uncond_mask,
            super_res_seed(seed), super_res_guidance_scale, super_res_steps)

    # Python editing API.

    def _editing_inputs(self, image, prompts, negative_prompts, seed,
                        num_steps, guidance_scale, super_res_steps,
                        super_res_guidance_scale):
        """(images uint8 [B, S, S, 3], text..., seed, scale, steps,
        super-res scale, super-res steps), checked."""
        text = self.encode_prompts(prompts, negative_prompts)
        image = editing.load_image(image)
        editing.check_image_size(image, self.image_size)
        images = tf.constant(np.repeat(image[None], len(text[0]), 0))
        seed, scale, steps = self.sampling_inputs(seed, num_steps,
                                                  guidance_scale)
        _, sr_scale, sr_steps = self.sampling_inputs(
            0, super_res_steps, super_res_guidance_scale, "super_res")
        return images, (*text, seed, scale, steps, sr_scale, sr_steps)

    def inpaint_tokens(self, image, mask, prompts, negative_prompts=None,
                       seed=0, num_steps=None, guidance_scale=None,
                       super_res_steps=None, super_res_guidance_scale=None):
        """The final stage's tokens (numpy int32 [B, L]) of `inpaint`."""
        images, sampling = self._editing_inputs(
            image, prompts, negative_prompts, seed, num_steps,
            guidance_scale, super_res_steps, super_res_guidance_scale)
        masks = tf.repeat(editing.check_mask(mask, self.image_size)[None],
                          images.shape[0], 0)
        return self._inpaint(images, masks, *sampling).numpy()

    def inpaint(self, image, mask, prompts, negative_prompts=None, seed=0,
                num_steps=None, guidance_scale=None, super_res_steps=None,
                super_res_guidance_scale=None):
        """Regenerates the masked region of an image for each prompt.

        Args:
          image: uint8 [S, S, 3] array, or PNG/JPEG bytes or path, at the
            pipeline's `image_size`.
          mask: [S, S] array or PNG; nonzero pixels are regenerated (every
            token whose cell they touch).
          Other arguments as __call__.

        Returns:
          uint8 numpy images [B, S, S, 3].
        """
        return self.decode_final(tf.constant(self.inpaint_tokens(
            image, mask, prompts, negative_prompts, seed, num_steps,
            guidance_scale, super_res_steps,
            super_res_guidance_scale))).numpy()

    def outpaint_tokens(self, image, prompts, direction="right",
                        fraction=0.25, negative_prompts=None, seed=0,
                        num_steps=None, guidance_scale=None,
                        super_res_steps=None, super_res_guidance_scale=None):
        """The final stage's tokens (numpy int32 [B, L]) of `outpaint`."""
        editing.check_outpaint(direction, fraction)
        images, sampling = self._editing_inputs(
            image, prompts, negative_prompts, seed, num_steps,
            guidance_scale, super_res_steps, super_res_guidance_scale)
        return self._outpaint(images, direction, float(fraction),
                              *sampling).numpy()

    def outpaint(self, image, prompts, direction="right", fraction=0.25,
                 negative_prompts=None, seed=0, num_steps=None,
                 guidance_scale=None, super_res_steps=None,
                 super_res_guidance_scale=None):
        """Extends an image toward `direction` ("left", "right", "up",
        "down") by `fraction` of its side: the image moves over by that
        much (whole tokens) and the uncovered strip is generated for each
        prompt. Other arguments as `inpaint`. Returns uint8 [B, S, S, 3]."""
        return self.decode_final(tf.constant(self.outpaint_tokens(
            image, prompts, direction, fraction, negative_prompts, seed,
            num_steps, guidance_scale, super_res_steps,
            super_res_guidance_scale))).numpy()

    def edit_tokens(self, image, prompts, num_iterations=100,
                    negative_prompts=None, seed=0, guidance_scale=4.0,
                    super_res_steps=None, super_res_guidance_scale=None):
        """The final stage's tokens (numpy int32 [B, L]) of `edit`."""
        if isinstance(num_iterations, bool) or not isinstance(
                num_iterations, int) or num_iterations < 0:
            raise ValueError(f"num_iterations must be an integer >= 0, got "
                             f"{num_iterations!r}")
        images, (*text, seed, scale, _, sr_scale, sr_steps) = (
            self._editing_inputs(image, prompts, negative_prompts, seed,
                                 None, guidance_scale, super_res_steps,
                                 super_res_guidance_scale))
        return self._edit(images, *text, seed, scale,
                          tf.constant(num_iterations, tf.int32), sr_scale,
                          sr_steps).numpy()

    def edit(self, image, prompts, num_iterations=100, negative_prompts=None,
             seed=0, guidance_scale=4.0, super_res_steps=None,
             super_res_guidance_scale=None):
        """Mask-free editing (Muse §3.3): `num_iterations` rounds of
        re-masking a random 8% of the image's base tokens and resampling
        them (top-3, constant guidance `guidance_scale`) under each prompt;
        a cascade then makes the high-res tokens for the result. Muse's
        defaults: 100 rounds, guidance 4. Returns uint8 [B, S, S, 3]."""
        return self.decode_final(tf.constant(self.edit_tokens(
            image, prompts, num_iterations, negative_prompts, seed,
            guidance_scale, super_res_steps,
            super_res_guidance_scale))).numpy()
