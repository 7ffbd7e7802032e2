"""The whole generation pipeline as one SavedModel for TF Serving.

Prompt strings go in, PNG bytes come out: the SavedModel holds the tf-text
tokenizer (its vocabulary as an asset), the frozen text encoder, the
XLA-compiled decoding loop — the same compiled function the Python pipeline
runs, so a seed gives the same bytes in both — and the VQGAN decoder.

Signatures (optional inputs have defaults recorded in the SignatureDef, so
TF Serving and `tf.saved_model.load` fill them in):

  serving_default(prompt string [B], negative_prompt string [B] = [] (none),
                  seed int64 [] = 0, guidance_scale float32 [] = model's,
                  num_steps int32 [] = model's,
                  super_res_guidance_scale float32 [] = model's,
                  super_res_steps int32 [] = model's)
      -> image_bytes string [B] (PNG), tokens int32 [B, L]
  generate_tokens(same inputs) -> tokens int32 [B, L]
  decode_tokens(tokens int32 [B, L]) -> image_bytes string [B]

For a cascade the whole prompt -> base -> super-res -> high-res decoder
chain is the one compiled function the Python pipeline runs, and `tokens`
are the high-res tokens; a model without a super-res stage ignores the
super_res_* inputs.

  inpaint(image_bytes string [B] (PNG/JPEG, S x S), mask_bytes string [B]
          (PNG/JPEG, S x S, nonzero = regenerate), then the inputs of
          serving_default) -> image_bytes, tokens
  edit(image_bytes string [B], prompt, negative_prompt, seed,
       guidance_scale = 4.0, num_iterations int32 [] = 100,
       super_res_guidance_scale, super_res_steps) -> image_bytes, tokens
      (mask-free editing, Muse §3.3)

The `_bytes` suffix makes TF Serving's REST API return base64 (and take it). Bad input is
an InvalidArgument error from `tf.debugging` checks: an empty prompt batch,
a batch over `max_batch`, `num_steps` outside [1, max_steps], a NaN or
negative guidance scale, a negative prompt batch of another size; for the
editing signatures also an image or mask that is not a PNG/JPEG of the
model's size, an empty mask, and not one image per prompt. Prompts
longer than the tokenizer window are truncated to it (`TextConfig.
max_length` word pieces, [CLS] and [SEP] included).

Adding a signature is one method that returns a dict of tensors plus one
entry in `signatures()`.
"""

import os

import keras
import tensorflow as tf

import muse_tf
from muse_tf.pipeline import seed_pair

DEFAULT_MAX_BATCH = 16
DEFAULT_MAX_STEPS = 64
# Mask-free editing (Muse §3.3): 100 rounds at guidance 4 by default; the
# bound keeps a request from running for minutes.
EDIT_ITERATIONS = 100
EDIT_GUIDANCE_SCALE = 4.0
MAX_EDIT_ITERATIONS = 500


