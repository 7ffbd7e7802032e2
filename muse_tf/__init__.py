"""muse_tf: Muse / MaskGIT masked generative transformers in TensorFlow 2.

Start with `muse_tf.pipeline.TextToImage.from_pretrained()`, the bundled
emoji cascade, or `muse-tf generate --help`.
"""


def load(path):
    """Loads an exported SavedModel as a pipeline: `load(p)(["a prompt"])`."""
    from muse_tf.saved_pipeline import SavedPipeline

    return SavedPipeline(path)


def load_pipeline(name_or_dir):
    """A bundled model name or model directory as its Python pipeline:
    `ClassToImage` if it is a bundled class-conditional model or its
    config names classes, else `TextToImage`."""
    import json
    import os

    from muse_tf.class_pipeline import ClassToImage
    from muse_tf.pipeline import TextToImage
    from muse_tf.presets import BUNDLED_CLASS_MODELS

    if name_or_dir in BUNDLED_CLASS_MODELS:
        return ClassToImage.from_pretrained(name_or_dir)
    config = os.path.join(name_or_dir, "config.json")
    if os.path.exists(config):
        with open(config) as f:
            if "class_names" in json.load(f):
                return ClassToImage.from_pretrained(name_or_dir)
    return TextToImage.from_pretrained(name_or_dir)
