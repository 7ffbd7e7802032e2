"""Writes a full-size diffusers aMUSEd folder with random weights: the
amused-256 architecture (docs/design.md §10.1, §10.4, §10.5), saved by
`AmusedPipeline.save_pretrained`, so it has exactly the layout of a
downloaded `amused/amused-256` (transformer/, vqvae/, text_encoder/,
tokenizer/ with vocab.json and merges.txt, scheduler/, model_index.json) and both sides of
benchmarks/bench_amused.py load the same weights.

Weights: tests/golden/amused_params.py's seeded draws (norms near 1,
matrices with variance 1/fan_in), loaded strictly. Tokenizer: OpenAI's
CLIP vocabulary from the open-clip wheel (tests/golden/clip_vocab.py),
pad "!" (the pad §10.5 infers for aMUSEd's 460-byte special_tokens_map).

Run in the PyTorch peers' virtualenv (needs open-clip-torch, see
tests/golden/make_amused_pipeline_golden.py); about 3.5 GB on disk:

  ~/.cache/muse_peers_venv/bin/python benchmarks/peers/make_amused_random.py \
      ~/.cache/amused_random256
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "golden"))
import amused_params
import clip_vocab

# transformer/config.json of amused-256 (§10.1).
TRANSFORMER = {
    "hidden_size": 1024, "num_hidden_layers": 22, "num_attention_heads": 16,
    "intermediate_size": 2816, "block_out_channels": 768, "in_channels": 768,
    "block_num_heads": 12, "num_res_blocks": 3, "vocab_size": 8256,
    "codebook_size": 8192, "encoder_hidden_size": 768, "cond_embed_dim": 768,
    "micro_cond_encode_dim": 256, "micro_cond_embed_dim": 1280,
    "layer_norm_eps": 1e-6, "ln_elementwise_affine": True,
    "use_bias": False, "hidden_dropout": 0.0, "attention_dropout": 0.0,
    "sample_size": 16, "downsample": False, "upsample": False}
# vqvae/config.json (§10.4).
VQVAE = {
    "in_channels": 3, "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 5,
    "up_block_types": ["UpDecoderBlock2D"] * 5,
    "block_out_channels": [128, 256, 256, 512, 768], "layers_per_block": 2,
    "act_fn": "silu", "latent_channels": 64, "sample_size": 32,
    "num_vq_embeddings": 8192, "norm_num_groups": 32, "vq_embed_dim": None,
    "scaling_factor": 0.18215, "norm_type": "group",
    "mid_block_add_attention": False, "lookup_from_codebook": True,
    "force_upcast": True}
# text_encoder/config.json (§10.5), with its placeholder special ids.
TEXT_ENCODER = {
    "vocab_size": 49408, "hidden_size": 768, "num_hidden_layers": 12,
    "num_attention_heads": 12, "intermediate_size": 3072,
    "max_position_embeddings": 77, "projection_dim": 768,
    "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "bos_token_id": 0,
    "eos_token_id": 2, "pad_token_id": 1}
MASK_TOKEN_ID = 8255


def randomize(module, seed):
    """Loads seeded random float weights into `module`, strictly."""
    state = module.state_dict()
    shapes = {k: tuple(v.shape) for k, v in state.items()
              if v.dtype.is_floating_point}
    weights = {k: torch.from_numpy(v) for k, v in
               amused_params.random_state_dict(shapes, seed).items()}
    weights.update({k: v for k, v in state.items() if k not in weights})
    module.load_state_dict(weights, strict=True)
    return module.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="directory to write (created)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from diffusers import AmusedPipeline, AmusedScheduler, UVit2DModel, VQModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    start = time.perf_counter()
    with torch.no_grad():
        transformer = randomize(UVit2DModel(**TRANSFORMER), args.seed)
        vqvae = randomize(VQModel(**VQVAE), args.seed)
        text_encoder = randomize(CLIPTextModelWithProjection(
            CLIPTextConfig(**TEXT_ENCODER)), args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(
            clip_vocab.write_tokenizer_folder(tmp, pad_token="!"))
    pipe = AmusedPipeline(
        vqvae=vqvae, tokenizer=tokenizer, text_encoder=text_encoder,
        transformer=transformer,
        scheduler=AmusedScheduler(mask_token_id=MASK_TOKEN_ID))
    pipe.save_pretrained(args.out)
    # transformers 5 saves tokenizer.json alone; the Hub's folder holds
    # the transformers 4 files (§10.1), which are what clip_vocab writes.
    shutil.rmtree(os.path.join(args.out, "tokenizer"))
    clip_vocab.write_tokenizer_folder(os.path.join(args.out, "tokenizer"),
                                      pad_token="!")
    count = {name: sum(p.numel() for p in part.parameters())
             for name, part in (("transformer", transformer),
                                ("vqvae", vqvae),
                                ("text_encoder", text_encoder))}
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s; "
          f"parameters {count}")


if __name__ == "__main__":
    main()