class ServingModuleBase(tf.Module):
    """What every exported pipeline shares: the variables it tracks, image
    decoding with checks, PNG encoding, saving."""

    def __init__(self, pipeline, max_batch, max_steps, name):
        super().__init__(name=name)
        self._track_only_what_serving_needs(pipeline)
        self.max_batch = int(max_batch)
        self.max_steps = int(max_steps)

    def _track_only_what_serving_needs(self, pipeline):
        """Makes the SavedModel own the raw tf.Variables (those behind the
        Keras weights, and plain ones such as a Hub encoder's) and the
        lookup tables (the tokenizer's vocabulary), not the Keras objects.

        Keras 3 wraps each tf.Variable in a keras.Variable. Saved through
        the Keras layers, the weights are restored by the TF2 loader but
        left uninitialised by TF1 loaders (TF Serving, Session.run,
        `saved_model_cli run`; keras-team/keras#20095); saved through both,
        they are written twice. So the pipeline is held untracked and its
        variables and resources are tracked directly, as Keras's own
        ExportArchive does.
        """
        object.__setattr__(self, "pipeline", pipeline)
        found = tf.train.TrackableView(pipeline).descendants()
        variables = {}
        for v in list(pipeline.weights) + found:
            if isinstance(v, keras.Variable):
                v = v.value
            if isinstance(v, tf.Variable):
                variables[id(v)] = v
        self._variables = list(variables.values())
        self._resources = [
            t for t in found
            if isinstance(t, tf.saved_model.experimental.TrackableResource)]

    def _decode_images(self, data, requests, what, channels):
        """PNG/JPEG bytes [B] -> uint8 [B, S, S, channels], one per entry
        of `requests` (prompts or class ids) and S x S pixels (the
        pipeline's size), or InvalidArgument."""
        size = self.pipeline.image_size

        def decode(one):
            png = tf.equal(tf.strings.substr(one, 0, 8), b"\x89PNG\r\n\x1a\n")
            jpeg = tf.equal(tf.strings.substr(one, 0, 3), b"\xff\xd8\xff")
            with tf.control_dependencies([tf.debugging.Assert(
                    tf.logical_or(png, jpeg),
                    [f"{what} is not a valid PNG or JPEG"])]):
                image = tf.io.decode_image(one, channels=channels,
                                           expand_animations=False)
            with tf.control_dependencies([tf.debugging.assert_equal(
                    tf.shape(image)[:2], [size, size],
                    message=f"{what} must be {size}x{size} pixels")]):
                # A no-op for images that pass the check, and a static
                # shape that cannot fail before the check's clear message.
                return tf.image.resize_with_crop_or_pad(image, size, size)

        with tf.control_dependencies([tf.debugging.assert_equal(
                tf.size(data), tf.size(requests),
                message=f"give one {what} per prompt or class id")]):
            return tf.map_fn(decode, tf.identity(data),
                             fn_output_signature=tf.TensorSpec(
                                 [size, size, channels], tf.uint8))

    def _png(self, tokens):
        images = self.pipeline.decode_final(tokens)
        return tf.map_fn(tf.io.encode_png, images,
                         fn_output_signature=tf.string)

    def save(self, out_dir):
        """Writes the SavedModel to `out_dir` (e.g. models/muse/1 for TF
        Serving's numbered versions)."""
        os.makedirs(os.path.dirname(os.path.abspath(out_dir)), exist_ok=True)
        tf.saved_model.save(self, out_dir, signatures=self.signatures())
        return out_dir


