"""Pre-activation residual block of the VQGAN (docs/design.md §2, §9.5)."""

import keras

SHORTCUTS = ("input", "output")


def _groups(channels):
    # GroupNorm with 32 groups as in VQGAN; small test models have fewer
    # channels than that, so fall back to one channel per group.
    return min(32, channels)


@keras.saving.register_keras_serializable(package="muse_tf")
class ResBlock(keras.layers.Layer):
    """GroupNorm -> swish -> conv3x3, twice, plus a shortcut that is
    projected by a 1x1 conv when the width changes.

    `shortcut="input"` projects the block's input (taming-transformers, our
    models). `shortcut="output"` is MaskGIT's released code
    (google-research/maskgit#3): the 1x1 conv projects the residual
    branch's *output* and the block returns `h + conv(h)`, so the input
    does not reach the output of a widening block; its checkpoints depend
    on it. MaskGIT's convs have no biases (`use_bias=False`) and its
    GroupNorm epsilon is 1e-6 (Keras's default: 1e-3).
    """

    def __init__(self, filters, shortcut="input", use_bias=True,
                 epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        if shortcut not in SHORTCUTS:
            raise ValueError(f"shortcut must be one of {SHORTCUTS}, got "
                             f"{shortcut!r}")
        self.filters = int(filters)
        self.shortcut_from = shortcut
        self.use_bias = bool(use_bias)
        self.epsilon = float(epsilon)
        self.norm1 = None  # Its group count depends on the input width.
        self.conv1 = keras.layers.Conv2D(self.filters, 3, padding="same",
                                         use_bias=self.use_bias,
                                         name="conv1")
        self.norm2 = keras.layers.GroupNormalization(
            _groups(self.filters), epsilon=self.epsilon, name="norm2")
        self.conv2 = keras.layers.Conv2D(self.filters, 3, padding="same",
                                         use_bias=self.use_bias,
                                         name="conv2")
        self.shortcut = None

    def build(self, input_shape):
        in_channels = input_shape[-1]
        self.norm1 = keras.layers.GroupNormalization(
            _groups(in_channels), epsilon=self.epsilon, name="norm1")
        self.norm1.build(input_shape)
        self.conv1.build(input_shape)
        out_shape = tuple(input_shape[:-1]) + (self.filters,)
        self.norm2.build(out_shape)
        self.conv2.build(out_shape)
        if in_channels != self.filters:
            self.shortcut = keras.layers.Conv2D(self.filters, 1,
                                                use_bias=self.use_bias,
                                                name="shortcut")
            self.shortcut.build(input_shape if self.shortcut_from == "input"
                                else out_shape)

    def call(self, x):
        h = self.conv1(keras.activations.silu(self.norm1(x)))
        h = self.conv2(keras.activations.silu(self.norm2(h)))
        if self.shortcut is not None:
            x = self.shortcut(x if self.shortcut_from == "input" else h)
        return x + h

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, shortcut=self.shortcut_from,
                      use_bias=self.use_bias, epsilon=self.epsilon)
        return config
