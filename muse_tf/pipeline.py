"""TextToImage: prompts -> text states -> parallel decoding -> pixels.

The Python face of a trained model (MUSE_NOTES §1): the frozen text encoder
runs in a graph function (tf-text tokenization is string work that XLA
cannot compile), the decoding loop and the VQGAN decoder each run as one
XLA-compiled function. Guidance runs the conditional and unconditional
inputs as one doubled batch; the unconditional text is the negative prompt,
or the empty prompt when there is none.

A model directory holds `config.json` (a `ModelConfig`),
`transformer.weights.h5` and `vqgan.weights.h5`; the text encoder's weights
come from its own package.
"""

import json
import os

import tensorflow as tf

from muse_tf.configs import ModelConfig, check_guidance_scale, check_num_steps
from muse_tf.data.pipeline import to_uint8
from muse_tf.models.transformer import MuseTransformer
from muse_tf.models.vqgan import VQGAN
from muse_tf.sampling.guidance import guidance_scale_at, guided_logits
from muse_tf.sampling.sampler import decode
from muse_tf.text.encoder import build_text_encoder

BUNDLED_MODELS = {"emoji_64": os.path.join(os.path.dirname(__file__),
                                           "presets", "emoji_64")}
DEFAULT_MODEL = "emoji_64"


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


def generate_tokens(transformer, sampler, text_states, text_mask,
                    uncond_states, uncond_mask, seed, guidance_scale,
                    num_steps):
    """Parallel decoding from all-[MASK] with classifier-free guidance.

    The conditional and unconditional inputs run as one doubled batch.

    Args:
      transformer: a MuseTransformer.
      sampler: a SamplerConfig (schedule, temperatures, guidance schedule).
      text_states, uncond_states: float32 [B, T, D]; text_mask, uncond_mask:
        bool [B, T] (the prompt's, and the negative or empty prompt's).
      seed: int32 [2]. guidance_scale: float32 []. num_steps: int32 [].

    Returns:
      int32 [B, L] token ids.
    """
    c = transformer.config
    batch = tf.shape(text_states)[0]
    both_states = tf.concat([text_states, uncond_states], 0)
    both_mask = tf.concat([text_mask, uncond_mask], 0)

    def tokens_to_logits(tokens, step):
        logits = transformer(tf.concat([tokens, tokens], 0), both_states,
                             both_mask)
        scale = guidance_scale_at(step, num_steps, guidance_scale,
                                  sampler.guidance_schedule)
        cond, uncond = tf.split(logits, 2, axis=0)
        return guided_logits(cond, uncond, scale)

    start = tf.fill([batch, c.sequence_length], c.mask_token_id)
    return decode(tokens_to_logits, start, seed, num_steps=num_steps,
                  mask_token_id=c.mask_token_id,
                  choice_temperature=sampler.choice_temperature,
                  temperature=sampler.temperature, schedule=sampler.schedule)


class TextToImage(tf.Module):
    """A trained Muse base model: `pipe(["a prompt"], seed=0)` -> images."""

    def __init__(self, config: ModelConfig, transformer=None, vqgan=None,
                 text_encoder=None, name="text_to_image"):
        super().__init__(name=name)
        self.config = config
        self.transformer = transformer or MuseTransformer(
            config.transformer, name="transformer")
        self.vqgan = vqgan or VQGAN(config.vqgan, name="vqgan")
        self.text_encoder = text_encoder or build_text_encoder(config.text)
        self._encode_text = tf.function(self.text_encoder.__call__)
        self._generate = tf.function(self.generate_tokens, jit_compile=True)
        self._decode = tf.function(self.decode_tokens, jit_compile=True)

    # === Loading and saving ===

    @classmethod
    def from_pretrained(cls, name_or_dir=DEFAULT_MODEL):
        """A bundled model by name (see BUNDLED_MODELS) or a model dir."""
        model_dir = BUNDLED_MODELS.get(name_or_dir, name_or_dir)
        config_path = os.path.join(model_dir, "config.json")
        if not os.path.exists(config_path):
            raise ValueError(
                f"Unknown model {name_or_dir!r}: not a bundled model "
                f"({sorted(BUNDLED_MODELS)}) nor a directory with config.json")
        with open(config_path) as f:
            pipe = cls(ModelConfig.from_dict(json.load(f)))
        pipe.transformer.load_weights(
            os.path.join(model_dir, "transformer.weights.h5"))
        pipe.vqgan.load_weights(os.path.join(model_dir, "vqgan.weights.h5"))
        return pipe

    def save(self, model_dir):
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, "config.json"), "w") as f:
            json.dump(self.config.to_dict(), f, indent=2)
        self.transformer.save_weights(
            os.path.join(model_dir, "transformer.weights.h5"))
        self.vqgan.save_weights(os.path.join(model_dir, "vqgan.weights.h5"))

    @property
    def weights(self):
        """Every weight: transformer, VQGAN and frozen text encoder."""
        return (self.transformer.weights + self.vqgan.weights
                + list(self.text_encoder.weights))

    # === Graph functions (also what the SavedModel exports) ===

    def generate_tokens(self, text_states, text_mask, uncond_states,
                        uncond_mask, seed, guidance_scale, num_steps):
        """`generate_tokens` with this pipeline's transformer and sampler."""
        return generate_tokens(self.transformer, self.config.sampler,
                               text_states, text_mask, uncond_states,
                               uncond_mask, seed, guidance_scale, num_steps)

    def decode_tokens(self, tokens):
        """int32 [B, L] token ids -> uint8 images [B, H, W, 3]."""
        side = self.config.transformer.image_tokens_per_side
        grid = tf.reshape(tokens, [-1, side, side])
        return to_uint8(self.vqgan.decode(grid))

    # === Python API ===

    def tokens(self, prompts, negative_prompts=None, seed=0, num_steps=None,
               guidance_scale=None):
        """Generated token ids, int32 numpy [B, L]. Arguments as __call__."""
        prompts = check_prompts(prompts)
        if negative_prompts is None:
            negative_prompts = [""] * len(prompts)
        negative_prompts = check_prompts(negative_prompts, "negative_prompts")
        if len(negative_prompts) != len(prompts):
            raise ValueError(
                f"negative_prompts has {len(negative_prompts)} entries for "
                f"{len(prompts)} prompts")
        sampler = self.config.sampler
        num_steps = sampler.num_steps if num_steps is None else num_steps
        guidance_scale = (sampler.guidance_scale if guidance_scale is None
                          else guidance_scale)
        check_num_steps(num_steps)
        check_guidance_scale(guidance_scale)
        states, mask = self._encode_text(
            tf.constant(prompts + negative_prompts))
        n = len(prompts)
        tokens = self._generate(
            states[:n], mask[:n], states[n:], mask[n:],
            seed_pair(tf.constant(int(seed), tf.int64)),
            tf.constant(guidance_scale, tf.float32),
            tf.constant(num_steps, tf.int32))
        return tokens.numpy()

    def __call__(self, prompts, negative_prompts=None, seed=0, num_steps=None,
                 guidance_scale=None):
        """Generates one image per prompt.

        Args:
          prompts: a string or a non-empty list of strings.
          negative_prompts: optional list, one per prompt; guidance pushes
            away from it instead of from the empty prompt.
          seed: integer; the same seed gives the same images.
          num_steps: decoding steps (default from the model's config).
          guidance_scale: final classifier-free guidance scale >= 0.

        Returns:
          uint8 numpy images [B, H, W, 3].
        """
        tokens = self.tokens(prompts, negative_prompts, seed, num_steps,
                             guidance_scale)
        return self._decode(tf.constant(tokens)).numpy()
