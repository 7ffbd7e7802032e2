"""The trained models bundled with the package, by name.

A module without TensorFlow, so the CLI can name its defaults without
paying for `import tensorflow` when it only parses arguments.
"""

import os

_HERE = os.path.dirname(__file__)

# Text-to-image models: name -> (model directory, stages). emoji_64 is the
# emoji_128 cascade's base stage alone (64x64 images).
BUNDLED_MODELS = {"emoji_128": (os.path.join(_HERE, "emoji_128"), "all"),
                  "emoji_64": (os.path.join(_HERE, "emoji_128"), "base")}
DEFAULT_MODEL = "emoji_128"

# Class-conditional models (MaskGIT's mode): name -> model directory.
BUNDLED_CLASS_MODELS = {"fashion_32": os.path.join(_HERE, "fashion_32")}

# The classifiers that judge the bundled models' fidelity, trained on real
# images (training/train_classifier.py), and the held-out real images they
# are judged against: model name -> (judge directory, data spec of
# muse_tf.quality.load_real).
_EMOJI_JUDGE = os.path.join(_HERE, "judge_emoji")
JUDGES = {"fashion_32": (os.path.join(_HERE, "judge_fashion_mnist"),
                         "fashion_mnist:test"),
          "emoji_128": (_EMOJI_JUDGE, "emoji_captions/full_128:test"),
          "emoji_64": (_EMOJI_JUDGE, "emoji_captions/full:test")}
