"""Training losses: masked-token cross-entropy and the VQGAN's GAN and
perceptual losses."""

import keras
import tensorflow as tf


def masked_token_loss(logits, targets, mask, label_smoothing=0.1,
                      reduction="mean"):
    """Cross-entropy over masked positions only (MaskGIT §3.2).

    Args:
      logits: float [B, L, V].
      targets: int32 [B, L] true token ids.
      mask: bool [B, L], True where the input was [MASK].
      label_smoothing: MaskGIT uses 0.1.
      reduction: "mean" over the masked positions of the batch, or "sum"
        (for distributed training, normalised by the global count).

    Returns:
      Scalar float32.
    """
    vocab = logits.shape[-1]
    labels = (tf.one_hot(targets, vocab) * (1.0 - label_smoothing)
              + label_smoothing / vocab)
    # float32: a bf16 log-softmax over thousands of codes is too coarse.
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))
    per_token = -tf.reduce_sum(labels * log_probs, axis=-1)
    weights = tf.cast(mask, tf.float32)
    total = tf.reduce_sum(per_token * weights)
    if reduction == "sum":
        return total
    return total / tf.maximum(tf.reduce_sum(weights), 1.0)


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge loss of the discriminator (taming-transformers' VQGAN)."""
    real_logits = tf.cast(real_logits, tf.float32)  # bf16-safe means.
    fake_logits = tf.cast(fake_logits, tf.float32)
    return 0.5 * (tf.reduce_mean(tf.nn.relu(1.0 - real_logits))
                  + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits)))


def generator_adversarial_loss(fake_logits):
    """The generator's side of the hinge GAN loss."""
    return -tf.reduce_mean(tf.cast(fake_logits, tf.float32))


class PerceptualLoss:
    """An LPIPS-style distance on the frozen FID Inception's inner blocks.

    Muse trains its VQGAN with a perceptual loss on ImageNet VGG features
    (docs/design.md §2); no installable package ships those weights, but
    the FID Inception is bundled. Images and reconstructions are resized to
    `input_size`, run through it, and compared at the outputs of two
    Inception blocks (Mixed_5d and Mixed_6e): each feature vector is
    l2-normalised over its channels, and the squared differences are
    summed over channels and averaged over positions (LPIPS without its
    learned channel weights), then averaged over the two blocks.
    """

    # Indices of Mixed_5d and Mixed_6e among the Inception's eleven blocks.
    BLOCKS = (2, 7)

    def __init__(self, input_size=128):
        from muse_tf.models.inception import fid_inception

        inception = fid_inception(input_size=None)
        blocks = [layer for layer in inception.layers
                  if isinstance(layer, keras.layers.Concatenate)]
        self.model = keras.Model(
            inception.input, [blocks[i].output for i in self.BLOCKS],
            name="perceptual_features")
        self.model.trainable = False
        self.input_size = input_size

    def __call__(self, images, reconstructions):
        """float [B, H, W, 3] in [-1, 1] each -> scalar float32."""
        both = tf.image.resize(
            tf.concat([tf.cast(images, tf.float32),
                       tf.cast(reconstructions, tf.float32)], axis=0),
            [self.input_size, self.input_size])
        distances = []
        for features in self.model(both):
            features = tf.math.l2_normalize(tf.cast(features, tf.float32),
                                            axis=-1, epsilon=1e-10)
            real, fake = tf.split(features, 2)
            distances.append(tf.reduce_mean(tf.reduce_sum(
                tf.square(real - fake), axis=-1)))
        return tf.add_n(distances) / len(distances)
