#!/usr/bin/env python
"""Peer benchmark: diffusers aMUSEd (UVit2DModel + VQModel + AmusedScheduler via AmusedPipeline).

Random weights, built from configs; no downloads. The CLIP text encoder is skipped:
random pooled embeddings (B, text_dim) and hidden states (B, text_len, text_dim) are
fed to AmusedPipeline through prompt_embeds / encoder_hidden_states (and the negative_*
pair for classifier-free guidance), which is the pipeline's own "precomputed embeddings"
path, so the timed loop is diffusers' AmusedPipeline.__call__ itself with
output_type="latent" (transformer forward + CFG mix + AmusedScheduler.step per step).
The VQ decode is timed separately with the exact call the pipeline makes.

Prints one JSON line on stdout.
"""
import sys

import torch
from bench_common import (
    base_parser,
    count_flops,
    finish,
    n_params,
    setup_torch,
    stdout_to_stderr,
    time_runs,
    versions,
)


def main():
    p = base_parser(__doc__.splitlines()[1])
    a = p.add_argument_group("aMUSEd-specific")
    a.add_argument("--mlp-ratio", type=float, default=2.75,
                   help="GEGLU intermediate_size = ratio*hidden (aMUSEd-256: 2816/1024 = 2.75)")
    a.add_argument("--res-blocks", type=int, default=0,
                   help="UVit ConvNeXt+attention blocks before AND after the transformer stack "
                        "(aMUSEd-256 uses 3; 0 = plain transformer stack)")
    a.add_argument("--block-channels", type=int, default=None, help="UVit block channels (default = hidden; aMUSEd-256: 768)")
    a.add_argument("--in-channels", type=int, default=None, help="token-embedding / MLM-head width (default = hidden; aMUSEd-256: 768)")
    a.add_argument("--block-heads", type=int, default=None, help="heads in the UVit blocks (default = --heads)")
    a.add_argument("--guidance-scale", type=float, default=10.0, help="used when --cfg on (pipeline default 10)")
    a.add_argument("--vq-channels", type=str, default="128,256,256,512,768",
                   help="VQModel block_out_channels (aMUSEd VQGAN default; N levels -> 2^(N-1) downsampling)")
    a.add_argument("--vq-layers-per-block", type=int, default=2)
    a.add_argument("--vq-latent-channels", type=int, default=64)
    a.add_argument("--attn-processor", choices=["default", "classic"], default="default",
                   help="default = diffusers' AttnProcessor2_0 (F.scaled_dot_product_attention); classic = AttnProcessor (bmm+softmax)")
    args = p.parse_args()

    setup_torch(args.threads, args.seed, args)

    with stdout_to_stderr():
        from diffusers import AmusedPipeline, AmusedScheduler, UVit2DModel, VQModel
        from diffusers.utils import logging as dlogging
        dlogging.set_verbosity_error()

        hidden = args.hidden
        block_ch = args.block_channels or hidden
        in_ch = args.in_channels or hidden
        block_heads = args.block_heads or args.heads
        inter = round(hidden * args.mlp_ratio)
        vocab = args.codebook + 1           # + [MASK]
        mask_id = vocab - 1
        side = args.tokens_side

        transformer = UVit2DModel(
            hidden_size=hidden, use_bias=False, hidden_dropout=0.0,
            cond_embed_dim=args.text_dim, micro_cond_encode_dim=256, micro_cond_embed_dim=5 * 256,
            encoder_hidden_size=args.text_dim,
            vocab_size=vocab, codebook_size=args.codebook,
            in_channels=in_ch, block_out_channels=block_ch, num_res_blocks=args.res_blocks,
            downsample=False, upsample=False, block_num_heads=block_heads,
            num_hidden_layers=args.depth, num_attention_heads=args.heads, attention_dropout=0.0,
            intermediate_size=inter, layer_norm_eps=1e-6, ln_elementwise_affine=True,
            sample_size=side,
        ).eval()
        if args.attn_processor == "classic":
            from diffusers.models.attention_processor import AttnProcessor
            transformer.set_attn_processor(AttnProcessor())

        vq_channels = [int(c) for c in args.vq_channels.split(",")]
        nlev = len(vq_channels)
        vqvae = VQModel(
            act_fn="silu", block_out_channels=vq_channels,
            down_block_types=["DownEncoderBlock2D"] * nlev, up_block_types=["UpDecoderBlock2D"] * nlev,
            in_channels=3, out_channels=3, latent_channels=args.vq_latent_channels,
            layers_per_block=args.vq_layers_per_block, norm_num_groups=32,
            num_vq_embeddings=args.codebook, sample_size=32,
            mid_block_add_attention=False, lookup_from_codebook=True,
        ).eval()
        scheduler = AmusedScheduler(mask_token_id=mask_id)

        pipe = AmusedPipeline(vqvae=vqvae, tokenizer=None, text_encoder=None,
                              transformer=transformer, scheduler=scheduler)
        pipe.set_progress_bar_config(disable=True)
        vae_scale = pipe.vae_scale_factor
        image_side = side * vae_scale

        # Random "CLIP" outputs: pooled text_embeds (B, D) and hidden_states[-2] (B, L, D).
        B = args.batch
        gen = torch.Generator().manual_seed(args.seed)
        pe = torch.randn(B, args.text_dim, generator=gen)
        ehs = torch.randn(B, args.text_len, args.text_dim, generator=gen)
        npe = torch.randn(B, args.text_dim, generator=gen)
        nehs = torch.randn(B, args.text_len, args.text_dim, generator=gen)
        gs = args.guidance_scale if args.cfg else 1.0
        cfg_mult = 2 if args.cfg else 1

        def generate(steps=args.steps):
            with torch.inference_mode():
                out = pipe(
                    prompt_embeds=pe, encoder_hidden_states=ehs,
                    negative_prompt_embeds=npe, negative_encoder_hidden_states=nehs,
                    guidance_scale=gs, num_inference_steps=steps,
                    height=image_side, width=image_side,
                    output_type="latent", generator=torch.Generator().manual_seed(args.seed),
                )
            return out.images  # (B, side, side) token ids

        gen_times, latents = time_runs(generate, args.repeats, args.warmup, label="generation")
        assert latents.shape == (B, side, side), latents.shape
        assert int((latents == mask_id).sum()) == 0, "tokens left masked after the last step"

        def decode(ids=latents):
            with torch.inference_mode():
                return vqvae.decode(
                    ids, force_not_quantize=True,
                    shape=(ids.shape[0], side, side, vqvae.config.latent_channels),
                ).sample.clip(0, 1)

        dec_times = []
        if args.decode_repeats > 0:
            dec_times, img = time_runs(decode, args.decode_repeats, 1, label="decode_vq")
            assert img.shape == (B, 3, image_side, image_side), img.shape

        fwd_times = []
        if args.forward_repeats > 0:
            # exactly what AmusedPipeline feeds the transformer at every step
            m = cfg_mult
            f_ids = torch.full((B * m, side, side), mask_id, dtype=torch.long)
            f_mc = torch.tensor([image_side, image_side, 0, 0, 6], dtype=torch.float32).unsqueeze(0).expand(B * m, -1)
            f_pe = torch.cat([npe, pe]) if m == 2 else pe
            f_ehs = torch.cat([nehs, ehs]) if m == 2 else ehs

            def forward():
                with torch.inference_mode():
                    return transformer(f_ids, micro_conds=f_mc, pooled_text_emb=f_pe, encoder_hidden_states=f_ehs)

            fwd_times, _ = time_runs(forward, args.forward_repeats, 1, label="forward")

        flops_step = flops_by_op = flops_dec = flops_dec_by_op = None
        if not args.no_flops:
            # one decoding step == one transformer call on the (CFG-doubled) batch + scheduler.step
            flops_step, flops_by_op, _ = count_flops(lambda: generate(steps=1))
            if args.decode_repeats > 0:
                f1, by1, _ = count_flops(lambda: decode(latents[:1]))
                flops_dec = f1 * B
                flops_dec_by_op = {k: v * B for k, v in by1.items()}

        attn_proc = type(next(iter(transformer.attn_processors.values()))).__name__
        extra = {
            "transformer_params_excl_token_emb_and_head": n_params(transformer)
            - n_params(transformer.embed.embeddings) - n_params(transformer.mlm_layer.conv2),
            "vq_params": n_params(vqvae),
            "vq_decoder_params": n_params(vqvae.decoder) + n_params(vqvae.post_quant_conv) + n_params(vqvae.quantize),
            "image_side": image_side,
            "peer_details": {
                "pipeline": "diffusers.AmusedPipeline.__call__(output_type='latent') with precomputed random text embeddings",
                "layer": "BasicTransformerBlock: AdaLNContinuous(RMS) + self-attn + cross-attn(text) + GEGLU FF",
                "intermediate_size": inter, "uvit_res_blocks": args.res_blocks,
                "block_channels": block_ch, "in_channels": in_ch, "vocab_size": vocab,
                "attention_processor": attn_proc, "guidance_scale": gs,
                "vq_block_out_channels": vq_channels, "vq_layers_per_block": args.vq_layers_per_block,
                "vq_latent_channels": args.vq_latent_channels,
                "sampling": "AmusedScheduler.step: softmax + multinomial over codebook, gumbel-perturbed confidence re-masking (cosine)",
            },
            "versions": versions(["diffusers", "numpy"]),
        }
    finish("diffusers-amused", args, cfg_mult, n_params(transformer), gen_times, dec_times,
           flops_step, flops_by_op, flops_dec, flops_dec_by_op, extra, fwd_times)


if __name__ == "__main__":
    sys.exit(main())
