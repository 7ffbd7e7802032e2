"""Vector quantizer with commitment loss and straight-through gradients.

Two lookups (`distance`):
  "cosine"  our models: the encoder output and the codebook are
            l2-normalised before the nearest-entry search (ViT-VQGAN,
            arXiv 2110.04627, §3.2). On unit vectors, nearest in l2 and
            highest cosine agree, and the normalisation keeps most of a
            small codebook in use from the first steps, which plain l2
            lookup does not when training is short.
  "l2"      MaskGIT's released tokenizer: squared Euclidean distance
            between raw vectors and raw codebook rows.

Dimensions: B batch, H, W token grid, D embedding, K codebook size.
"""

import keras
import tensorflow as tf

DISTANCES = ("cosine", "l2")


@keras.saving.register_keras_serializable(package="muse_tf")
class VectorQuantizer(keras.layers.Layer):
    """Maps `[B, H, W, D]` vectors to code ids and back."""

    def __init__(self, codebook_size, embedding_dim, commitment_cost=0.25,
                 distance="cosine", **kwargs):
        super().__init__(**kwargs)
        if distance not in DISTANCES:
            raise ValueError(f"distance must be one of {DISTANCES}, got "
                             f"{distance!r}")
        self.codebook_size = int(codebook_size)
        self.embedding_dim = int(embedding_dim)
        self.commitment_cost = float(commitment_cost)
        self.distance = distance

    def build(self, input_shape):
        self.codebook = self.add_weight(
            name="codebook", shape=(self.codebook_size, self.embedding_dim),
            initializer=keras.initializers.RandomUniform(-1.0, 1.0))

    def _codebook(self):
        """The codebook as the lookup compares against it, float32."""
        codebook = tf.cast(self.codebook, tf.float32)
        if self.distance == "cosine":
            return tf.math.l2_normalize(codebook, -1)
        return codebook

    def nearest(self, z):
        """float32 [B, H, W, D] (already normalised for "cosine") -> int32
        ids [B, H, W] of the nearest codes."""
        codebook = self._codebook()
        scores = tf.einsum("bhwd,kd->bhwk", z, codebook)
        if self.distance == "cosine":
            return tf.argmax(scores, axis=-1, output_type=tf.int32)
        # ‖z‖² − 2 z·c + ‖c‖², as MaskGIT computes it.
        distances = (tf.reduce_sum(tf.square(z), -1, keepdims=True)
                     - 2.0 * scores
                     + tf.reduce_sum(tf.square(codebook), -1))
        return tf.argmin(distances, axis=-1, output_type=tf.int32)

    def call(self, z):
        """Returns (quantized, ids, loss).

        quantized float32 [B, H, W, D] carries the straight-through gradient
        to `z`; ids int32 [B, H, W]; loss is the codebook + commitment loss.
        """
        # float32 whatever the policy: distances between near-unit vectors
        # lose the ranking of close codes in bfloat16.
        z = tf.cast(z, tf.float32)
        if self.distance == "cosine":
            z = tf.math.l2_normalize(z, -1)
        ids = self.nearest(z)
        quantized = tf.gather(self._codebook(), ids)
        codebook_loss = tf.reduce_mean(
            tf.square(tf.stop_gradient(z) - quantized))
        commitment_loss = tf.reduce_mean(
            tf.square(z - tf.stop_gradient(quantized)))
        loss = codebook_loss + self.commitment_cost * commitment_loss
        quantized = z + tf.stop_gradient(quantized - z)
        return quantized, ids, loss

    def lookup(self, ids):
        """int32 [B, H, W] code ids -> float32 [B, H, W, D] code vectors
        (unit vectors for "cosine")."""
        return tf.gather(self._codebook(), ids)

    def get_config(self):
        config = super().get_config()
        config.update(codebook_size=self.codebook_size,
                      embedding_dim=self.embedding_dim,
                      commitment_cost=self.commitment_cost,
                      distance=self.distance)
        return config
