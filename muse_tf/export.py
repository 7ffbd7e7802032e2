"""The whole generation pipeline as one SavedModel for TF Serving.

Conditions go in (prompt strings, or class ids), PNG bytes come out: the
SavedModel holds the conditioner (the tf-text tokenizer with its vocabulary
as an asset and the frozen text encoder, or the class embedding), the
compiled decoding of every stage — the same compiled function the
Python pipeline runs, so in fp32 a seed gives the same bytes — and the last
VQGAN's decoder. One serving module serves every model: the conditioner
names the condition input (`prompt` / `class_id`) and the stages name their
sampling inputs (`configs.StageInputs`).

Signatures (optional inputs have defaults recorded in the SignatureDef, so
TF Serving and `muse_tf.load` fill them in):

  serving_default(prompt string [B] | class_id int32 [B],
                  negative_prompt | negative_class_id [B] = [] (none: the
                      empty prompt / the null class),
                  seed int64 [] = 0,
                  num_steps int32 [] = model's, guidance_scale float32 [] =
                      model's (the base stage),
                  super_res_steps, super_res_guidance_scale (a cascade's
                      second stage))
      -> image_bytes string [B] (PNG), tokens int32 [B, L] (the last
         stage's)
  generate_tokens(same inputs) -> tokens
  decode_tokens(tokens int32 [B, L]) -> image_bytes
  inpaint(image_bytes string [B] (PNG/JPEG, S x S), mask_bytes string [B]
          (PNG/JPEG, S x S, nonzero = regenerate), then the inputs of
          serving_default) -> image_bytes, tokens
  edit(image_bytes string [B], the condition inputs, seed,
       guidance_scale = 4.0 (0 for a model decoded without guidance),
       num_iterations int32 [] = 100, the later stages' inputs)
      -> image_bytes, tokens (mask-free editing, Muse §3.3)

The `_bytes` suffix makes TF Serving's REST API return base64 (and take
it). Bad input is an InvalidArgument error naming the problem, from the
rules the Python API checks too (`configs.StageInputs.rules`): an empty
batch, a batch over `max_batch`, steps outside [1, max_steps], a NaN or
negative guidance scale (any but 0 for a model decoded without guidance,
which takes no negative condition either), a negative condition batch of
another size, a class id outside the model's classes, token ids outside the codebook; for
the editing signatures also an image or mask that is not a PNG/JPEG of the
model's size, an empty mask, and not one image per condition. Prompts
longer than the tokenizer window are truncated to it (`TextConfig.
max_length` word pieces, [CLS] and [SEP] included).

A model exported in bf16 (`precision.py`; `--precision auto` picks it
on a machine that multiplies bf16 natively) also carries every signature
as a float32 twin, `<name>_fp32` (e.g. `serving_default_fp32`), over the
same float32 weights: a machine without bf16, where bf16 runs 4 to 6 times
slower, serves those (name the signature in the request; `muse_tf.load`
picks the twins by itself there). The SavedModel's `precision` variable
records the precision of its unsuffixed signatures.

Adding a signature is one method that returns a dict of tensors plus one
entry in `signatures()`.
"""

import inspect
import os

import keras
import tensorflow as tf

import muse_tf
from muse_tf.configs import EDIT, MAX_BATCH, MAX_STEPS
from muse_tf.pipeline import MusePipeline
from muse_tf.sampling import settings as sampling_settings
from muse_tf.sampling.settings import Settings, StageSettings


