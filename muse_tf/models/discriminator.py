"""PatchGAN discriminator for the VQGAN's adversarial loss.

See docs/design.md §2 for the losses it serves.
"""

import keras

from muse_tf.models.base import ExportedByMuseServing


@keras.saving.register_keras_serializable(package="muse_tf")
class PatchDiscriminator(ExportedByMuseServing, keras.Model):
    """Images [B, H, W, 3] -> real/fake logits per patch [B, h, w, 1].

    Strided convs with LeakyReLU as in pix2pix/taming-transformers; GroupNorm
    instead of BatchNorm so replicas under a distribution strategy need no
    synchronised batch statistics.
    """

    def __init__(self, base_channels=64, num_layers=3, **kwargs):
        super().__init__(**kwargs)
        self.base_channels = int(base_channels)
        self.num_layers = int(num_layers)
        self.convs = []
        self.norms = []
        for i in range(self.num_layers):
            filters = self.base_channels * min(2**i, 8)
            self.convs.append(keras.layers.Conv2D(
                filters, 4, strides=2, padding="same", name=f"conv_{i}"))
            self.norms.append(keras.layers.GroupNormalization(
                min(32, filters), name=f"norm_{i}") if i else None)
        self.conv_out = keras.layers.Conv2D(1, 3, padding="same",
                                            name="conv_out")

    def call(self, images):
        x = images
        for conv, norm in zip(self.convs, self.norms):
            x = conv(x)
            if norm is not None:
                x = norm(x)
            x = keras.activations.leaky_relu(x, 0.2)
        return self.conv_out(x)

    def get_config(self):
        config = super().get_config()
        config.update(base_channels=self.base_channels,
                      num_layers=self.num_layers)
        return config
