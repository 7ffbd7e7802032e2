"""`muse_tf.load(path)`: an exported SavedModel as a one-line Python pipeline.

The SavedModel's tf-text ops must be registered before loading ("Op type
not registered 'CaseFoldUTF8'" otherwise), so this module imports
tensorflow_text itself. Optional inputs take the defaults recorded in the
SignatureDef — the same ones TF Serving applies.
"""

import os

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  Registers the tokenizer's ops.
from tensorflow.core.protobuf import saved_model_pb2

from muse_tf.configs import check_guidance_scale, check_num_steps
from muse_tf.pipeline import check_prompts


def signature_defaults(path, signature="serving_default"):
    """{input name: numpy default} recorded in a SavedModel's signature."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    defaults = proto.meta_graphs[0].signature_def[signature].defaults
    return {name: tf.make_ndarray(value) for name, value in defaults.items()}


class SavedPipeline:
    """`pipe(["a prompt"], seed=0)` -> uint8 images, from a SavedModel."""

    def __init__(self, path):
        if not os.path.exists(os.path.join(path, "saved_model.pb")):
            raise ValueError(f"No SavedModel at {path!r}")
        self.path = path
        self.module = tf.saved_model.load(path)
        self.defaults = signature_defaults(path)

    def _inputs(self, prompts, negative_prompts, seed, guidance_scale,
                num_steps):
        prompts = check_prompts(prompts)
        if negative_prompts is None:
            negative_prompts = []
        elif negative_prompts:
            negative_prompts = check_prompts(negative_prompts,
                                             "negative_prompts")
            if len(negative_prompts) != len(prompts):
                raise ValueError(
                    f"negative_prompts has {len(negative_prompts)} entries "
                    f"for {len(prompts)} prompts")
        if guidance_scale is None:
            guidance_scale = float(self.defaults["guidance_scale"])
        if num_steps is None:
            num_steps = int(self.defaults["num_steps"])
        check_guidance_scale(guidance_scale)
        check_num_steps(num_steps)
        # Every input the signature has (the TF2 loader applies no
        # defaults): the recorded defaults, then what was given.
        return {**{k: tf.constant(v) for k, v in self.defaults.items()},
                "prompt": tf.constant(prompts, tf.string),
                "negative_prompt": tf.constant(negative_prompts, tf.string),
                "seed": tf.constant(int(seed), tf.int64),
                "guidance_scale": tf.constant(guidance_scale, tf.float32),
                "num_steps": tf.constant(num_steps, tf.int32)}

    def png_bytes(self, prompts, negative_prompts=None, seed=0,
                  guidance_scale=None, num_steps=None):
        """PNG-encoded images, a list of bytes (arguments as __call__)."""
        outputs = self.module.signatures["serving_default"](**self._inputs(
            prompts, negative_prompts, seed, guidance_scale, num_steps))
        return list(outputs["image_bytes"].numpy())

    def __call__(self, prompts, negative_prompts=None, seed=0,
                 guidance_scale=None, num_steps=None):
        """Generates one image per prompt: uint8 numpy [B, H, W, 3].

        Arguments are those of `TextToImage.__call__`; omitted ones take the
        defaults recorded in the SavedModel.
        """
        return np.stack([tf.io.decode_png(png).numpy() for png in
                         self.png_bytes(prompts, negative_prompts, seed,
                                        guidance_scale, num_steps)])