def _signature_function(inputs, body):
    """A Python function of named tensor inputs, for tf.function.

    inputs: [(name, TensorSpec, default tensor or None)]; body:
    fn(**{name: tensor}) -> {output name: tensor}. Tensor defaults on a
    tf.function with an input signature become SignatureDef defaults
    (optional inputs for TF Serving); the parameter list is built from the
    model's conditioner and stages, so one module serves every model.
    """
    parameters = [inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=inspect.Parameter.empty if default is None else default)
        for name, _, default in inputs]
    signature = inspect.Signature(parameters)

    def function(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return body(**bound.arguments)

    function.__signature__ = signature
    return tf.function(function,
                       input_signature=[spec for _, spec, _ in inputs])


class ServingModule(tf.Module):
    """Serving signatures around a `MusePipeline`."""

    def __init__(self, pipeline, max_batch=MAX_BATCH, max_steps=MAX_STEPS,
                 name="muse_serving"):
        super().__init__(name=name)
        self._track_only_what_serving_needs(pipeline)
        self.max_batch = int(max_batch)
        self.max_steps = int(max_steps)
        self.precision = tf.Variable(pipeline.precision.name,
                                     trainable=False)
        # Untracked: the twin's functions capture this module's variables.
        object.__setattr__(self, "fp32_twin", None)
        if pipeline.precision.name != "fp32":
            object.__setattr__(self, "fp32_twin", ServingModule(
                MusePipeline(pipeline.config, pipeline.components,
                             pipeline.conditioner, precision="fp32"),
                max_batch, max_steps))
        conditioner = pipeline.conditioner
        self.condition_name = conditioner.input_name
        self.negative_name = f"negative_{conditioner.input_name}"
        if conditioner.input_name == "class_id":
            # What `muse_tf.load` maps class names with.
            self.class_names = tf.Variable(list(conditioner.class_names),
                                           trainable=False)

        def spec(name, dtype, shape=()):
            return tf.TensorSpec(shape, dtype, name=name)

        condition = [
            (self.condition_name, spec(self.condition_name,
                                       conditioner.dtype, [None]), None),
            (self.negative_name, spec(self.negative_name, conditioner.dtype,
                                      [None]),
             tf.constant([], conditioner.dtype)),
            ("seed", spec("seed", tf.int64), tf.constant(0, tf.int64))]
        stage_inputs = []
        for stage in pipeline.stages:
            names, sampler = stage.inputs, stage.sampler
            stage_inputs.append([
                (names.num_steps, spec(names.num_steps, tf.int32),
                 tf.constant(sampler.num_steps, tf.int32)),
                (names.guidance_scale, spec(names.guidance_scale,
                                            tf.float32),
                 tf.constant(sampler.guidance_scale, tf.float32))])
        generation = condition + [x for s in stage_inputs for x in s]
        images = [("image_bytes", spec("image_bytes", tf.string, [None]),
                   None)]
        masks = [("mask_bytes", spec("mask_bytes", tf.string, [None]), None)]
        edit_scale = (EDIT.guidance_scale if pipeline.stages[0].sampler.guided
                      else 0.0)
        edit = condition + [
            (stage_inputs[0][1][0], stage_inputs[0][1][1],
             tf.constant(edit_scale, tf.float32)),
            ("num_iterations", spec("num_iterations", tf.int32),
             tf.constant(EDIT.num_iterations, tf.int32))] + [
            x for s in stage_inputs[1:] for x in s]

        self.serving_default = _signature_function(
            generation, self._serving_default)
        self.generate_tokens = _signature_function(
            generation, lambda **v: {"tokens": self._generate(v)})
        self.decode_tokens = _signature_function(
            [("tokens", spec("tokens", tf.int32,
                             [None, pipeline.sequence_length]), None)],
            self._decode_tokens)
        self.inpaint = _signature_function(images + masks + generation,
                                           self._inpaint)
        self.edit = _signature_function(images + edit, self._edit)

    def signatures(self):
        own = {"serving_default": self.serving_default,
               "generate_tokens": self.generate_tokens,
               "decode_tokens": self.decode_tokens,
               "inpaint": self.inpaint,
               "edit": self.edit}
        if self.fp32_twin is not None:
            own.update({f"{name}_fp32": function for name, function
                        in self.fp32_twin.signatures().items()})
        return own

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

    # === Inputs: checked, then as the pipeline's structures ===

    def _checks(self, values, settings, edit=False):
        """InvalidArgument checks of a request's condition inputs and
        sampling `settings`."""
        inputs = values[self.condition_name]
        negatives = values[self.negative_name]
        batch, negative_batch = tf.size(inputs), tf.size(negatives)
        conditioner = self.pipeline.conditioner
        checks = [
            tf.debugging.assert_greater(
                batch, 0, message=f"{self.condition_name} batch is empty"),
            tf.debugging.assert_less_equal(
                batch, self.max_batch,
                message=f"{self.condition_name} batch is larger than "
                f"{self.max_batch}"),
            tf.debugging.Assert(
                tf.logical_or(tf.equal(negative_batch, 0),
                              tf.equal(negative_batch, batch)),
                [(f"{self.negative_name} must be empty or have one entry "
                  f"per {self.condition_name}; sizes:"), negative_batch,
                 batch]),
        ] + conditioner.assertions(inputs) + conditioner.assertions(negatives)
        stages = self.pipeline.stages
        if not stages[0].sampler.guided:
            checks.append(tf.debugging.Assert(
                tf.equal(negative_batch, 0),
                [(f"{self.negative_name} must be empty: this model decodes "
                  "without classifier-free guidance")]))
        if edit:
            checks.append(tf.debugging.Assert(
                (values["num_iterations"] >= 0)
                & (values["num_iterations"] <= EDIT.max_iterations),
                [f"num_iterations must be >= 0 and <= {EDIT.max_iterations}"]))
        checks += sampling_settings.assertions(stages, settings,
                                               self.max_steps)
        return checks

    def _settings(self, values, edit=False):
        """Settings of a request; editing has no base decoding steps (its
        rounds are `num_iterations`), so its base stage gets one, which
        passes the checks and is not used."""
        stages = []
        for index, stage in enumerate(self.pipeline.stages):
            steps = (tf.constant(1) if edit and index == 0
                     else values[stage.inputs.num_steps])
            stages.append(StageSettings(
                steps, values[stage.inputs.guidance_scale]))
        return Settings(sampling_settings.seed_pair(values["seed"]),
                        tuple(stages))

    def _conditions(self, values, checks):
        """(Condition, unconditional Condition) of the request, after
        `checks`; no negative input means the null one."""
        conditioner = self.pipeline.conditioner
        with tf.control_dependencies(checks):
            inputs = tf.identity(values[self.condition_name])
            negatives = values[self.negative_name]
            negatives = tf.cond(
                tf.equal(tf.size(negatives), 0),
                lambda: conditioner.null_inputs(tf.size(inputs)),
                lambda: negatives)
            return self.pipeline.encode_conditions(inputs, negatives)

    def _decode_images(self, data, requests, what, channels):
        """PNG/JPEG bytes [B] -> uint8 [B, S, S, channels], one per entry
        of `requests` and S x S pixels (the pipeline's size), or
        InvalidArgument."""
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
                message=f"give one {what} per {self.condition_name}")]):
            return tf.map_fn(decode, tf.identity(data),
                             fn_output_signature=tf.TensorSpec(
                                 [size, size, channels], tf.uint8))

    def _png(self, tokens):
        images = self.pipeline._decode(tokens)
        return tf.map_fn(tf.io.encode_png, images,
                         fn_output_signature=tf.string)

    # === Signatures ===

    def _generate(self, values):
        settings = self._settings(values)
        conditions = self._conditions(values, self._checks(values, settings))
        return self.pipeline._generate(*conditions, settings)

    def _serving_default(self, **values):
        tokens = self._generate(values)
        return {"image_bytes": self._png(tokens), "tokens": tokens}

    def _decode_tokens(self, tokens):
        codebook = self.pipeline.stages[-1].transformer.config.codebook_size
        checks = [
            tf.debugging.assert_greater(
                tf.shape(tokens)[0], 0, message="tokens batch is empty"),
            tf.debugging.assert_non_negative(
                tokens, message="token ids must be >= 0"),
            tf.debugging.assert_less(
                tokens, codebook,
                message=f"token ids must be < codebook size {codebook}")]
        with tf.control_dependencies(checks):
            return {"image_bytes": self._png(tf.identity(tokens))}

    def _inpaint(self, image_bytes, mask_bytes, **values):
        requests = values[self.condition_name]
        images = self._decode_images(image_bytes, requests, "image", 3)
        masks = self._decode_images(mask_bytes, requests, "mask", 1)[..., 0]
        settings = self._settings(values)
        checks = self._checks(values, settings) + [tf.debugging.Assert(
            tf.reduce_all(tf.reduce_any(masks > 0, axis=[1, 2])),
            ["mask is empty: it selects no pixel to regenerate"])]
        tokens = self.pipeline._inpaint(
            images, masks, *self._conditions(values, checks), settings)
        return {"image_bytes": self._png(tokens), "tokens": tokens}

    def _edit(self, image_bytes, **values):
        images = self._decode_images(image_bytes, values[self.condition_name],
                                     "image", 3)
        settings = self._settings(values, edit=True)
        checks = self._checks(values, settings, edit=True)
        tokens = self.pipeline._edit(
            images, *self._conditions(values, checks), settings,
            values["num_iterations"])
        return {"image_bytes": self._png(tokens), "tokens": tokens}

    def save(self, out_dir):
        """Writes the SavedModel to `out_dir` (e.g. models/muse/1 for TF
        Serving's numbered versions)."""
        os.makedirs(os.path.dirname(os.path.abspath(out_dir)), exist_ok=True)
        tf.saved_model.save(self, out_dir, signatures=self.signatures())
        return out_dir


def export(model, out_dir, max_batch=MAX_BATCH, max_steps=MAX_STEPS,
           precision="auto"):
    """Exports a bundled model name or a model directory (in `precision`,
    `precision.choose`), or a `MusePipeline` (in its own), as a SavedModel
    at `out_dir`."""
    if isinstance(model, str):
        model = muse_tf.load_pipeline(model, precision=precision)
    return ServingModule(model, max_batch, max_steps).save(out_dir)
