"""ClassToImage: class ids -> parallel decoding -> pixels (MaskGIT's
class-conditional mode), with class-conditional editing (MaskGIT §4.3:
regenerate a region of an image as a given class).

The same decoding loop, guidance and token geometry as `TextToImage`; the
condition is `ClassConditionalTransformer.condition(class ids)` and the
unconditional input is its learned null class.

A model directory holds `config.json` (a `ClassModelConfig`),
`class_transformer.weights.h5` and `vqgan.weights.h5`.
"""

import json
import os

import numpy as np
import tensorflow as tf

from muse_tf import editing
from muse_tf.configs import (
    ClassModelConfig,
    check_guidance_scale,
    check_num_steps,
    replace_sampler,
)
from muse_tf.data.pipeline import to_model_range, to_uint8
from muse_tf.models.class_conditional import (
    ClassConditionalTransformer,
    check_class_ids,
)
from muse_tf.models.vqgan import VQGAN
from muse_tf.pipeline import seed_pair
from muse_tf.presets import BUNDLED_CLASS_MODELS
from muse_tf.sampling.guided import generate_tokens

WEIGHT_FILES = {"model": "class_transformer.weights.h5",
                "vqgan": "vqgan.weights.h5"}


class ClassToImage(tf.Module):
    """A class-conditional model: `pipe([3, 7], seed=0)` -> images."""

    def __init__(self, config: ClassModelConfig, model=None, vqgan=None,
                 name="class_to_image"):
        super().__init__(name=name)
        self.config = config
        self.model = model or ClassConditionalTransformer(
            config.transformer, config.num_classes, name="class_transformer")
        self.vqgan = vqgan or VQGAN(config.vqgan, name="vqgan")
        self._generate = tf.function(self.generate_graph, jit_compile=True)
        self._inpaint = tf.function(self.inpaint_graph, jit_compile=True)
        self._decode = tf.function(self.decode_tokens, jit_compile=True)

    @classmethod
    def from_pretrained(cls, name_or_dir="fashion_32"):
        """A bundled class-conditional model by name (see
        BUNDLED_CLASS_MODELS) or a model directory."""
        model_dir = BUNDLED_CLASS_MODELS.get(name_or_dir, name_or_dir)
        config_path = os.path.join(model_dir, "config.json")
        if not os.path.exists(config_path):
            raise ValueError(
                f"No class-conditional model {name_or_dir!r}: not a bundled "
                f"one ({', '.join(BUNDLED_CLASS_MODELS)}) nor a directory "
                "with a config.json")
        with open(config_path) as f:
            pipe = cls(ClassModelConfig.from_dict(json.load(f)))
        pipe.model.load_weights(os.path.join(model_dir,
                                             WEIGHT_FILES["model"]))
        pipe.vqgan.load_weights(os.path.join(model_dir,
                                             WEIGHT_FILES["vqgan"]))
        return pipe

    def with_sampler(self, **changes):
        """The same model (weights shared) decoding with other sampler
        settings, e.g. `schedule="linear"` (MaskGIT's schedule ablation)."""
        return type(self)(replace_sampler(self.config, **changes),
                          self.model, self.vqgan)

    def save(self, model_dir):
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, "config.json"), "w") as f:
            json.dump(self.config.to_dict(), f, indent=2)
        self.model.save_weights(os.path.join(model_dir,
                                             WEIGHT_FILES["model"]))
        self.vqgan.save_weights(os.path.join(model_dir,
                                             WEIGHT_FILES["vqgan"]))

    @property
    def weights(self):
        return self.model.weights + self.vqgan.weights

    @property
    def image_size(self):
        return self.config.vqgan.image_size

    # === Graph functions (also what the SavedModel exports) ===

    def generate_graph(self, class_ids, seed, guidance_scale, num_steps,
                       start=None):
        """Tokens int32 [B, L] for class ids int32 [B], by guided decoding
        of the [MASK]s of `start` (default: all masked)."""
        c = self.config.transformer
        states, mask = self.model.condition(class_ids)
        null_states, null_mask = self.model.condition(
            tf.fill(tf.shape(class_ids), self.model.null_class_id))
        if start is None:
            start = tf.fill([tf.shape(class_ids)[0], c.sequence_length],
                            c.mask_token_id)
        return generate_tokens(self.model.transformer, self.config.sampler,
                               start, states, mask, null_states, null_mask,
                               seed, guidance_scale, num_steps)

    def inpaint_graph(self, images, masks, class_ids, seed, guidance_scale,
                      num_steps):
        """Class-conditional editing: the tokens of uint8 images [B, S, S,
        3] whose cells the pixel masks [B, S, S] touch, regenerated as the
        given classes."""
        c = self.config.transformer
        tokens = tf.reshape(self.vqgan.encode(to_model_range(images)),
                            [-1, c.sequence_length])
        start = tf.where(editing.token_mask(masks,
                                            c.image_tokens_per_side),
                         c.mask_token_id, tokens)
        return self.generate_graph(class_ids, seed, guidance_scale,
                                   num_steps, start)

    def decode_tokens(self, tokens):
        side = self.config.transformer.image_tokens_per_side
        return to_uint8(self.vqgan.decode(tf.reshape(tokens,
                                                     [-1, side, side])))

    def decode_final(self, tokens):
        """Tokens -> uint8 images (compiled), as TextToImage's."""
        return self._decode(tokens)

    # === Python API ===

    def _inputs(self, class_ids, seed, num_steps, guidance_scale):
        class_ids = [class_ids] if isinstance(class_ids, int) else list(
            class_ids)
        if not class_ids:
            raise ValueError("class_ids must be a non-empty list")
        check_class_ids(class_ids, self.config.num_classes)
        sampler = self.config.sampler
        num_steps = sampler.num_steps if num_steps is None else num_steps
        guidance_scale = (sampler.guidance_scale if guidance_scale is None
                          else guidance_scale)
        check_num_steps(num_steps)
        check_guidance_scale(guidance_scale)
        return (tf.constant(class_ids, tf.int32),
                seed_pair(tf.constant(int(seed), tf.int64)),
                tf.constant(guidance_scale, tf.float32),
                tf.constant(num_steps, tf.int32))

    def tokens(self, class_ids, seed=0, num_steps=None, guidance_scale=None):
        """Token ids, int32 numpy [B, L]. Arguments as __call__."""
        return self._generate(*self._inputs(class_ids, seed, num_steps,
                                            guidance_scale)).numpy()

    def __call__(self, class_ids, seed=0, num_steps=None,
                 guidance_scale=None):
        """One image per class id (an int in [0, num_classes)); uint8
        numpy [B, S, S, 3]. Guidance pushes away from the null class."""
        return self._decode(tf.constant(self.tokens(
            class_ids, seed, num_steps, guidance_scale))).numpy()

    def inpaint_tokens(self, image, mask, class_ids, seed=0, num_steps=None,
                       guidance_scale=None):
        """Tokens (numpy int32 [B, L]) of `inpaint`."""
        ids, seed, scale, steps = self._inputs(class_ids, seed, num_steps,
                                               guidance_scale)
        image = editing.load_image(image)
        editing.check_image_size(image, self.image_size)
        mask = editing.check_mask(mask, self.image_size)
        batch = len(ids)
        return self._inpaint(tf.constant(np.repeat(image[None], batch, 0)),
                             tf.constant(np.repeat(mask[None], batch, 0)),
                             ids, seed, scale, steps).numpy()

    def inpaint(self, image, mask, class_ids, seed=0, num_steps=None,
                guidance_scale=None):
        """Class-conditional editing (MaskGIT §4.3): the region of `image`
        under `mask` regenerated as each class; uint8 [B, S, S, 3]."""
        return self._decode(tf.constant(self.inpaint_tokens(
            image, mask, class_ids, seed, num_steps,
            guidance_scale))).numpy()
