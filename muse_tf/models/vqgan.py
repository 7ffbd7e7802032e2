"""VQGAN image tokenizer (docs/design.md §2; MaskGIT `vqgan_tokenizer.py`).

Fully convolutional, with no attention blocks, so any image size that the
downsampling factor divides encodes. Images are float32 in [-1, 1].

Three architectures (`VQGANConfig.architecture`): "muse", ours;
"maskgit", the released MaskGIT tokenizer exactly (docs/design.md §9.5),
so its checkpoints load: residual blocks without conv biases and with the
shortcut on the branch output, GroupNorm epsilon 1e-6, 2x2 average-pool
downsampling, plain squared-l2 code lookup and pixels in [0, 1] (mapped
from and to our [-1, 1] at the model's edge); and "amused", diffusers'
`VQModel` as aMUSEd configures it (docs/design.md §10.4): our residual
blocks with GroupNorm epsilon 1e-6, 3x3 stride-2 downsampling convs, a
3x3 encoder output conv followed by a 1x1 `quant_conv`, a 1x1
`post_quant_conv` before the decoder, two middle blocks whatever the
per-level count, squared-l2 lookup and pixels in [0, 1].

Dimensions: B batch, H, W pixels, h, w token grid, D code embedding.
"""

import keras
import tensorflow as tf

from muse_tf.configs import VQGANConfig
from muse_tf.layers.res_block import ResBlock
from muse_tf.layers.scalar_quantizer import FiniteScalarQuantizer
from muse_tf.layers.vector_quantizer import VectorQuantizer
from muse_tf.models.base import BuiltFromConfig, ExportedByMuseServing

# Per architecture: the residual blocks' options, the GroupNorm epsilon
# and whether the encoder's first conv has a bias; how the encoder
# downsamples ("average" pooling, or a stride-2 conv of that kernel size);
# the middle blocks' count (None: the per-level count); whether 1x1 convs
# sit between the encoder, the codebook and the decoder (then the encoder's
# output conv is 3x3, not 1x1); the code lookup; whether the pixels the
# architecture takes and draws are in [0, 1] rather than our [-1, 1].
_ARCHITECTURES = {
    "muse": {"shortcut": "input", "use_bias": True, "epsilon": 1e-3,
             "downsample": 4, "mid_blocks": None, "quant_convs": False,
             "distance": "cosine", "unit_pixels": False},
    "maskgit": {"shortcut": "output", "use_bias": False, "epsilon": 1e-6,
                "downsample": "average", "mid_blocks": None,
                "quant_convs": False, "distance": "l2", "unit_pixels": True},
    # diffusers pads right and bottom by one before its 3x3 stride-2 conv;
    # for even sizes (all that `encode` takes) that is TensorFlow's "same".
    "amused": {"shortcut": "input", "use_bias": True, "epsilon": 1e-6,
               "downsample": 3, "mid_blocks": 2, "quant_convs": True,
               "distance": "l2", "unit_pixels": True},
}


def _check_images(images):
    if images.shape.rank != 4 or images.shape[-1] != 3:
        raise ValueError("images must have shape [batch, height, width, 3], "
                         f"got shape {images.shape}")