class MuseServingModule(ServingModuleBase):
    """Serving signatures around a `TextToImage` pipeline."""

    def __init__(self, pipeline, max_batch=DEFAULT_MAX_BATCH,
                 max_steps=DEFAULT_MAX_STEPS, name="muse_serving"):
        super().__init__(pipeline, max_batch, max_steps, name)
        config = pipeline.config
        sampler = config.sampler
        # The super-res stage's sampler (the base one's for a base model,
        # whose signature ignores it).
        sr_sampler = (config.super_res.sampler if config.super_res
                      else sampler)
        final = (config.super_res.transformer if config.super_res
                 else config.transformer)
        length = final.sequence_length
        prompt_specs = [
            tf.TensorSpec([None], tf.string, name="prompt"),
            tf.TensorSpec([None], tf.string, name="negative_prompt"),
            tf.TensorSpec([], tf.int64, name="seed"),
            tf.TensorSpec([], tf.float32, name="guidance_scale"),
            tf.TensorSpec([], tf.int32, name="num_steps"),
            tf.TensorSpec([], tf.float32, name="super_res_guidance_scale"),
            tf.TensorSpec([], tf.int32, name="super_res_steps"),
        ]
        defaults = {
            "negative_prompt": tf.constant([], tf.string),
            "seed": tf.constant(0, tf.int64),
            "guidance_scale": tf.constant(sampler.guidance_scale, tf.float32),
            "num_steps": tf.constant(sampler.num_steps, tf.int32),
            "super_res_guidance_scale": tf.constant(sr_sampler.guidance_scale,
                                                    tf.float32),
            "super_res_steps": tf.constant(sr_sampler.num_steps, tf.int32),
            "edit_guidance_scale": tf.constant(EDIT_GUIDANCE_SCALE),
            "num_iterations": tf.constant(EDIT_ITERATIONS)}

        # Tensor defaults on a tf.function with an input signature become
        # SignatureDef defaults (optional inputs for TF Serving).
        def serving_default(prompt, negative_prompt=defaults[
                "negative_prompt"], seed=defaults["seed"],
                guidance_scale=defaults["guidance_scale"],
                num_steps=defaults["num_steps"],
                super_res_guidance_scale=defaults["super_res_guidance_scale"],
                super_res_steps=defaults["super_res_steps"]):
            tokens = self._tokens(prompt, negative_prompt, seed,
                                  guidance_scale, num_steps,
                                  super_res_guidance_scale, super_res_steps)
            return {"image_bytes": self._png(tokens), "tokens": tokens}

        def generate_tokens(prompt, negative_prompt=defaults[
                "negative_prompt"], seed=defaults["seed"],
                guidance_scale=defaults["guidance_scale"],
                num_steps=defaults["num_steps"],
                super_res_guidance_scale=defaults["super_res_guidance_scale"],
                super_res_steps=defaults["super_res_steps"]):
            return {"tokens": self._tokens(
                prompt, negative_prompt, seed, guidance_scale, num_steps,
                super_res_guidance_scale, super_res_steps)}

        def decode_tokens(tokens):
            checks = [tf.debugging.assert_greater(
                tf.shape(tokens)[0], 0, message="tokens batch is empty")]
            codebook = final.codebook_size
            checks.append(tf.debugging.assert_non_negative(
                tokens, message="token ids must be >= 0"))
            checks.append(tf.debugging.assert_less(
                tokens, codebook,
                message=f"token ids must be < codebook size {codebook}"))
            with tf.control_dependencies(checks):
                return {"image_bytes": self._png(tf.identity(tokens))}

        def inpaint(image_bytes, mask_bytes, prompt, negative_prompt=defaults[
                "negative_prompt"], seed=defaults["seed"],
                guidance_scale=defaults["guidance_scale"],
                num_steps=defaults["num_steps"],
                super_res_guidance_scale=defaults["super_res_guidance_scale"],
                super_res_steps=defaults["super_res_steps"]):
            images = self._decode_images(image_bytes, prompt, "image", 3)
            masks = self._decode_images(mask_bytes, prompt, "mask", 1)[..., 0]
            checks = self._check_inputs(
                prompt, negative_prompt, guidance_scale, num_steps,
                super_res_guidance_scale, super_res_steps) + [
                tf.debugging.Assert(
                    tf.reduce_all(tf.reduce_any(masks > 0, axis=[1, 2])),
                    ["mask is empty: it selects no pixel to regenerate"])]
            tokens = pipeline._inpaint(
                images, masks, *self._text(prompt, negative_prompt, checks),
                seed_pair(seed), guidance_scale, num_steps,
                super_res_guidance_scale, super_res_steps)
            return {"image_bytes": self._png(tokens), "tokens": tokens}

        def edit(image_bytes, prompt, negative_prompt=defaults[
                "negative_prompt"], seed=defaults["seed"],
                guidance_scale=defaults["edit_guidance_scale"],
                num_iterations=defaults["num_iterations"],
                super_res_guidance_scale=defaults["super_res_guidance_scale"],
                super_res_steps=defaults["super_res_steps"]):
            images = self._decode_images(image_bytes, prompt, "image", 3)
            checks = self._check_inputs(
                prompt, negative_prompt, guidance_scale, 1,  # (no steps)
                super_res_guidance_scale, super_res_steps) + [
                tf.debugging.assert_non_negative(
                    num_iterations, message="num_iterations must be >= 0"),
                tf.debugging.assert_less_equal(
                    num_iterations, MAX_EDIT_ITERATIONS,
                    message=f"num_iterations must be <= "
                    f"{MAX_EDIT_ITERATIONS}")]
            tokens = pipeline._edit(
                images, *self._text(prompt, negative_prompt, checks),
                seed_pair(seed), guidance_scale, num_iterations,
                super_res_guidance_scale, super_res_steps)
            return {"image_bytes": self._png(tokens), "tokens": tokens}

        image_spec = tf.TensorSpec([None], tf.string, name="image_bytes")
        self.inpaint = tf.function(inpaint, input_signature=[
            image_spec, tf.TensorSpec([None], tf.string, name="mask_bytes"),
            *prompt_specs])
        self.edit = tf.function(edit, input_signature=[
            image_spec, *prompt_specs[:4],
            tf.TensorSpec([], tf.int32, name="num_iterations"),
            *prompt_specs[5:]])
        self.serving_default = tf.function(serving_default,
                                           input_signature=prompt_specs)
        self.generate_tokens = tf.function(generate_tokens,
                                           input_signature=prompt_specs)
        self.decode_tokens = tf.function(decode_tokens, input_signature=[
            tf.TensorSpec([None, length], tf.int32, name="tokens")])

    def _check_inputs(self, prompt, negative_prompt, guidance_scale,
                      num_steps, super_res_guidance_scale, super_res_steps):
        batch = tf.size(prompt)
        negatives = tf.size(negative_prompt)
        return [
            tf.debugging.assert_greater(batch, 0,
                                        message="prompt batch is empty"),
            tf.debugging.assert_less_equal(
                batch, self.max_batch,
                message=f"prompt batch is larger than {self.max_batch}"),
            tf.debugging.Assert(
                tf.logical_or(tf.equal(negatives, 0),
                              tf.equal(negatives, batch)),
                [("negative_prompt must be empty or have one entry per "
                 "prompt; sizes:"), negatives, batch]),
        ] + [check for name, steps, scale in (
            ("", num_steps, guidance_scale),
            ("super_res_", super_res_steps, super_res_guidance_scale))
            for check in (
            tf.debugging.assert_greater_equal(
                steps, 1, message=f"{name or 'num_'}steps must be >= 1"),
            tf.debugging.assert_less_equal(
                steps, self.max_steps,
                message=f"{name or 'num_'}steps must be <= {self.max_steps}"),
            tf.debugging.assert_all_finite(
                scale, message=f"{name}guidance_scale must be finite"),
            tf.debugging.assert_greater_equal(
                scale, 0.0, message=f"{name}guidance_scale must be >= 0"))]

    def _text(self, prompt, negative_prompt, checks):
        """(states, mask, uncond states, uncond mask) of the prompts and
        the negative (or empty) prompts, after `checks`."""
        with tf.control_dependencies(checks):
            batch = tf.size(prompt)
            negative_prompt = tf.cond(
                tf.equal(tf.size(negative_prompt), 0),
                lambda: tf.fill([batch], ""), lambda: negative_prompt)
            states, mask = self.pipeline.text_encoder(
                tf.concat([prompt, negative_prompt], 0))
        cond_states, uncond_states = tf.split(states, 2)
        cond_mask, uncond_mask = tf.split(mask, 2)
        return cond_states, cond_mask, uncond_states, uncond_mask

    def _tokens(self, prompt, negative_prompt, seed, guidance_scale,
                num_steps, super_res_guidance_scale, super_res_steps):
        checks = self._check_inputs(prompt, negative_prompt, guidance_scale,
                                    num_steps, super_res_guidance_scale,
                                    super_res_steps)
        return self.pipeline._cascade(
            *self._text(prompt, negative_prompt, checks), seed_pair(seed),
            guidance_scale, num_steps, super_res_guidance_scale,
            super_res_steps)

    def signatures(self):
        return {"serving_default": self.serving_default,
                "generate_tokens": self.generate_tokens,
                "decode_tokens": self.decode_tokens,
                "inpaint": self.inpaint,
                "edit": self.edit}



