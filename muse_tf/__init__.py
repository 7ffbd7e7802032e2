"""muse_tf: Muse / MaskGIT masked generative transformers in TensorFlow 2.

Start with `muse_tf.pipeline.TextToImage.from_pretrained("emoji_64")`, the
bundled model, or `muse-tf generate --help`.
"""