@keras.saving.register_keras_serializable(package="muse_tf")
class VQGANEncoder(keras.layers.Layer):
    """Images [B, H, W, 3] -> continuous codes [B, h, w, D]."""

    def __init__(self, base_channels, channel_multipliers, num_res_blocks,
                 embedding_dim, architecture="muse", **kwargs):
        super().__init__(**kwargs)
        self.base_channels = int(base_channels)
        self.channel_multipliers = tuple(channel_multipliers)
        self.num_res_blocks = int(num_res_blocks)
        self.embedding_dim = int(embedding_dim)
        self.architecture = architecture
        options = _ARCHITECTURES[architecture]
        block = {k: options[k] for k in ("shortcut", "use_bias", "epsilon")}
        self.conv_in = keras.layers.Conv2D(
            self.base_channels, 3, padding="same",
            use_bias=options["use_bias"], name="conv_in")
        self.blocks = []
        for level, mult in enumerate(self.channel_multipliers):
            for i in range(self.num_res_blocks):
                self.blocks.append(ResBlock(self.base_channels * mult,
                                            name=f"res_{level}_{i}", **block))
            if level == len(self.channel_multipliers) - 1:
                continue
            if options["downsample"] == "average":
                # "same" padding leaves padded cells out of the mean, as
                # TensorFlow's (and MaskGIT's) average pooling does.
                self.blocks.append(keras.layers.AveragePooling2D(
                    2, padding="same", name=f"down_{level}"))
            else:
                self.blocks.append(keras.layers.Conv2D(
                    self.base_channels * mult, options["downsample"],
                    strides=2, padding="same", name=f"down_{level}"))
        width = self.base_channels * self.channel_multipliers[-1]
        self.blocks += [ResBlock(width, name=f"mid_{i}", **block)
                        for i in range(options["mid_blocks"]
                                       or self.num_res_blocks)]
        self.norm_out = keras.layers.GroupNormalization(
            min(32, width), epsilon=options["epsilon"], name="norm_out")
        self.conv_out = keras.layers.Conv2D(
            self.embedding_dim, 3 if options["quant_convs"] else 1,
            padding="same", name="conv_out")
        self.quant_conv = (keras.layers.Conv2D(self.embedding_dim, 1,
                                               name="quant_conv")
                           if options["quant_convs"] else None)

    def call(self, images):
        x = self.conv_in(images)
        for block in self.blocks:
            x = block(x)
        x = self.conv_out(keras.activations.silu(self.norm_out(x)))
        return self.quant_conv(x) if self.quant_conv is not None else x

    def get_config(self):
        config = super().get_config()
        config.update(base_channels=self.base_channels,
                      channel_multipliers=self.channel_multipliers,
                      num_res_blocks=self.num_res_blocks,
                      embedding_dim=self.embedding_dim,
                      architecture=self.architecture)
        return config


