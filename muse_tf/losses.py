"""Training losses: masked-token cross-entropy and the VQGAN's GAN losses."""

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
