"""muse_tf: Muse / MaskGIT masked generative transformers in TensorFlow 2.

Start with `muse_tf.load_pipeline()` (the bundled default model, any
bundled model by name, or a model directory), `muse_tf.load(path)` (an
exported SavedModel), or `muse-tf generate --help`.
"""


def load(path, precision="auto"):
    """Loads an exported SavedModel as a pipeline: `load(p)(["a prompt"])`
    (`precision`: see `SavedPipeline`)."""
    from muse_tf.saved_pipeline import SavedPipeline

    return SavedPipeline(path, precision)


def load_pipeline(name_or_dir=None, **kwargs):
    """A bundled model name (default: the bundled default) or a model
    directory as its Python pipeline; `kwargs` as
    `MusePipeline.from_pretrained`."""
    from muse_tf.pipeline import MusePipeline

    return MusePipeline.from_pretrained(name_or_dir, **kwargs)
