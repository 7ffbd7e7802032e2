"""Named models: one registry of architectures, and of the trained weights,
fidelity judge and model card of the models bundled with the package.

A module without TensorFlow, so the CLI can name its defaults without
paying for `import tensorflow` when it only parses arguments.
"""

import dataclasses
import os

from muse_tf.configs import (
    ClassConfig,
    ModelConfig,
    SamplerConfig,
    SuperResConfig,
    SuperResStageConfig,
    TextConfig,
    TransformerConfig,
    VQGANConfig,
)

_HERE = os.path.dirname(__file__)
_DOCS = "docs/models"


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named model: its architecture and, for a bundled model, its
    trained weights (a model directory in this package), the stages it
    runs, the classifier that judges its fidelity with the held-out real
    images it is judged against (a `muse_tf.quality.load_real` spec), and
    its model card."""

    config: ModelConfig
    weights: str | None = None
    stages: str = "all"
    judge: str | None = None
    real: str | None = None
    card: str | None = None


FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress",
                         "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")

# Test-sized: 16x16 images, 8x8 tokens, a few small layers.
# FSQ's levels for about 2^10 codes (Mentzer et al., Table 1).
_FSQ_1000 = (8, 5, 5, 5)
_TINY = ModelConfig(
    vqgan=VQGANConfig(image_size=16, base_channels=8,
                      channel_multipliers=(1, 2), num_res_blocks=1,
                      codebook_size=64, embedding_dim=8,
                      large_decoder_channels=16, large_decoder_res_blocks=2),
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

_ARCHITECTURES = {
    "tiny": _TINY,
    # tiny plus a super-res stage (8x8 -> 16x16 tokens), for tests.
    "tiny_cascade": dataclasses.replace(
        _TINY,
        # Only the last VQGAN draws pixels, so only it has a larger decoder.
        vqgan=dataclasses.replace(_TINY.vqgan, large_decoder_channels=0,
                                  large_decoder_res_blocks=0),
        super_res=SuperResStageConfig(
            transformer=SuperResConfig(
                codebook_size=32, image_tokens_per_side=16,
                low_res_codebook_size=64, low_res_tokens_per_side=8,
                hidden_dim=32, num_encoder_layers=1, num_layers=2, num_heads=2,
                mlp_dim=64, dropout=0.0),
            vqgan=VQGANConfig(image_size=32, base_channels=8,
                              channel_multipliers=(1, 2), num_res_blocks=1,
                              codebook_size=32, embedding_dim=8,
                              large_decoder_channels=16,
                              large_decoder_res_blocks=2),
            sampler=SamplerConfig(num_steps=3))),
    "emoji_64": _EMOJI_64,
    # emoji_64 plus a super-res stage to 128x128 (16x16 tokens of the same
    # VQGAN architecture at twice the image size).
    "emoji_128": dataclasses.replace(_EMOJI_64, super_res=SuperResStageConfig(
        transformer=SuperResConfig(
            codebook_size=512, image_tokens_per_side=16,
            low_res_codebook_size=512, low_res_tokens_per_side=8,
            hidden_dim=256, num_encoder_layers=2, num_layers=4, num_heads=4,
            mlp_dim=1024, dropout=0.0),
        # Muse's larger decoder: twice the channels and residual blocks.
        vqgan=dataclasses.replace(_EMOJI_64.vqgan, image_size=128,
                                  large_decoder_channels=64,
                                  large_decoder_res_blocks=2),
        sampler=SamplerConfig(num_steps=8, guidance_scale=3.0))),
    # The next emoji model: one stage at 64x64 (every style exists there),
    # 16x16 tokens of a VQGAN that downsamples by 4 and quantizes with FSQ,
    # whose codes all stay in use. A 32-px base stage of 8x8 tokens kept
    # too little of each emoji's identity to build a cascade on
    # (docs/models/emoji_next.md). Its larger decoder has twice the
    # channels and a third residual block a level.
    "emoji_next": ModelConfig(
        vqgan=VQGANConfig(image_size=64, base_channels=32,
                          channel_multipliers=(1, 2, 4), num_res_blocks=2,
                          codebook_size=1000, embedding_dim=4,
                          fsq_levels=_FSQ_1000, large_decoder_channels=64,
                          large_decoder_res_blocks=3),
        transformer=TransformerConfig(
            codebook_size=1000, image_tokens_per_side=16, hidden_dim=256,
            num_layers=8, num_heads=4, mlp_dim=1024, dropout=0.0),
        text=TextConfig(max_length=32),
        sampler=SamplerConfig(num_steps=12, guidance_scale=3.0)),
    # Class-conditional Fashion-MNIST (padded to 32x32): 8x8 tokens.
    "fashion_32": ModelConfig(
        vqgan=VQGANConfig(image_size=32, base_channels=32,
                          channel_multipliers=(1, 2, 2), num_res_blocks=1,
                          codebook_size=256, embedding_dim=32, grey=True),
        transformer=TransformerConfig(
            codebook_size=256, image_tokens_per_side=8, hidden_dim=256,
            num_layers=4, num_heads=4, mlp_dim=1024, dropout=0.0,
            text_dim=64),
        text=None, classes=ClassConfig(FASHION_MNIST_CLASSES),
        sampler=SamplerConfig(num_steps=8, guidance_scale=2.0)),
    # Test-sized class-conditional Fashion-MNIST: 32x32, 8x8 tokens, a grey
    # VQGAN as fashion_32's.
    "tiny_class": ModelConfig(
        vqgan=VQGANConfig(image_size=32, base_channels=8,
                          channel_multipliers=(1, 2, 2), num_res_blocks=1,
                          codebook_size=64, embedding_dim=8, grey=True),
        transformer=dataclasses.replace(_TINY.transformer, text_dim=16),
        text=None, classes=ClassConfig(FASHION_MNIST_CLASSES),
        sampler=SamplerConfig(num_steps=3)),
    # MaskGIT's ImageNet 256 model (docs/design.md §2-3), with our text encoder.
    "maskgit_256": ModelConfig(
        vqgan=VQGANConfig(),
        transformer=TransformerConfig(num_layers=24, hidden_dim=768,
                                      num_heads=16, mlp_dim=3072),
        sampler=SamplerConfig(num_steps=8)),
}



_EMOJI_JUDGE = os.path.join(_HERE, "judge_emoji")
_BUNDLED = {
    "emoji_128": Preset(
        _ARCHITECTURES["emoji_128"], os.path.join(_HERE, "emoji_128"),
        judge=_EMOJI_JUDGE, real="emoji_captions/full_128:test",
        card=f"{_DOCS}/emoji_128.md"),
    # The emoji_128 cascade's base stage alone (64x64 images).
    "emoji_64": Preset(
        _ARCHITECTURES["emoji_64"], os.path.join(_HERE, "emoji_128"),
        stages="base", judge=_EMOJI_JUDGE, real="emoji_captions/full:test",
        card=f"{_DOCS}/emoji_128.md"),
    "fashion_32": Preset(
        _ARCHITECTURES["fashion_32"], os.path.join(_HERE, "fashion_32"),
        judge=os.path.join(_HERE, "judge_fashion_mnist"),
        real="fashion_mnist:test", card=f"{_DOCS}/fashion_32.md"),
}
PRESETS = {name: _BUNDLED.get(name, Preset(config))
           for name, config in _ARCHITECTURES.items()}
DEFAULT_MODEL = "emoji_128"

# Views of the registry. name -> (model directory, stages):
BUNDLED_MODELS = {name: (p.weights, p.stages) for name, p in PRESETS.items()
                  if p.weights}
# name -> (judge directory, held-out real images):
JUDGES = {name: (p.judge, p.real) for name, p in PRESETS.items() if p.judge}


def get_preset(name: str) -> Preset:
    """The preset called `name`, or a ValueError naming it."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; known presets: "
                         f"{sorted(PRESETS)}")
    return PRESETS[name]


def get_config(name: str) -> ModelConfig:
    """The architecture of the preset called `name`, or of the model
    directory at `name` (e.g. a converted model to fine-tune); a
    ValueError if neither."""
    manifest = os.path.join(name, "model.json")
    if name not in PRESETS and os.path.isfile(manifest):
        # model_dir's reading, which finds a text encoder kept in the
        # directory (aMUSEd's CLIP); imported here, as it imports this
        # module and TensorFlow.
        from muse_tf import model_dir
        return model_dir.read_manifest(name)[0]
    return get_preset(name).config
