"""muse_tf: Muse / MaskGIT masked generative transformers in TensorFlow 2.

Start with `muse_tf.pipeline.TextToImage.from_pretrained()`, the bundled
emoji cascade, or `muse-tf generate --help`.
"""


def load(path):
    """Loads an exported SavedModel as a pipeline: `load(p)(["a prompt"])`."""
    from muse_tf.saved_pipeline import SavedPipeline

    return SavedPipeline(path)
