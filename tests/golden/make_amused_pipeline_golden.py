"""Writes the golden file of a whole aMUSEd generation: what diffusers'
`AmusedPipeline` draws with a tiny random model, for
tests/convert/amused_test.py (which needs no torch).

The tiny pipeline has every part of aMUSEd's (the U-ViT with its ConvNeXt
and text-attention stages, the VQ-GAN, CLIP's text encoder with OpenAI's
real BPE vocabulary, the scheduler) at widths of a few dozen. Both sides
sample greedily, so the same tokens must come out: `torch.multinomial` is
replaced by the argmax of its probabilities and the scheduler's
temperature is (0, 0), which multiplies its Gumbel noise by 0; our
sampler's equivalent is temperature 0 and choice temperature 0. Guidance
10 against the empty prompt, 12 steps, the default micro-conditioning.

  tests/golden/amused_pipeline_tiny.npz
    folder    JSON: for each subfolder of the diffusers folder that
              `save_pretrained` wrote (transformer, vqvae, text_encoder),
              its config.json and the {key: [shape, dtype]} of its
              safetensors file; the weights are
              amused_params.random_state_dict(shapes, seed); tokenizer/
              is clip_vocab.write_tokenizer_folder; model_index.json and
              the scheduler's config
    seed      the weights' seed
    prompts   JSON list
    tokens    int [B, h·w], the generated tokens (row-major)
    images    float32 [B, H, W, 3] in [0, 1] (`output_type="np"`)

Run in the PyTorch peers' virtualenv (benchmarks/peers/setup_venv.sh; it
needs `pip install --no-deps open-clip-torch==3.3.0` for the vocabulary):

  ~/.cache/muse_peers_venv/bin/python tests/golden/make_amused_pipeline_golden.py
"""

import glob
import json
import os
import sys
import tempfile

import numpy as np
import safetensors.numpy
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import amused_params
import clip_vocab

SEED = 7
PROMPTS = ["a red apple on a table", "Ünïcödé, 2024!"]
CODEBOOK = 64
TEXT_WIDTH, POOLED_WIDTH = 32, 24


def tiny_parts():
    from diffusers import AmusedScheduler, UVit2DModel, VQModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    transformer = UVit2DModel(
        hidden_size=32, use_bias=False, hidden_dropout=0.0,
        cond_embed_dim=POOLED_WIDTH, micro_cond_encode_dim=8,
        micro_cond_embed_dim=40,
        encoder_hidden_size=TEXT_WIDTH, vocab_size=CODEBOOK + 8,
        codebook_size=CODEBOOK, in_channels=16, block_out_channels=16,
        num_res_blocks=1, downsample=False, upsample=False,
        block_num_heads=2, num_hidden_layers=2, num_attention_heads=2,
        attention_dropout=0.0, intermediate_size=40, layer_norm_eps=1e-6,
        ln_elementwise_affine=True, sample_size=8)
    vqvae = VQModel(
        block_out_channels=(32, 32, 32),
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3, layers_per_block=1,
        latent_channels=8, num_vq_embeddings=CODEBOOK, norm_num_groups=32,
        mid_block_add_attention=False, lookup_from_codebook=True,
        force_upcast=True, sample_size=32)
    text_encoder = CLIPTextModelWithProjection(CLIPTextConfig(
        vocab_size=49408, hidden_size=TEXT_WIDTH, intermediate_size=37,
        num_hidden_layers=2, num_attention_heads=4,
        max_position_embeddings=77, hidden_act="quick_gelu",
        layer_norm_eps=1e-5, projection_dim=POOLED_WIDTH,
        bos_token_id=49406, eos_token_id=49407, pad_token_id=49407))
    scheduler = AmusedScheduler(mask_token_id=CODEBOOK + 8 - 1)
    return transformer, vqvae, text_encoder, scheduler


def randomize(module):
    """Loads seeded random weights (strictly) and returns their shapes."""
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()
              if v.dtype.is_floating_point}
    weights = amused_params.random_state_dict(shapes, SEED)
    module.load_state_dict({k: torch.from_numpy(v)
                            for k, v in weights.items()}, strict=True)
    return module.eval()


def describe(folder):
    """{subfolder: {"config": config.json, "tensors": {key: [shape,
    dtype]}}} of a saved diffusers folder, plus its other JSON files."""
    described = {}
    for sub in ("transformer", "vqvae", "text_encoder"):
        with open(os.path.join(folder, sub, "config.json")) as f:
            config = json.load(f)
        (weights,) = glob.glob(os.path.join(folder, sub, "*.safetensors"))
        tensors = {k: [list(v.shape), str(v.dtype)] for k, v in
                   safetensors.numpy.load_file(weights).items()}
        described[sub] = {"config": config, "tensors": tensors,
                          "file": os.path.basename(weights)}
    for name in ("model_index.json", "scheduler/scheduler_config.json"):
        with open(os.path.join(folder, name)) as f:
            described[name] = json.load(f)
    return described


def main():
    from diffusers import AmusedPipeline
    from transformers import CLIPTokenizer

    transformer, vqvae, text_encoder, scheduler = tiny_parts()
    for module in (transformer, vqvae, text_encoder):
        randomize(module)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(
            clip_vocab.write_tokenizer_folder(os.path.join(tmp, "tok")))
        pipe = AmusedPipeline(vqvae=vqvae, tokenizer=tokenizer,
                              text_encoder=text_encoder,
                              transformer=transformer, scheduler=scheduler)
        pipe.save_pretrained(os.path.join(tmp, "pipe"))
        folder = describe(os.path.join(tmp, "pipe"))

    # Greedy on both sides: the argmax of the probabilities instead of a
    # draw, and no Gumbel noise in the confidence ranking.
    torch.multinomial = lambda probs, n, generator=None: probs.argmax(
        -1, keepdim=True)
    with torch.no_grad():
        tokens = pipe(PROMPTS, num_inference_steps=12, guidance_scale=10.0,
                      temperature=(0, 0), output_type="latent").images
        images = pipe(PROMPTS, num_inference_steps=12, guidance_scale=10.0,
                      temperature=(0, 0), output_type="np").images
    tokens = tokens.reshape(len(PROMPTS), -1).numpy()
    print("tokens", tokens.shape, "distinct", len(np.unique(tokens)),
          "images", images.shape, float(images.min()), float(images.max()))
    np.savez_compressed(
        os.path.join(HERE, "amused_pipeline_tiny.npz"),
        folder=json.dumps(folder), seed=SEED, prompts=json.dumps(PROMPTS),
        tokens=tokens.astype(np.int32), images=images.astype(np.float32))


if __name__ == "__main__":
    main()
