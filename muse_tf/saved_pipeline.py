"""`muse_tf.load(path)`: an exported SavedModel as a one-line Python pipeline.

The SavedModel's tf-text ops must be registered before loading ("Op type
not registered 'CaseFoldUTF8'" otherwise), so this module imports
tensorflow_text itself. Optional inputs take the defaults recorded in the
SignatureDef — the same ones TF Serving applies — and inputs are checked
by the rules the Python pipeline applies (ValueError before the request).
A SavedModel exported in bf16 is served through its float32 twin
signatures on a machine that does not multiply bf16 natively
(`export.py`, `precision.py`).
"""

import os

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  Registers the tokenizer's ops.
from tensorflow.core.protobuf import saved_model_pb2

from muse_tf.conditioning import check_prompts, parse_class_ids
from muse_tf.configs import BASE_INPUTS, SUPER_RES_INPUTS
from muse_tf.precision import choose
from muse_tf.sampling.settings import check_names, check_seed


def signature_def(path, signature="serving_default"):
    """The SignatureDef proto of one of a SavedModel's signatures."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    return proto.meta_graphs[0].signature_def[signature]


def signature_defaults(path, signature="serving_default"):
    """{input name: numpy default} recorded in a SavedModel's signature."""
    defaults = signature_def(path, signature).defaults
    return {name: tf.make_ndarray(value) for name, value in defaults.items()}


class SavedPipeline:
    """`pipe(["a prompt"], seed=0)` -> uint8 images, from a SavedModel; for
    a class-conditional model `pipe(["sneaker", 9], seed=0)`."""

    def __init__(self, path, precision="auto"):
        """precision: "auto" (the SavedModel's own precision where this
        machine multiplies it natively, else its float32 twins), "fp32"
        or "bf16" (a ValueError if it was not exported in bf16)."""
        if not os.path.exists(os.path.join(path, "saved_model.pb")):
            raise ValueError(f"No SavedModel at {path!r}")
        self.path = path
        self.module = tf.saved_model.load(path)
        # Exports older than the precision option were all fp32.
        recorded = getattr(self.module, "precision", None)
        exported = "fp32" if recorded is None else (
            recorded.numpy().decode())
        self.precision = choose(precision).name
        if self.precision == "bf16" and exported != "bf16":
            if precision == "bf16":
                raise ValueError(f"{path} was exported in {exported}: it "
                                 f"has no bf16 signatures")
            self.precision = exported
        self.signature = ("serving_default" if self.precision == exported
                          else "serving_default_fp32")
        self.defaults = signature_defaults(path, self.signature)
        inputs = set(signature_def(path, self.signature).inputs)
        self.condition_name = "class_id" if "class_id" in inputs else "prompt"
        self.stage_inputs = [names for names in (BASE_INPUTS, SUPER_RES_INPUTS)
                             if names.num_steps in inputs]
        self.class_names = None
        if self.condition_name == "class_id":
            self.class_names = [n.decode() for n in
                                self.module.class_names.numpy()]

    def _parse(self, values, what):
        if self.class_names is None:
            return check_prompts(values, what)
        return parse_class_ids(values, self.class_names, what)

    def _inputs(self, prompts, negative_prompts, seed, settings):
        dtype = tf.string if self.class_names is None else tf.int32
        prompts = self._parse(prompts, "prompts")
        negatives = []
        if negative_prompts is not None:
            negatives = self._parse(negative_prompts, "negative_prompts")
            if len(negatives) != len(prompts):
                raise ValueError(
                    f"negative_prompts has {len(negatives)} entries for "
                    f"{len(prompts)} prompts")
        check_names(self.stage_inputs, settings)
        # Every input the signature has (the TF2 loader applies no
        # defaults): the recorded defaults, then what was given.
        inputs = {k: tf.constant(v) for k, v in self.defaults.items()}
        for names in self.stage_inputs:
            steps = settings.get(names.num_steps)
            scale = settings.get(names.guidance_scale)
            steps = int(self.defaults[names.num_steps]) if steps is None \
                else steps
            scale = float(self.defaults[names.guidance_scale]) \
                if scale is None else scale
            names.check(steps, scale)
            inputs[names.num_steps] = tf.constant(steps, tf.int32)
            inputs[names.guidance_scale] = tf.constant(scale, tf.float32)
        inputs.update({
            self.condition_name: tf.constant(prompts, dtype),
            f"negative_{self.condition_name}": tf.constant(negatives, dtype),
            "seed": tf.constant(check_seed(seed), tf.int64)})
        return inputs

    def png_bytes(self, prompts, negative_prompts=None, seed=0, **settings):
        """PNG-encoded images, a list of bytes (arguments as __call__)."""
        outputs = self.module.signatures[self.signature](**self._inputs(
            prompts, negative_prompts, seed, settings))
        return list(outputs["image_bytes"].numpy())

    def __call__(self, prompts, negative_prompts=None, seed=0, **settings):
        """Generates one image per prompt (class name or id for a class
        model): uint8 numpy [B, H, W, 3].

        Arguments are those of `MusePipeline.__call__`; omitted ones take
        the defaults recorded in the SavedModel.
        """
        return np.stack([tf.io.decode_png(png).numpy() for png in
                         self.png_bytes(prompts, negative_prompts, seed,
                                        **settings)])
