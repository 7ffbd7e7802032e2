"""MusePipeline: a condition -> each stage's parallel decoding -> pixels.

The Python face of a trained model (docs/design.md §1), for every kind of
condition: a conditioner (`conditioning.py`) turns prompts, or class names
and ids, into a Condition and its unconditional twin (the negative
condition, or the empty prompt / null class). The cascade is a list of
`Stage`s — a masked transformer, the VQGAN whose tokens it predicts and its
sampler settings — and one loop runs them: the base stage from [MASK]s,
each later stage conditioned on the previous stage's tokens (Muse §2.3,
super-res). The last stage's VQGAN decoder draws the pixels.

The condition is encoded in a graph function (tf-text tokenization is
string work that XLA cannot compile); decoding every stage, and the VQGAN
decoder, each run as one compiled function — the same functions the
SavedModel's signatures call, so in fp32 a seed gives the same bytes.
The stages' models compute in the pipeline's precision (`precision.py`:
fp32 under XLA, or bf16, on a CPU as a oneDNN graph); the text encoder
stays float32, as it runs once per call. Sampling settings travel as one
`sampling.settings.Settings`.

Model directories (config, components, weights) belong to `model_dir.py`.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from muse_tf import editing, model_dir
from muse_tf.conditioning import build_conditioner, split
from muse_tf.configs import (
    BASE_INPUTS,
    EDIT,
    SUPER_RES_INPUTS,
    ModelConfig,
    SamplerConfig,
    StageInputs,
    replace_sampler,
)
from muse_tf.data.pipeline import downsample, to_model_range, to_uint8
from muse_tf.precision import Choice, choose, function_in
from muse_tf.sampling import settings as sampling_settings
from muse_tf.sampling.guided import edit_tokens, generate_tokens


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of the cascade: a masked transformer, the VQGAN whose
    tokens it predicts (its decoder draws them), its sampler settings and
    the names those settings go by (`configs.StageInputs`)."""

    name: str
    transformer: object
    vqgan: object
    sampler: SamplerConfig
    inputs: StageInputs

    @property
    def tokens_per_side(self):
        return self.transformer.config.image_tokens_per_side

    @property
    def sequence_length(self):
        return self.transformer.config.sequence_length

    @property
    def mask_token_id(self):
        return self.transformer.config.mask_token_id

    @property
    def image_size(self):
        return self.vqgan.config.image_size


def _stages(config, components):
    """The cascade of `config` over built `components`."""
    base = components.get("transformer") or components[
        "class_transformer"].decoding_model()
    stages = [Stage("base", base, components["vqgan"], config.sampler,
                    BASE_INPUTS)]
    if config.super_res is not None:
        stages.append(Stage("super_res", components["super_res"],
                            components["high_res_vqgan"],
                            config.super_res.sampler, SUPER_RES_INPUTS))
    return tuple(stages)


