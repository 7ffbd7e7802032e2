"""Pre-activation residual block of the VQGAN (docs/design.md §2)."""

import keras


def _groups(channels):
    # GroupNorm with 32 groups as in VQGAN; small test models have fewer
    # channels than that, so fall back to one channel per group.
    return min(32, channels)


@keras.saving.register_keras_serializable(package="muse_tf")
class ResBlock(keras.layers.Layer):
    """GroupNorm -> swish -> conv3x3, twice, plus a (projected) shortcut.

    The shortcut is projected from the block *input* when the width changes
    (taming-transformers); MaskGIT's code projects the output instead
    (google-research/maskgit#3), which we do not copy since no MaskGIT
    checkpoint is loaded here.
    """

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.norm1 = None  # Its group count depends on the input width.
        self.conv1 = keras.layers.Conv2D(self.filters, 3, padding="same",
                                         name="conv1")
        self.norm2 = keras.layers.GroupNormalization(
            _groups(self.filters), name="norm2")
        self.conv2 = keras.layers.Conv2D(self.filters, 3, padding="same",
                                         name="conv2")
        self.shortcut = None

    def build(self, input_shape):
        in_channels = input_shape[-1]
        self.norm1 = keras.layers.GroupNormalization(
            _groups(in_channels), name="norm1")
        self.norm1.build(input_shape)
        self.conv1.build(input_shape)
        out_shape = tuple(input_shape[:-1]) + (self.filters,)
        self.norm2.build(out_shape)
        self.conv2.build(out_shape)
        if in_channels != self.filters:
            self.shortcut = keras.layers.Conv2D(self.filters, 1,
                                                name="shortcut")
            self.shortcut.build(input_shape)

    def call(self, x):
        h = self.conv1(keras.activations.silu(self.norm1(x)))
        h = self.conv2(keras.activations.silu(self.norm2(h)))
        if self.shortcut is not None:
            x = self.shortcut(x)
        return x + h

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters)
        return config
