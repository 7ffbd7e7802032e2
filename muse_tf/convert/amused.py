"""Converts diffusers' aMUSEd folders (`amused/amused-256`,
`amused/amused-512`) into a model directory that every muse-tf verb takes.

A diffusers folder holds one subfolder per part (docs/design.md §10.1),
read with `safetensors` and JSON alone, without torch:

  transformer/   UVit2DModel    -> UViTTransformer (convert/amused_transformer.py)
  vqvae/         VQModel        -> VQGAN(architecture="amused") (convert/amused_vqvae.py)
  text_encoder/  CLIPTextModelWithProjection, and
  tokenizer/     CLIPTokenizer  -> CLIPTextEncoder with its BPE in the graph
                                   (convert/amused_text.py)
  scheduler/     AmusedScheduler: its [MASK] id and mask schedule

Every parameter is assigned strictly. The text encoder is frozen, so its
folders are copied into the model directory as they are (`model_dir`
keeps them with the model). The sampler is aMUSEd's decoding (§10.6): 12
steps of the cosine schedule, tokens drawn at temperature 1, choice
temperature linspace(2, 0, 12), masked counts from the sequence length,
re-masking below a confidence cut-off value, and guidance 10 against the
empty prompt, which is our constant scale 9 (ours is ℓ_c + s(ℓ_c − ℓ_u),
diffusers' ℓ_u + g(ℓ_c − ℓ_u): s = g − 1).

  muse-tf convert amused amused-256 models/amused_256
"""

import os

from muse_tf import model_dir
from muse_tf.configs import ModelConfig, SamplerConfig, TextConfig
from muse_tf.convert import amused_text, amused_transformer, amused_vqvae
from muse_tf.convert.diffusers_folder import read_json, read_part

PIPELINE_CLASS = "AmusedPipeline"
TRANSFORMER_WEIGHTS = ("diffusion_pytorch_model.safetensors",
                       "diffusion_pytorch_model.fp16.safetensors")
GUIDANCE = 10.0  # AmusedPipeline's default, in diffusers' convention.


def sampler_config(schedule="cosine"):
    """aMUSEd's decoding as our sampler's settings."""
    return SamplerConfig(
        num_steps=12, schedule=schedule, temperature=1.0,
        choice_temperature=2.0, choice_annealing="linspace",
        guidance_scale=GUIDANCE - 1.0, guidance_schedule="constant",
        mask_count_from="length", cutoff="value")


def _check_pipeline(folder):
    """The folder is an AmusedPipeline's, or a ValueError says what it is."""
    index = os.path.join(folder, "model_index.json")
    if not os.path.isdir(folder):
        raise ValueError(f"{folder} is not a directory")
    if os.path.exists(index):
        name = read_json(index).get("_class_name")
        if name != PIPELINE_CLASS:
            raise ValueError(f"{folder} holds a {name}, not an "
                             f"{PIPELINE_CLASS}")
    missing = [sub for sub in ("transformer", "vqvae", "text_encoder",
                               "tokenizer", "scheduler")
               if not os.path.isdir(os.path.join(folder, sub))]
    if missing:
        raise ValueError(f"{folder} has no {missing[0]}/ folder: not a "
                         "diffusers aMUSEd folder")


def _scheduler(folder, transformer):
    """The mask schedule, after checking the scheduler writes the [MASK]
    id the transformer reads."""
    config = read_json(os.path.join(folder, "scheduler",
                                    "scheduler_config.json"))
    mask = config.get("mask_token_id")
    if mask != transformer.config.mask_token_id:
        raise ValueError(
            f"scheduler mask_token_id {mask} is not the transformer's last "
            f"vocabulary row {transformer.config.mask_token_id}")
    return config.get("masking_schedule", "cosine")


def convert_folder(folder):
    """(ModelConfig, {"transformer", "vqgan"} models, CLIPTextEncoder) of
    a diffusers aMUSEd folder; the ModelConfig's text encoder is the
    folder itself."""
    _check_pipeline(folder)
    vq_json, vq_weights = read_part(os.path.join(folder, "vqvae"),
                                    amused_vqvae.WEIGHT_FILES)
    downsampling = 2 ** (len(vq_json.get("block_out_channels", [64])) - 1)
    tf_json, tf_weights = read_part(os.path.join(folder, "transformer"),
                                    TRANSFORMER_WEIGHTS)
    transformer = amused_transformer.build_transformer(tf_json, tf_weights,
                                                       downsampling)
    del tf_weights
    vqgan = amused_vqvae.convert(vq_json, vq_weights,
                                 transformer.config.sample_size)
    text_encoder = amused_text.load_encoder(folder)
    text = TextConfig(kind="clip", handle=os.path.abspath(folder),
                      max_length=text_encoder.max_length,
                      output_dim=text_encoder.output_dim)
    config = ModelConfig(vqgan=vqgan.config, transformer=transformer.config,
                         text=text,
                         sampler=sampler_config(_scheduler(folder,
                                                           transformer)))
    if text_encoder.pooled_dim != transformer.config.cond_embed_dim:
        raise ValueError(
            f"the text encoder's projection ({text_encoder.pooled_dim}) is "
            "not the transformer's cond_embed_dim "
            f"({transformer.config.cond_embed_dim})")
    return config, {"transformer": transformer, "vqgan": vqgan}, text_encoder


def convert(folder, output):
    """Writes the model directory `output` from the diffusers folder;
    returns its ModelConfig."""
    config, models, _ = convert_folder(folder)
    model_dir.save(output, config, models)
    return config
