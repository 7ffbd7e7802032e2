"""Writes tests/golden/halton_decoding.npz: what Halton-MaskGIT's own
`HaltonSampler` does, for tests/sampling/halton_test.py.

  order_{side}            `HaltonSampler.build_halton_mask(side)` as
                          row-major positions (row·side + column), for
                          sides 4, 8, 12, 16, 24 and 32
  uncovered_{side}_{T}    for a T-step `HaltonSampler.__call__` on a
                          side x side grid (randomize=False, the default),
                          the 0-based step at which each position is first
                          predicted, from the masks it returns
The sampler runs as it is, with a stand-in trainer whose network gives
uniform logits: the masks depend on the grid and the step count only.

Run with torch, in the peers' virtualenv, on a checkout of the code:

  mkdir -p ~/.cache/halton_maskgit_official
  git -C ~/.cache/halton_maskgit_official init -q
  git -C ~/.cache/halton_maskgit_official fetch -q --depth 1 \\
      https://github.com/valeoai/Halton-MaskGIT f61b0a1314717004dc7487531fd16a8bb71e1888
  git -C ~/.cache/halton_maskgit_official checkout -q FETCH_HEAD
  PYTHONPATH=~/.cache/halton_maskgit_official \\
      ~/.cache/muse_peers_venv/bin/python tests/golden/make_halton_golden.py

(checked at valeoai/Halton-MaskGIT commit f61b0a1, torch 2.13.0+cpu).
"""

import contextlib
import os
import types

import numpy as np
import torch
from Sampler.halton_sampler import HaltonSampler

HERE = os.path.dirname(os.path.abspath(__file__))
SIDES = (4, 8, 12, 16, 24, 32)
# (side, T): the tiny grid with fewer, as many and more steps than tokens
# (16); 12 steps on 144 tokens, where γ(1/2)·N = 48 exactly in reals but
# not in float32; the authors' 32 steps on their 16² and 24² grids.
DECODES = ((4, 1), (4, 4), (4, 12), (4, 20), (8, 8), (8, 12), (12, 12),
           (16, 12), (16, 32), (24, 32), (32, 16))
CODEBOOK = 8


class _UniformNetwork:
    """The transformer's place: equal logits at every position."""

    def __call__(self, code, labels, drop):
        return torch.zeros(code.shape[0], code[0].numel(), CODEBOOK)

    def eval(self):
        pass

    def train(self):
        pass


def _trainer(side):
    return types.SimpleNamespace(
        input_size=side, vit=_UniformNetwork(), autocast=contextlib.nullcontext(),
        args=types.SimpleNamespace(device="cpu", mask_value=CODEBOOK,
                                   codebook_size=CODEBOOK),
        ae=types.SimpleNamespace(decode_code=lambda code: code.float()))


def _uncovered_at(side, num_steps):
    sampler = HaltonSampler(w=0, step=num_steps)
    _, _, masks = sampler(_trainer(side), nb_sample=1,
                          labels=torch.zeros(1, dtype=torch.long),
                          verbose=False)
    step_of = np.full(side * side, -1, np.int32)
    for step, mask in enumerate(masks):
        new = (mask[0].reshape(-1).numpy() > 0) & (step_of < 0)
        step_of[new] = step
    return step_of


def main():
    torch.manual_seed(0)
    arrays = {}
    for side in SIDES:
        cells = HaltonSampler.build_halton_mask(side).numpy()
        arrays[f"order_{side}"] = (cells[:, 0] * side
                                   + cells[:, 1]).astype(np.int32)
    for side, num_steps in DECODES:
        arrays[f"uncovered_{side}_{num_steps}"] = _uncovered_at(side,
                                                                num_steps)
    path = os.path.join(HERE, "halton_decoding.npz")
    np.savez_compressed(path, **arrays)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
