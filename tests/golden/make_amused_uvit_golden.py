"""Writes the aMUSEd U-ViT golden files: the logits diffusers' own
`UVit2DModel` computes at random weights, for our UViTTransformer's tests.

For four configurations (`CONFIGS`): two tiny ones, without and with the
512 model's down- and upsampling, and the real amused-256 and amused-512
configs (docs/design.md §10.1), with parameters from
`amused_params.random_state_dict` (numpy, seeded by key, so the tests
redraw them without torch), loaded with `load_state_dict(strict=True)`:
  tests/golden/amused_uvit_{tiny,tiny_resample,256,512}.npz
    config          the transformer config.json dict (JSON)
    manifest        {state-dict key: shape} (JSON)
    weight_seed     the seed of `random_state_dict`
    input_ids       int [B, h, w], some of them the [MASK] id vocab_size - 1
    text_seed       text states are `golden_text_states(shape, text_seed)`,
    text_shape      [B, T, encoder_hidden_size]
    text_head       their first 8 numbers (a check of the redraw)
    pooled          float32 [B, cond_embed_dim]
    micro_conds     float32 [B, 5]
    positions, codes  the row-major positions and codebook entries kept
    logits          float32 [B, len(positions), len(codes)]: the NCHW
                    logits read as the scheduler reads them, [B, h*w, V]

Run in the peers' virtualenv (benchmarks/peers/setup_venv.sh: torch 2.13
CPU, diffusers 0.42.1), from the repository root (about 2 minutes and
6 GB for the two real configs):

  ~/.cache/muse_peers_venv/bin/python tests/golden/make_amused_uvit_golden.py
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import amused_params

_REAL = {
    "hidden_size": 1024, "num_hidden_layers": 22, "num_attention_heads": 16,
    "intermediate_size": 2816, "block_out_channels": 768, "in_channels": 768,
    "block_num_heads": 12, "num_res_blocks": 3, "vocab_size": 8256,
    "codebook_size": 8192, "encoder_hidden_size": 768, "cond_embed_dim": 768,
    "micro_cond_encode_dim": 256, "micro_cond_embed_dim": 1280,
    "layer_norm_eps": 1e-06, "ln_elementwise_affine": True,
    "use_bias": False, "hidden_dropout": 0.0, "attention_dropout": 0.0}
_TINY = {
    "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
    "intermediate_size": 40, "block_out_channels": 16, "in_channels": 12,
    "block_num_heads": 2, "num_res_blocks": 2, "vocab_size": 72,
    "codebook_size": 64, "encoder_hidden_size": 24, "cond_embed_dim": 20,
    "micro_cond_encode_dim": 8, "micro_cond_embed_dim": 40,
    "layer_norm_eps": 1e-06, "ln_elementwise_affine": True,
    "use_bias": False, "hidden_dropout": 0.0, "attention_dropout": 0.0}

# name: (config.json, batch, text length, micro_conds rows, kept positions
# and codes (None: all)). tiny_resample's conv stages have the
# transformer's width, so they have no kv_mapper (diffusers leaves it out).
CONFIGS = {
    "tiny": ({**_TINY, "sample_size": 4, "downsample": False,
              "upsample": False}, 2, 6,
             [[256, 256, 0, 0, 6], [512, 384, 16, 32, 5.5]], None),
    "tiny_resample": ({**_TINY, "block_out_channels": 32,
                       "num_res_blocks": 1, "sample_size": 8,
                       "downsample": True, "upsample": True}, 2, 6,
                      [[256, 256, 0, 0, 6], [128, 96, 8, 0, 4.25]], None),
    "256": ({**_REAL, "sample_size": 16, "downsample": False,
             "upsample": False}, 1, 77, [[256, 256, 0, 0, 6]], 16),
    "512": ({**_REAL, "sample_size": 32, "downsample": True,
             "upsample": True}, 1, 77, [[512, 512, 0, 0, 6]], 16),
}
WEIGHT_SEED = 3
TEXT_SEED = 5


def golden_text_states(shape, seed):
    """The golden text states; the tests import this to redraw them."""
    return np.random.default_rng(seed).standard_normal(shape).astype(
        np.float32)


def _inputs(config, batch, rng):
    """Token ids [B, h, w] with about 40% [MASK]s, and pooled [B, C]."""
    side = config["sample_size"]
    ids = rng.integers(0, config["codebook_size"], (batch, side, side))
    ids[rng.random(ids.shape) < 0.4] = config["vocab_size"] - 1
    pooled = rng.standard_normal((batch, config["cond_embed_dim"]))
    return ids.astype(np.int64), pooled.astype(np.float32)


def _kept(length, vocab, keep, rng):
    """(positions, codes) of the logits to store: all, or `keep` positions
    and 4 x `keep` codes, sorted."""
    if keep is None:
        return np.arange(length), np.arange(vocab)
    return (np.sort(rng.choice(length, keep, replace=False)),
            np.sort(rng.choice(vocab, 4 * keep, replace=False)))


def write(name, torch, UVit2DModel):
    config, batch, text_length, micro_conds, keep = CONFIGS[name]
    model = UVit2DModel(**config).eval()
    manifest = {k: list(v.shape) for k, v in model.state_dict().items()}
    weights = amused_params.random_state_dict(manifest, WEIGHT_SEED)
    model.load_state_dict({k: torch.from_numpy(v)
                           for k, v in weights.items()}, strict=True)
    del weights
    rng = np.random.default_rng(sum(map(ord, name)))
    ids, pooled = _inputs(config, batch, rng)
    text_shape = [batch, text_length, config["encoder_hidden_size"]]
    text = golden_text_states(text_shape, TEXT_SEED)
    micro = np.asarray(micro_conds, np.float32)
    with torch.no_grad():
        logits = model(torch.from_numpy(ids), torch.from_numpy(text),
                       torch.from_numpy(pooled),
                       torch.from_numpy(micro)).numpy()
    logits = logits.reshape(batch, config["codebook_size"], -1)
    logits = logits.transpose(0, 2, 1)  # [B, h*w, V], row-major positions.
    positions, codes = _kept(logits.shape[1], logits.shape[2], keep, rng)
    path = os.path.join(HERE, f"amused_uvit_{name}.npz")
    np.savez_compressed(
        path, config=json.dumps(config), manifest=json.dumps(manifest),
        weight_seed=WEIGHT_SEED, input_ids=ids.astype(np.int32),
        text_seed=TEXT_SEED, text_shape=np.asarray(text_shape),
        text_head=text.reshape(-1)[:8], pooled=pooled, micro_conds=micro,
        positions=positions, codes=codes,
        logits=logits[:, positions][:, :, codes])
    count = sum(int(np.prod(s)) for s in manifest.values())
    print(f"{path}: {len(manifest)} tensors, {count:,} parameters, "
          f"logits |max| {np.abs(logits).max():.3f}, "
          f"{os.path.getsize(path):,} B")


def main():
    import torch
    from diffusers import UVit2DModel

    torch.manual_seed(0)
    for name in sys.argv[1:] or CONFIGS:
        write(name, torch, UVit2DModel)


if __name__ == "__main__":
    main()
