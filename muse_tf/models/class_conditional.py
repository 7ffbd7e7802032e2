"""MaskGIT's class-conditional mode: a class id instead of a prompt.

MaskGIT conditions on an ImageNet class token. Here the class id is looked
up in a learned embedding table and given to the base masked transformer as
a one-token "text" sequence, so the transformer, the decoding loop,
classifier-free guidance and editing are all the text model's. The table has
one extra row, the null class (id `num_classes`), which the 10% condition
drop trains and guidance uses as the unconditional input.

Dimensions: B batch, L image tokens, V codebook.
"""

import keras
import tensorflow as tf

from muse_tf.configs import TransformerConfig
from muse_tf.models.base import ClassConditional, ExportedByMuseServing
from muse_tf.models.maskgit_transformer import MaskGITTransformer
from muse_tf.models.transformer import MuseTransformer


def check_class_ids(class_ids, num_classes):
    """Raises ValueError unless every id is an integer in [0, num_classes)."""
    bad = [c for c in class_ids
           if isinstance(c, bool) or not isinstance(c, int)
           or not 0 <= c < num_classes]
    if bad:
        raise ValueError(f"class ids must be integers in [0, {num_classes}),"
                         f" got {bad[:3]!r}")


@keras.saving.register_keras_serializable(package="muse_tf")
class ClassConditionalTransformer(ClassConditional, ExportedByMuseServing,
                                  keras.Model):
    """(image tokens, class ids) -> logits, through a MuseTransformer."""

    def __init__(self, config: TransformerConfig, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.set_num_classes(num_classes)
        self.class_embedding = keras.layers.Embedding(
            self.num_classes + 1, config.text_dim,
            embeddings_initializer=keras.initializers.TruncatedNormal(
                stddev=0.02), name="class_embedding")
        self.transformer = MuseTransformer(config, name="transformer")
        self(tf.zeros([1, config.sequence_length], tf.int32),
             tf.zeros([1], tf.int32))

    def decoding_model(self):
        """The model the decoding loops run: the MuseTransformer that
        cross-attends to the class embedding."""
        return self.transformer

    def condition(self, class_ids):
        """int32 [B] -> (states [B, 1, text_dim], mask bool [B, 1]): the
        condition the transformer cross-attends to."""
        states = self.class_embedding(class_ids)[:, None, :]
        return states, tf.ones([tf.shape(class_ids)[0], 1], tf.bool)

    def call(self, token_ids, class_ids, training=False):
        """token_ids int32 [B, L]; class_ids int32 [B] in [0, num_classes]
        (num_classes: the null class). Returns float32 logits [B, L, V]."""
        states, mask = self.condition(class_ids)
        return self.transformer(token_ids, states, mask, training=training)


# The class-conditional transformer of each `TransformerConfig.architecture`.
CLASS_TRANSFORMERS = {"muse": ClassConditionalTransformer,
                      "maskgit": MaskGITTransformer}