class ClassServingModule(ServingModuleBase):
    """Signatures of a class-conditional model (`ClassToImage`):

      serving_default(class_id int32 [B], seed int64 [] = 0,
                      guidance_scale float32 [] = model's,
                      num_steps int32 [] = model's)
          -> image_bytes string [B] (PNG), tokens int32 [B, L]
      inpaint(image_bytes string [B], mask_bytes string [B], then the
              inputs above) -> image_bytes, tokens
          (class-conditional editing, MaskGIT §4.3)

    A class id outside [0, num_classes) is an InvalidArgument error.
    """

    def __init__(self, pipeline, max_batch=DEFAULT_MAX_BATCH,
                 max_steps=DEFAULT_MAX_STEPS, name="class_serving"):
        super().__init__(pipeline, max_batch, max_steps, name)
        sampler = pipeline.config.sampler
        specs = [tf.TensorSpec([None], tf.int32, name="class_id"),
                 tf.TensorSpec([], tf.int64, name="seed"),
                 tf.TensorSpec([], tf.float32, name="guidance_scale"),
                 tf.TensorSpec([], tf.int32, name="num_steps")]
        seed0 = tf.constant(0, tf.int64)
        scale0 = tf.constant(sampler.guidance_scale, tf.float32)
        steps0 = tf.constant(sampler.num_steps, tf.int32)

        def serving_default(class_id, seed=seed0, guidance_scale=scale0,
                            num_steps=steps0):
            with tf.control_dependencies(self._check_inputs(
                    class_id, guidance_scale, num_steps)):
                tokens = pipeline._generate(
                    tf.identity(class_id), seed_pair(seed), guidance_scale,
                    num_steps)
            return {"image_bytes": self._png(tokens), "tokens": tokens}

        def inpaint(image_bytes, mask_bytes, class_id, seed=seed0,
                    guidance_scale=scale0, num_steps=steps0):
            images = self._decode_images(image_bytes, class_id, "image", 3)
            masks = self._decode_images(mask_bytes, class_id, "mask",
                                        1)[..., 0]
            checks = self._check_inputs(class_id, guidance_scale,
                                        num_steps) + [tf.debugging.Assert(
                tf.reduce_all(tf.reduce_any(masks > 0, axis=[1, 2])),
                ["mask is empty: it selects no pixel to regenerate"])]
            with tf.control_dependencies(checks):
                tokens = pipeline._inpaint(
                    images, masks, tf.identity(class_id), seed_pair(seed),
                    guidance_scale, num_steps)
            return {"image_bytes": self._png(tokens), "tokens": tokens}

        self.serving_default = tf.function(serving_default,
                                           input_signature=specs)
        self.inpaint = tf.function(inpaint, input_signature=[
            tf.TensorSpec([None], tf.string, name="image_bytes"),
            tf.TensorSpec([None], tf.string, name="mask_bytes"), *specs])

    def _check_inputs(self, class_id, guidance_scale, num_steps):
        num_classes = self.pipeline.config.num_classes
        batch = tf.size(class_id)
        return [
            tf.debugging.assert_greater(batch, 0,
                                        message="class_id batch is empty"),
            tf.debugging.assert_less_equal(
                batch, self.max_batch,
                message=f"class_id batch is larger than {self.max_batch}"),
            tf.debugging.assert_non_negative(
                class_id, message="class_id must be >= 0"),
            tf.debugging.assert_less(
                class_id, num_classes,
                message=f"class_id must be < {num_classes}, the number of "
                "classes"),
            tf.debugging.assert_greater_equal(
                num_steps, 1, message="num_steps must be >= 1"),
            tf.debugging.assert_less_equal(
                num_steps, self.max_steps,
                message=f"num_steps must be <= {self.max_steps}"),
            tf.debugging.assert_all_finite(
                guidance_scale, message="guidance_scale must be finite"),
            tf.debugging.assert_greater_equal(
                guidance_scale, 0.0, message="guidance_scale must be >= 0"),
        ]

    def signatures(self):
        return {"serving_default": self.serving_default,
                "inpaint": self.inpaint}


def export(model, out_dir, max_batch=DEFAULT_MAX_BATCH,
           max_steps=DEFAULT_MAX_STEPS):
    """Exports a bundled model name, a model directory (text-to-image or
    class-conditional), or a `TextToImage` / `ClassToImage` pipeline."""
    from muse_tf.class_pipeline import ClassToImage

    if isinstance(model, str):
        model = muse_tf.load_pipeline(model)
    module = (ClassServingModule if isinstance(model, ClassToImage)
              else MuseServingModule)
    return module(model, max_batch, max_steps).save(out_dir)
