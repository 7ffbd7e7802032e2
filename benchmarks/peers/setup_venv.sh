#!/usr/bin/env bash
# Creates the PyTorch peers' virtualenv: CPU-only torch 2.13.0, diffusers
# (aMUSEd) and muse-maskgit-pytorch, pinned to the versions the numbers in
# benchmarks/README.md came from.
# Usage: bash benchmarks/peers/setup_venv.sh [VENV]
#        (default ~/.cache/muse_peers_venv; benchmarks/against_peers.py runs
#        this itself when the venv has no python yet)
set -euo pipefail
VENV="${1:-$HOME/.cache/muse_peers_venv}"
HERE="$(cd "$(dirname "$0")" && pwd)"

python3 -m venv "$VENV"
# 1) torch first, pinned. pip must resolve it to a CPU-only build
#    (torch 2.13.0+cpu); the check at the end fails otherwise.
"$VENV/bin/pip" install torch==2.13.0
# 2) the peers, with torch held at 2.13.0. Without the constraint pip
#    upgrades torch to a CUDA 2.14.x build (pulling ~15 nvidia-* / cuda-* /
#    triton packages) because the newest torchvision wants it.
"$VENV/bin/pip" install -c "$HERE/constraints.txt" \
  diffusers==0.42.1 muse-maskgit-pytorch==0.3.5 transformers==5.23.0 \
  vector-quantize-pytorch==1.32.0 numpy==2.4.6
# 3) PyPI only has CUDA builds of torchvision; its _C extension needs
#    libc10_cuda.so, and a failing `import torchvision` also breaks diffusers'
#    and transformers' model imports. Nothing benchmarked needs it, so it is
#    removed (bench_muse_maskgit_pytorch.py registers inert stand-ins for the
#    package's import-time `import torchvision...` lines).
"$VENV/bin/pip" uninstall -y torchvision

# 4) checks: CPU torch, no GPU packages, the peers import.
"$VENV/bin/python" - <<'EOF'
import torch, importlib.metadata as md
v = torch.__version__
assert v == "2.13.0+cpu" or v == "2.13.0", v
assert not torch.cuda.is_available()
bad = [d.metadata["Name"] for d in md.distributions()
       if d.metadata["Name"].lower().startswith(("nvidia", "cuda", "triton"))]
assert not bad, f"GPU packages installed: {bad}"
import diffusers
from diffusers import AmusedPipeline, UVit2DModel, VQModel, AmusedScheduler  # noqa: F401
print("ok: torch", v, "| diffusers", diffusers.__version__,
      "| muse-maskgit-pytorch", md.version("muse-maskgit-pytorch"), "| no nvidia/cuda/triton packages")
EOF

# 5) requirements-lock.txt is the `pip freeze` of the venv the published
#    numbers came from. A difference is reported, not fatal: timings from a
#    different set of packages are still measurable, but not comparable.
if ! diff -u "$HERE/requirements-lock.txt" <("$VENV/bin/pip" freeze) >&2; then
  echo "WARNING: $VENV differs from requirements-lock.txt (diff above)" >&2
fi
