"""Training throughput of lucidrains' muse-maskgit-pytorch (the peer).

Runs in the peers' virtualenv (benchmarks/peers/setup_venv.sh), which has
torch and the package; `bench_train.py --peer-python` calls it so both
numbers come from one run. Times `loss = MaskGit(ids, text_embeds=...)`,
backward, gradient clipping at norm 1.0 and an AdamW step on random token
ids and random text states (no VQGAN or T5 runs: token ids go in directly,
as our trainer takes pre-tokenized shards). Prints one JSON line.

  ~/.cache/muse_peers_venv/bin/python benchmarks/peer_train_maskgit.py \
      --tokens-side 8 --hidden 256 --depth 6 --heads 4 --codebook 512 \
      --text-len 32 --text-dim 384 --batch 32
"""

import argparse
import json
import os
import statistics
import sys
import time

PEERS = os.path.join(os.path.dirname(__file__), "peers")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--tokens-side", 8), ("--hidden", 256),
                          ("--depth", 6), ("--heads", 4), ("--codebook", 512),
                          ("--text-len", 32), ("--text-dim", 384),
                          ("--batch", 32), ("--steps", 10), ("--repeats", 3),
                          ("--threads", 2)):
        parser.add_argument(flag, type=int, default=default)
    args = parser.parse_args()

    sys.path.insert(0, os.path.abspath(PEERS))
    from bench_common import setup_torch, stdout_to_stderr
    from bench_muse_maskgit_pytorch import _ensure_torchvision

    setup_torch(args.threads, 0)
    import torch

    with stdout_to_stderr():
        _ensure_torchvision()
        from muse_maskgit_pytorch import MaskGit, MaskGitTransformer, VQGanVAE
        from muse_maskgit_pytorch import t5 as mm_t5
        from transformers import T5Config

        fake_t5 = f"offline-random-t5-d{args.text_dim}"
        mm_t5.T5_CONFIGS[fake_t5] = {"config": T5Config(
            d_model=args.text_dim)}
        side = args.tokens_side
        transformer = MaskGitTransformer(
            num_tokens=args.codebook, seq_len=side * side, dim=args.hidden,
            depth=args.depth, heads=args.heads,
            dim_head=args.hidden // args.heads, t5_name=fake_t5)
        # MaskGit insists on a VAE; token ids bypass it in forward.
        vae = VQGanVAE(dim=16, codebook_size=args.codebook, layers=2,
                       use_vgg_and_gan=False)
        maskgit = MaskGit(image_size=side * 4, transformer=transformer,
                          vae=vae, cond_drop_prob=0.1).train()
        optimizer = torch.optim.AdamW(transformer.parameters(), lr=1e-4)
        ids = torch.randint(0, args.codebook, (args.batch, side * side))
        text = torch.randn(args.batch, args.text_len, args.text_dim)

        def steps():
            for _ in range(args.steps):
                loss = maskgit(ids, text_embeds=text)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(transformer.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad()

        steps()  # Warm-up.
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            steps()
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times) / args.steps
    print(json.dumps({
        "peer": "muse-maskgit-pytorch", "what": "train step",
        "config": vars(args), "seconds_per_step_median": seconds,
        "examples_per_second": args.batch / seconds,
        "transformer_params": sum(p.numel() for p in transformer.parameters()),
        "torch": torch.__version__}))


if __name__ == "__main__":
    main()
