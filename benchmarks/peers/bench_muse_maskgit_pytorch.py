#!/usr/bin/env python
"""Peer benchmark: lucidrains' muse-maskgit-pytorch (MaskGit + MaskGitTransformer + VQGanVAE).

Random weights; no downloads. Two offline workarounds, both outside the timed code:
  * T5: Transformer.__init__ asks T5Config.from_pretrained(t5_name) for the text width
    and MaskGit.generate() calls transformer.encode_text(texts). We pre-seed the
    package's own T5 config cache (muse_maskgit_pytorch.t5.T5_CONFIGS) with a locally
    built T5Config(d_model=--text-dim) under a made-up name, and replace
    transformer.encode_text with a function returning fixed random embeddings
    (B, --text-len, --text-dim). Everything else in generate() is the library's code.
  * torchvision: the package imports torchvision at import time (transforms/datasets
    for its trainer, vgg16 for the perceptual loss) but never uses it for sampling.
    PyPI only has CUDA builds of torchvision, whose C extension cannot load next to the
    CPU-only torch 2.13.0 wheel, so the venv has no torchvision and we register inert
    stand-in modules before importing the package (only if the real import fails).

Timing: MaskGit.generate() with its VAE swapped for a pass-through stub (so it returns
token ids) is the generation loop (transformer forwards + top-k/gumbel sampling +
confidence re-masking); VQGanVAE.decode_from_ids() on those ids is timed separately.

Prints one JSON line on stdout.
"""
import importlib.machinery
import sys
import types

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
from torch import nn


def _ensure_torchvision():
    """Return a note on how torchvision was satisfied."""
    try:
        import torchvision
        return "real torchvision " + getattr(torchvision, "__version__", "?")
    except Exception as e:  # noqa: BLE001  A CUDA-only build fails with any error.
        # Let transformers record "torchvision unavailable" (lru_cached) before the stand-in exists.
        import transformers  # noqa: F401
        from transformers.utils import import_utils as _iu
        _iu.is_torchvision_available()
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]

        def _unavailable(*_a, **_k):
            raise RuntimeError("torchvision stand-in: not available in this benchmark venv")

        tv = types.ModuleType("torchvision")
        tv.__path__ = []  # mark as package
        tv.__spec__ = importlib.machinery.ModuleSpec("torchvision", None, is_package=True)
        subs = {}
        for sub in ("transforms", "datasets", "utils", "models"):
            m = types.ModuleType("torchvision." + sub)
            m.__spec__ = importlib.machinery.ModuleSpec("torchvision." + sub, None)
            subs[sub] = m
            setattr(tv, sub, m)
            sys.modules["torchvision." + sub] = m
        subs["datasets"].ImageFolder = _unavailable
        subs["utils"].make_grid = _unavailable
        subs["utils"].save_image = _unavailable
        subs["models"].vgg16 = _unavailable
        sys.modules["torchvision"] = tv
        return f"stand-in torchvision modules (real import failed: {type(e).__name__}: {str(e)[:80]})"


class _IdsPassthroughVAE(nn.Module):
    """Lets MaskGit.generate() stop at token ids: it calls vae.get_encoded_fmap_size()
    and, at the end, vae.decode_from_ids(ids)."""

    def __init__(self, fmap_size):
        super().__init__()
        self.fmap_size = fmap_size

    def get_encoded_fmap_size(self, image_size):
        return self.fmap_size

    def decode_from_ids(self, ids):
        return ids