@keras.saving.register_keras_serializable(package="muse_tf")
class VQGANDecoder(keras.layers.Layer):
    """Code vectors [B, h, w, D] -> images [B, H, W, 3] (unclipped); with
    `grey`, one drawn channel repeated three times. `embedding_dim` (D) is
    needed only by architectures with a `post_quant_conv`."""

    def __init__(self, base_channels, channel_multipliers, num_res_blocks,
                 grey=False, architecture="muse", embedding_dim=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.base_channels = int(base_channels)
        self.channel_multipliers = tuple(channel_multipliers)
        self.num_res_blocks = int(num_res_blocks)
        self.grey = bool(grey)
        self.architecture = architecture
        self.embedding_dim = (None if embedding_dim is None
                              else int(embedding_dim))
        options = _ARCHITECTURES[architecture]
        block = {k: options[k] for k in ("shortcut", "use_bias", "epsilon")}
        width = self.base_channels * self.channel_multipliers[-1]
        self.post_quant_conv = None
        if options["quant_convs"]:
            if self.embedding_dim is None:
                raise ValueError(f"a {architecture!r} decoder needs "
                                 "embedding_dim for its post_quant_conv")
            self.post_quant_conv = keras.layers.Conv2D(
                self.embedding_dim, 1, name="post_quant_conv")
        self.conv_in = keras.layers.Conv2D(width, 3, padding="same",
                                           name="conv_in")
        self.blocks = [ResBlock(width, name=f"mid_{i}", **block)
                       for i in range(options["mid_blocks"]
                                      or self.num_res_blocks)]
        levels = list(enumerate(self.channel_multipliers))[::-1]
        for level, mult in levels:
            for i in range(self.num_res_blocks):
                self.blocks.append(ResBlock(self.base_channels * mult,
                                            name=f"res_{level}_{i}", **block))
            if level > 0:
                # Nearest upsampling + conv avoids transposed-conv
                # checkerboards.
                self.blocks.append(keras.layers.UpSampling2D(
                    2, name=f"upsample_{level}"))
                self.blocks.append(keras.layers.Conv2D(
                    self.base_channels * mult, 3, padding="same",
                    name=f"up_{level}"))
        self.norm_out = keras.layers.GroupNormalization(
            min(32, self.base_channels * self.channel_multipliers[0]),
            epsilon=options["epsilon"], name="norm_out")
        self.conv_out = keras.layers.Conv2D(1 if self.grey else 3, 3,
                                            padding="same", name="conv_out")

    def call(self, codes):
        if self.post_quant_conv is not None:
            codes = self.post_quant_conv(codes)
        x = self.conv_in(codes)
        for block in self.blocks:
            x = block(x)
        images = self.conv_out(keras.activations.silu(self.norm_out(x)))
        return tf.repeat(images, 3, axis=-1) if self.grey else images

    def get_config(self):
        config = super().get_config()
        config.update(base_channels=self.base_channels,
                      channel_multipliers=self.channel_multipliers,
                      num_res_blocks=self.num_res_blocks, grey=self.grey,
                      architecture=self.architecture,
                      embedding_dim=self.embedding_dim)
        return config


@keras.saving.register_keras_serializable(package="muse_tf")
class VQGAN(BuiltFromConfig, ExportedByMuseServing, keras.Model):
    """Encoder, quantizer (a learned codebook, or FSQ with `fsq_levels`)
    and decoder built from a `VQGANConfig`.

    `encode(images) -> ids` and `decode(ids) -> images` are the tokenizer
    interface the transformers use; `call` is the training path and returns
    (reconstruction, ids, quantizer loss).
    """

    config_class = VQGANConfig

    def __init__(self, config: VQGANConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        c = config
        self.encoder = VQGANEncoder(c.base_channels, c.channel_multipliers,
                                    c.num_res_blocks, c.embedding_dim,
                                    c.architecture, name="encoder")
        if c.fsq_levels:
            self.quantizer = FiniteScalarQuantizer(c.fsq_levels,
                                                   name="quantizer")
        else:
            self.quantizer = VectorQuantizer(
                c.codebook_size, c.embedding_dim, c.commitment_cost,
                distance=_ARCHITECTURES[c.architecture]["distance"],
                name="quantizer")
        self.decoder = VQGANDecoder(c.decoder_base_channels,
                                    c.channel_multipliers,
                                    c.decoder_num_res_blocks, grey=c.grey,
                                    architecture=c.architecture,
                                    embedding_dim=c.embedding_dim,
                                    name="decoder")
        # One token's pixels: the variables do not depend on the image
        # size, and a pass at full size costs a whole encode and decode
        # (half a minute for aMUSEd's VQ-GAN at 256 px on two cores).
        self.build_for_size(c.downsampling_factor)

    def build_for_size(self, image_size):
        # One forward pass creates every variable; the convolutional
        # sublayers have no shape-only build of their own.
        self(tf.zeros([1, image_size, image_size, 3]))

    def _encoder_input(self, images):
        """Our [-1, 1] pixels as the encoder's architecture takes them."""
        if _ARCHITECTURES[self.config.architecture]["unit_pixels"]:
            return (images + 1.0) / 2.0
        return images

    def _decoder_output(self, codes):
        """The decoder's pixels, float32, in our [-1, 1] (unclipped)."""
        # float32 under a mixed_bfloat16 policy too: the losses compare
        # reconstructions with float32 images.
        images = tf.cast(self.decoder(codes), tf.float32)
        if _ARCHITECTURES[self.config.architecture]["unit_pixels"]:
            return images * 2.0 - 1.0
        return images

    def call(self, images, training=False):
        _check_images(images)
        quantized, ids, loss = self.quantizer(self.encoder(
            self._encoder_input(images)))
        return self._decoder_output(quantized), ids, loss

    def encode(self, images):
        """float [B, H, W, 3] in [-1, 1] -> int32 token ids [B, h, w]."""
        images = tf.convert_to_tensor(images, tf.float32)
        _check_images(images)
        factor = self.config.downsampling_factor
        if images.shape[1] is not None and (images.shape[1] % factor
                                            or images.shape[2] % factor):
            raise ValueError(f"image height and width must be multiples of "
                             f"{factor}, got shape {images.shape}")
        return self.quantizer(self.encoder(self._encoder_input(images)))[1]

    def decode(self, ids):
        """int [B, h, w] token ids -> float32 images [B, H, W, 3] in [-1, 1]."""
        ids = tf.convert_to_tensor(ids, tf.int32)
        if ids.shape.rank != 3:
            raise ValueError(f"token ids must have shape [batch, height, "
                             f"width], got shape {ids.shape}")
        images = self._decoder_output(self.quantizer.lookup(ids))
        return tf.clip_by_value(images, -1.0, 1.0)
