"""Writes the golden files of aMUSEd's VQ-GAN: what diffusers' `VQModel`
computes at random weights, for our converter's tests
(tests/models/vqgan_amused_test.py).

For two configurations, `tiny` (32 and 64 channels, 3 levels) and `256`
(amused-256's `vqvae/config.json`, docs/design.md §10.4), with weights
from `amused_params.random_state_dict` (numpy, seeded by key, so the tests
redraw them without torch) loaded with `load_state_dict(strict=True)`:
  tests/golden/amused_vq_{tiny,256}.json
    config    the model's config.json, as `save_config` writes it
    manifest  {state-dict key: shape}
    seed      the amused_params seed
  tests/golden/amused_vq_{tiny,256}.npz
    decode_ids  int32 [B, h, w] fixed code ids
    decoded     float32 [B, H, W, 3]: `decode(ids, force_not_quantize=True,
                shape=(B, h, w, C))`, as `AmusedPipeline` calls it, before
                its clip to [0, 1]; for `256`, every 8th pixel
    crop, crop_origin  (256) a full-resolution 16x16 crop at crop_origin
    stats       (256) min, max, mean, std of the whole unclipped output and
                the mean of the clipped one
    images      (tiny) float32 [B, H, W, 3] fixed images in [0, 1]
    code_ids    (tiny) int32 [B, h, w]: encoder -> quant_conv -> argmin,
                as `AmusedImg2ImgPipeline` encodes
    code_gaps   (tiny) float32 [B, h, w]: each id's Euclidean distance
                margin to the second-nearest code (near-ties could part
                the two frameworks' argmins)

Run in the PyTorch peers' virtualenv (benchmarks/peers/setup_venv.sh:
torch 2.13 CPU, diffusers 0.42.1), half a minute on two cores:

  ~/.cache/muse_peers_venv/bin/python tests/golden/make_amused_vq_golden.py
"""

import json
import os
import sys

import numpy as np
import torch
from diffusers import VQModel

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import amused_params

SEED = 30

CONFIGS = {
    "tiny": {"block_out_channels": (32, 32, 64), "layers_per_block": 1,
             "latent_channels": 8, "num_vq_embeddings": 64,
             "sample_size": 16, "batch": 2, "image_size": 32,
             "decode_stride": 1},
    # amused-512's vqvae/config.json, expected equal for amused-256.
    "256": {"block_out_channels": (128, 256, 256, 512, 768),
            "layers_per_block": 2, "latent_channels": 64,
            "num_vq_embeddings": 8192, "sample_size": 32, "force_upcast": True,
            "batch": 1, "image_size": 256, "decode_stride": 8},
}


def reference_model(c):
    levels = len(c["block_out_channels"])
    return VQModel(
        in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=c["block_out_channels"],
        layers_per_block=c["layers_per_block"], act_fn="silu",
        latent_channels=c["latent_channels"], sample_size=c["sample_size"],
        num_vq_embeddings=c["num_vq_embeddings"], norm_num_groups=32,
        vq_embed_dim=None, scaling_factor=0.18215, norm_type="group",
        mid_block_add_attention=False, lookup_from_codebook=True,
        force_upcast=c.get("force_upcast", False)).eval()


def golden_images(batch, size):
    """Smooth colour ramps plus noise, in [0, 1]."""
    rng = np.random.default_rng(7)
    y, x = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size),
                       indexing="ij")
    ramps = np.stack([x, y, 0.5 * (x + y)], -1)
    images = [np.clip(0.7 * np.roll(ramps, i, -1)
                      + 0.3 * rng.random((size, size, 3)), 0, 1)
              for i in range(batch)]
    return np.stack(images).astype(np.float32)


def nchw_to_nhwc(t):
    return t.permute(0, 2, 3, 1).numpy()


@torch.no_grad()
def golden(name, c):
    model = reference_model(c)
    manifest = {k: list(v.shape) for k, v in model.state_dict().items()}
    weights = amused_params.random_state_dict(manifest, SEED)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()},
                          strict=True)
    count = sum(p.numel() for p in model.parameters())
    batch, size = c["batch"], c["image_size"]
    side = size // 2 ** (len(c["block_out_channels"]) - 1)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, c["num_vq_embeddings"], [batch, side, side],
                       dtype=np.int64)
    decoded = nchw_to_nhwc(model.decode(
        torch.from_numpy(ids), force_not_quantize=True,
        shape=(batch, side, side, c["latent_channels"])).sample)
    stride = c["decode_stride"]
    out = {"decode_ids": ids.astype(np.int32),
           "decoded": decoded[:, ::stride, ::stride]}
    if name == "256":
        origin = np.array([120, 72])
        out["crop_origin"] = origin
        out["crop"] = decoded[:, origin[0]:origin[0] + 16,
                              origin[1]:origin[1] + 16]
        out["stats"] = np.array([decoded.min(), decoded.max(),
                                 decoded.mean(), decoded.std(),
                                 np.clip(decoded, 0, 1).mean()], np.float32)
    else:
        images = golden_images(batch, size)
        latents = model.encode(torch.from_numpy(
            images.transpose(0, 3, 1, 2))).latents
        code_ids = model.quantize(latents)[2][2].reshape(batch, side, side)
        flat = latents.permute(0, 2, 3, 1).reshape(-1, latents.shape[1])
        nearest = torch.sort(torch.cdist(
            flat, model.quantize.embedding.weight), dim=1).values
        gaps = (nearest[:, 1] - nearest[:, 0]).reshape(batch, side, side)
        out.update(images=images, code_ids=code_ids.numpy().astype(np.int32),
                   code_gaps=gaps.numpy())
        print(f"{name}: smallest argmin margin {float(gaps.min()):.2e}")
    np.savez_compressed(os.path.join(HERE, f"amused_vq_{name}.npz"), **out)
    with open(os.path.join(HERE, f"amused_vq_{name}.json"), "w") as f:
        json.dump({"config": json.loads(model.to_json_string()),
                   "manifest": manifest, "seed": SEED}, f, indent=1)
        f.write("\n")
    print(f"{name}: {count:,} parameters, decoded range "
          f"[{decoded.min():.3f}, {decoded.max():.3f}]")


def main():
    torch.manual_seed(0)
    for name, c in CONFIGS.items():
        golden(name, c)


if __name__ == "__main__":
    main()