def main():
    p = base_parser(__doc__.splitlines()[1])
    a = p.add_argument_group("muse-maskgit-pytorch-specific")
    a.add_argument("--ff-mult", type=float, default=4,
                   help="FeedForward mult (GEGLU with inner = int(hidden*mult*2/3); library default 4)")
    a.add_argument("--flash", choices=["on", "off"], default="on",
                   help="Attend(flash=...). Library default on; on CPU that runs memory_efficient_attention_pytorch's "
                        "blockwise FlashAttentionFunction (512x512 buckets). off = plain einsum/softmax")
    a.add_argument("--cond-scale", type=float, default=3.0, help="used when --cfg on (generate() default 3)")
    a.add_argument("--topk-filter-thres", type=float, default=0.9, help="generate() default 0.9")
    a.add_argument("--vq-dim", type=int, default=256, help="VQGanVAE dim (README example: 256)")
    a.add_argument("--vq-layers", type=int, default=None,
                   help="VQGanVAE layers (downsampling = 2^layers; default 4 -> 16x)")
    args = p.parse_args()

    setup_torch(args.threads, args.seed, args)

    with stdout_to_stderr():
        tv_note = _ensure_torchvision()
        from muse_maskgit_pytorch import MaskGit, MaskGitTransformer, VQGanVAE
        from muse_maskgit_pytorch import t5 as mm_t5
        from transformers import T5Config

        fake_t5 = f"offline-random-t5-d{args.text_dim}"
        mm_t5.T5_CONFIGS[fake_t5] = {"config": T5Config(d_model=args.text_dim)}

        side = args.tokens_side
        vq_layers = args.vq_layers or 4
        image_size = side * 2 ** vq_layers
        B = args.batch
        assert args.hidden % args.heads == 0

        vae = VQGanVAE(dim=args.vq_dim, codebook_size=args.codebook, layers=vq_layers,
                       use_vgg_and_gan=False)  # lookup-free quantization (library default)
        transformer = MaskGitTransformer(
            num_tokens=args.codebook, seq_len=side * side, dim=args.hidden, depth=args.depth,
            heads=args.heads, dim_head=args.hidden // args.heads, ff_mult=args.ff_mult,
            flash=(args.flash == "on"), t5_name=fake_t5,
        )
        maskgit = MaskGit(image_size=image_size, transformer=transformer, vae=vae,
                          cond_drop_prob=0.25).eval()
        assert maskgit.vae.get_encoded_fmap_size(image_size) == side
        real_vae = maskgit.vae  # MaskGit keeps its own eval copy

        gen = torch.Generator().manual_seed(args.seed)
        text_embeds = torch.randn(B, args.text_len, args.text_dim, generator=gen)

        def encode_text(texts):
            assert len(texts) <= B
            return text_embeds[: len(texts)]

        transformer.encode_text = encode_text  # instead of T5 from the HF hub
        texts = [f"random prompt {i}" for i in range(B)]
        cond_scale = args.cond_scale if args.cfg else 1.0
        cfg_mult = 2 if args.cfg else 1

        def generate(steps=args.steps):
            maskgit.vae = _IdsPassthroughVAE(side)
            try:
                torch.manual_seed(args.seed)
                with torch.inference_mode():
                    return maskgit.generate(texts, timesteps=steps, cond_scale=cond_scale,
                                            topk_filter_thres=args.topk_filter_thres, fmap_size=side)
            finally:
                maskgit.vae = real_vae

        gen_times, ids = time_runs(generate, args.repeats, args.warmup, label="generation")
        assert ids.shape == (B, side, side), ids.shape
        assert int((ids == transformer.mask_id).sum()) == 0, "tokens left masked after the last step"

        def decode(x=ids):
            with torch.inference_mode():
                return real_vae.decode_from_ids(x)

        dec_times = []
        if args.decode_repeats > 0:
            dec_times, img = time_runs(decode, args.decode_repeats, 1, label="decode_vq")
            assert img.shape == (B, 3, image_size, image_size), img.shape

        fwd_times = []
        if args.forward_repeats > 0:
            # what generate() calls once per step (two B-sized forwards when cond_scale != 1)
            f_ids = torch.full((B, side * side), transformer.mask_id, dtype=torch.long)

            def forward():
                with torch.inference_mode():
                    return transformer.forward_with_cond_scale(f_ids, text_embeds=text_embeds, cond_scale=cond_scale,
                                                               return_embed=True)

            fwd_times, _ = time_runs(forward, args.forward_repeats, 1, label="forward")

        flops_step = flops_by_op = flops_dec = flops_dec_by_op = None
        if not args.no_flops:
            flops_step, flops_by_op, _ = count_flops(lambda: generate(steps=1))
            if args.decode_repeats > 0:
                f1, by1, _ = count_flops(lambda: decode(ids[:1]))
                flops_dec = f1 * B
                flops_dec_by_op = {k: v * B for k, v in by1.items()}

        unused = n_params(transformer.self_cond_to_init_embed) if not transformer.self_cond else 0
        extra = {
            "transformer_params_used": n_params(transformer) - unused,
            "transformer_params_excl_token_emb_and_head": n_params(transformer) - unused
            - n_params(transformer.token_emb) - n_params(transformer.to_logits),
            "vq_params": n_params(real_vae),
            "vq_decoder_params": n_params(real_vae.enc_dec.decoders) + n_params(real_vae.quantizer),
            "image_side": image_size,
            "peer_details": {
                "entry_point": "MaskGit.generate(texts, timesteps=steps, cond_scale=...) with encode_text -> random embeddings",
                "layer": "pre-LN self-attn (qk-l2norm, null kv) + cross-attn(text) + GEGLU FF (inner=int(dim*mult*2/3))",
                "ff_inner_dim": int(args.hidden * args.ff_mult * 2 / 3), "flash": args.flash,
                "cfg_impl": "forward_with_cond_scale: two separate forwards of batch B (cond / null cond)",
                "cond_scale": cond_scale, "topk_filter_thres": args.topk_filter_thres,
                "vq": f"VQGanVAE(dim={args.vq_dim}, layers={vq_layers}, LFQ codebook={args.codebook})",
                "sampling": "top-k filter (90%) + gumbel argmax, 1-p confidence re-masking (cosine), no token critic",
                "torchvision": tv_note,
                "text_encoder": f"skipped: random (B,{args.text_len},{args.text_dim}) embeddings via transformer.encode_text",
            },
            "versions": versions(["muse_maskgit_pytorch", "vector_quantize_pytorch", "transformers", "numpy"]),
        }
    finish("muse-maskgit-pytorch", args, cfg_mult, n_params(transformer), gen_times, dec_times,
           flops_step, flops_by_op, flops_dec, flops_dec_by_op, extra, fwd_times)


if __name__ == "__main__":
    sys.exit(main())