class MusePipeline(tf.Module):
    """A trained model: `pipe(["a prompt"], seed=0)` -> images; for a class
    model `pipe(["sneaker", 9], seed=0)`."""

    def __init__(self, config: ModelConfig, components=None,
                 conditioner=None, precision="auto", name="muse_pipeline"):
        """components: {name: built model} (see `model_dir.components`);
        missing ones are built from `config` with fresh weights.
        conditioner: to share one (e.g. the frozen text encoder) between
        pipelines; default: built from `config`.
        precision: "fp32", "bf16", "auto" (`precision.choose`) or a
        `precision.Choice`; pipelines of either precision can share
        components, as the weights stay float32."""
        super().__init__(name=name)
        self.config = config
        self.components = model_dir.build(config, components)
        self.conditioner = conditioner or build_conditioner(
            config, self.components.get("class_transformer"))
        self.stages = _stages(config, self.components)
        self.precision = (precision if isinstance(precision, Choice)
                          else choose(precision))
        self._encode_conditions = tf.function(self.encode_conditions)
        self._generate = self._compiled(self.generate_graph)
        self._decode = self._compiled(self.decode_tokens)
        self._super_resolve = self._compiled(self.super_resolve_graph)
        self._encode = self._compiled(self.encode_images)
        self._inpaint = self._compiled(self.inpaint_graph)
        self._outpaint = self._compiled(self.outpaint_graph)
        self._edit = self._compiled(self.edit_graph)

    def _compiled(self, graph_function):
        """`graph_function` as a tf.function of this pipeline's precision
        over its stages' models (`precision.function_in`)."""
        models = [model for stage in self.stages
                  for model in (stage.transformer, stage.vqgan)]
        return function_in(graph_function, models, self.precision)

    # === Loading and saving ===

    @classmethod
    def from_pretrained(cls, name_or_dir=None, stages=None, decoder="base",
                        precision="auto"):
        """A bundled model by name (`muse_tf.presets.BUNDLED_MODELS`;
        default: the bundled default) or a model directory.

        stages: "all", or "base" to leave out a cascade's super-res stage
          (default: "all" for a directory, the bundled model's own stages
          for a name).
        decoder: the last VQGAN's decoder: "base", or "large" (Muse's
          fine-tuned larger decoder, where the directory has one).
        precision: "auto" (bf16 where the machine multiplies it natively,
          else fp32; `precision.choose`), "fp32" or "bf16".
        """
        config, components = model_dir.load(name_or_dir, stages, decoder)
        return cls(config, components, precision=precision)

    def with_sampler(self, **changes):
        """The same model (weights shared, nothing copied) decoding its base
        stage with other sampler settings, e.g. `schedule="linear"` or
        `guidance_schedule="constant"` (the papers' decoding ablations)."""
        return type(self)(replace_sampler(self.config, **changes),
                          self.components, self.conditioner, self.precision)

    def save(self, directory):
        """Writes the model directory (`model_dir.save`)."""
        model_dir.save(directory, self.config, self.components)

    @property
    def weights(self):
        """Every weight: the stages' models and the conditioner's."""
        found = {}
        for weight in ([w for c in self.components.values()
                        for w in c.weights] + self.conditioner.weights):
            found.setdefault(id(weight), weight)
        return list(found.values())

    @property
    def image_size(self):
        """Pixels per side of the images this pipeline makes."""
        return self.stages[-1].image_size

    @property
    def sequence_length(self):
        """Tokens per image of the last stage (what `decode_tokens` takes)."""
        return self.stages[-1].sequence_length

    # === Graph functions (also what the SavedModel exports) ===

    def encode_conditions(self, inputs, negative_inputs):
        """Condition inputs [B] and negative (or null) inputs [B] ->
        (Condition, unconditional Condition), encoded as one batch."""
        return split(self.conditioner(tf.concat([inputs, negative_inputs],
                                                0)), tf.shape(inputs)[0])

    def run_stages(self, tokens, condition, uncondition, settings, first,
                   starts=None):
        """Decodes stages `first`.. of the cascade: each from the [MASK]s
        of its start (default: all masked), conditioned on the previous
        stage's `tokens` (None before the base stage). A given start (an
        inpainting or outpainting) decodes from its sampler's
        `inpaint_start_step`. Returns the last stage's tokens, int32
        [B, L]."""
        for index in range(first, len(self.stages)):
            stage = self.stages[index]
            start = None if starts is None else starts[index]
            start_step = 0 if start is None else (
                stage.sampler.inpaint_start_step)
            if start is None:
                start = tf.fill([tf.shape(condition.states)[0],
                                 stage.sequence_length], stage.mask_token_id)
            tokens = generate_tokens(
                stage.transformer, stage.sampler, start, condition,
                uncondition, sampling_settings.stage_seed(settings.seed,
                                                          index),
                settings.stages[index],
                extra_inputs=() if tokens is None else (tokens,),
                start_step=start_step)
        return tokens

    def generate_graph(self, condition, uncondition, settings, starts=None):
        """Every stage in one graph: the final tokens int32 [B, L]."""
        return self.run_stages(None, condition, uncondition, settings, 0,
                               starts)

    def super_resolve_graph(self, base_tokens, condition, uncondition,
                            settings):
        """A cascade's later stages for given base tokens [B, L_0]: the
        final tokens."""
        return self.run_stages(base_tokens, condition, uncondition, settings,
                               1)

    def encode_images(self, images):
        """uint8 images [B, S, S, 3] at the final size -> each stage's
        tokens [B, L_i]; each VQGAN sees the image area-downsampled to its
        own size."""
        images = to_model_range(images)
        return tuple(
            tf.reshape(stage.vqgan.encode(downsample(images,
                                                     stage.image_size)),
                       [-1, stage.sequence_length])
            for stage in self.stages)

    def decode_tokens(self, tokens, stage=-1):
        """A stage's token ids int32 [B, L] (default: the last stage's) ->
        uint8 images at its size."""
        stage = self.stages[stage]
        side = stage.tokens_per_side
        return to_uint8(stage.vqgan.decode(tf.reshape(tokens,
                                                      [-1, side, side])))

    def inpaint_graph(self, images, masks, condition, uncondition, settings):
        """uint8 images [B, S, S, 3], pixel masks [B, S, S] -> the final
        tokens, every token whose cell the mask touches regenerated, at
        each stage (Muse's multi-scale inpainting)."""
        starts = [tf.where(editing.token_mask(masks, stage.tokens_per_side),
                           stage.mask_token_id, tokens)
                  for tokens, stage in zip(self.encode_images(images),
                                           self.stages)]
        return self.generate_graph(condition, uncondition, settings, starts)

    def outpaint_graph(self, images, direction, fraction, condition,
                       uncondition, settings):
        """uint8 images [B, S, S, 3] -> the final tokens with the image
        moved away from `direction` by `fraction` of its side (whole base
        tokens) and the uncovered strip generated, at each stage."""
        base_side = self.stages[0].tokens_per_side
        amount = max(1, round(fraction * base_side))
        starts = [editing.outpaint_tokens(
            tokens, stage.tokens_per_side, direction,
            amount * stage.tokens_per_side // base_side, stage.mask_token_id)
            for tokens, stage in zip(self.encode_images(images),
                                     self.stages)]
        return self.generate_graph(condition, uncondition, settings, starts)

    def edit_graph(self, images, condition, uncondition, settings,
                   num_iterations):
        """Mask-free editing of uint8 images [B, S, S, 3]: the base tokens
        drift toward the condition (`sampling.guided.edit_tokens`, at the
        base stage's guidance scale; its steps are not used); later stages
        then decode afresh. Returns the final tokens."""
        base = edit_tokens(self.stages[0].transformer,
                           self.encode_images(images)[0], condition,
                           uncondition, settings.seed,
                           settings.stages[0].guidance_scale, num_iterations,
                           guided=self.stages[0].sampler.guided)
        return self.run_stages(base, condition, uncondition, settings, 1)

    # === Python API ===

    def conditions(self, prompts, negative_prompts=None):
        """Checked condition inputs -> (Condition, unconditional
        Condition). For a class model, prompts are class names or ids."""
        inputs = self.conditioner.parse(prompts)
        if negative_prompts is None:
            negatives = self.conditioner.null_inputs(len(inputs))
        elif not self.stages[0].sampler.guided:
            raise ValueError("this model decodes without classifier-free "
                             "guidance, so a negative prompt has no effect")
        else:
            negatives = self.conditioner.parse(negative_prompts,
                                               "negative_prompts")
            if len(negatives) != len(inputs):
                raise ValueError(
                    f"negative_prompts has {len(negatives)} entries for "
                    f"{len(inputs)} prompts")
        return self._encode_conditions(
            tf.constant(inputs, self.conditioner.dtype),
            tf.constant(negatives, self.conditioner.dtype))

    def settings(self, seed=0, **given):
        """Checked sampling Settings: `given` by input name (num_steps,
        guidance_scale, super_res_steps, ...); the rest the stages'
        defaults."""
        return sampling_settings.from_python(self.stages, seed, **given)

    def tokens(self, prompts, negative_prompts=None, seed=0, **settings):
        """The final stage's token ids, int32 numpy [B, L]. Arguments as
        __call__."""
        return self._generate(*self.conditions(prompts, negative_prompts),
                              self.settings(seed, **settings)).numpy()

    def __call__(self, prompts, negative_prompts=None, seed=0, **settings):
        """Generates one image per prompt (or class).

        Args:
          prompts: a string or a non-empty list of strings; for a class
            model, class names or ids.
          negative_prompts: optional, one per prompt; guidance pushes away
            from it instead of from the empty prompt (null class).
          seed: integer; the same seed gives the same images.
          settings: each stage's decoding steps and final guidance scale,
            by name: num_steps, guidance_scale (base stage),
            super_res_steps, super_res_guidance_scale (a cascade's second
            stage); default: the model's config.

        Returns:
          uint8 numpy images [B, H, W, 3] at the last stage's size.
        """
        return self.decode(self.tokens(prompts, negative_prompts, seed,
                                       **settings))

    def decode(self, tokens, stage=-1):
        """A stage's tokens (default: the last stage's) -> uint8 numpy
        images (compiled)."""
        return self._decode(tf.constant(tokens, tf.int32), stage).numpy()

    def super_resolve(self, base_tokens, condition, seed=0, **settings):
        """The final tokens (int32 numpy [B, L]) for given base tokens and
        a Condition, guided away from the null condition: a cascade's
        later stages alone."""
        batch = condition.states.shape[0]
        uncondition = self.conditioner(self.conditioner.null_inputs(batch))
        return self._super_resolve(
            tf.constant(base_tokens, tf.int32), condition, uncondition,
            self.settings(seed, **settings)).numpy()

    # Python editing API.

    def _images(self, image, batch):
        image = editing.load_image(image)
        editing.check_image_size(image, self.image_size)
        return tf.constant(np.repeat(image[None], batch, 0))

    def inpaint_tokens(self, image, mask, prompts, negative_prompts=None,
                       seed=0, **settings):
        """The final stage's tokens (numpy int32 [B, L]) of `inpaint`."""
        condition, uncondition = self.conditions(prompts, negative_prompts)
        settings = self.settings(seed, **settings)
        batch = condition.states.shape[0]
        masks = tf.repeat(editing.check_mask(mask, self.image_size)[None],
                          batch, 0)
        return self._inpaint(self._images(image, batch), masks, condition,
                             uncondition, settings).numpy()

    def inpaint(self, image, mask, prompts, negative_prompts=None, seed=0,
                **settings):
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
        return self.decode(self.inpaint_tokens(image, mask, prompts,
                                               negative_prompts, seed,
                                               **settings))

    def outpaint_tokens(self, image, prompts, direction="right",
                        fraction=0.25, negative_prompts=None, seed=0,
                        **settings):
        """The final stage's tokens (numpy int32 [B, L]) of `outpaint`."""
        editing.check_outpaint(direction, fraction)
        condition, uncondition = self.conditions(prompts, negative_prompts)
        settings = self.settings(seed, **settings)
        images = self._images(image, condition.states.shape[0])
        return self._outpaint(images, direction, float(fraction), condition,
                              uncondition, settings).numpy()

    def outpaint(self, image, prompts, direction="right", fraction=0.25,
                 negative_prompts=None, seed=0, **settings):
        """Extends an image toward `direction` ("left", "right", "up",
        "down") by `fraction` of its side: the image moves over by that
        much (whole tokens) and the uncovered strip is generated for each
        prompt. Other arguments as `inpaint`. Returns uint8 [B, S, S, 3]."""
        return self.decode(self.outpaint_tokens(
            image, prompts, direction, fraction, negative_prompts, seed,
            **settings))

    def edit_tokens(self, image, prompts, num_iterations=EDIT.num_iterations,
                    negative_prompts=None, seed=0, guidance_scale=None,
                    **settings):
        """The final stage's tokens (numpy int32 [B, L]) of `edit`."""
        if guidance_scale is None:
            guidance_scale = (EDIT.guidance_scale
                              if self.stages[0].sampler.guided else 0.0)
        if isinstance(num_iterations, bool) or not isinstance(
                num_iterations, int) or num_iterations < 0:
            raise ValueError(f"num_iterations must be an integer >= 0, got "
                             f"{num_iterations!r}")
        condition, uncondition = self.conditions(prompts, negative_prompts)
        settings = self.settings(seed, guidance_scale=guidance_scale,
                                 **settings)
        images = self._images(image, condition.states.shape[0])
        return self._edit(images, condition, uncondition, settings,
                          tf.constant(num_iterations, tf.int32)).numpy()

    def edit(self, image, prompts, num_iterations=EDIT.num_iterations,
             negative_prompts=None, seed=0, guidance_scale=None, **settings):
        """Mask-free editing (Muse §3.3): `num_iterations` rounds of
        re-masking a random 8% of the image's base tokens and resampling
        them (top-3, constant guidance `guidance_scale`) under each prompt;
        later stages then decode the result afresh. Muse's defaults: 100
        rounds, guidance 4 (0 for a model decoded without guidance).
        Returns uint8 [B, S, S, 3]."""
        return self.decode(self.edit_tokens(
            image, prompts, num_iterations, negative_prompts, seed,
            guidance_scale, **settings))
