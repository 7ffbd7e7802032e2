"""Seeded random state dicts for the aMUSEd golden files, in NumPy alone.

The golden script (in the peers' torch virtualenv) loads these arrays into
diffusers' and transformers' modules with `load_state_dict(strict=True)`;
our tests redraw the same arrays from the key/shape manifest the script
writes, without torch, and feed them to our converter. Each tensor is drawn
from its own generator seeded by the key, so a manifest in any order gives
the same arrays.

Scales keep activations of order one through deep random stacks: norms'
weights near 1, biases small, matrices and convolutions with variance
1/fan_in, embedding tables and codebooks unit normal.
"""

import zlib

import numpy as np

_NORM_PARTS = ("norm", "gamma", "ln_", "layer_norm")


def random_tensor(key, shape, seed=0):
    """The float32 array of state-dict `key` with `shape`."""
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    shape = tuple(int(s) for s in shape)
    leaf = key.rsplit(".", 1)[-1]
    module = key.rsplit(".", 1)[0] if "." in key else ""
    if leaf == "bias" or leaf == "beta":
        values = 0.1 * rng.standard_normal(shape)
    elif leaf == "gamma" or (len(shape) == 1 and any(
            part in module.rsplit(".", 1)[-1] for part in _NORM_PARTS)):
        values = 1.0 + 0.1 * rng.standard_normal(shape)
    elif "embedding" in key or "embeddings" in key:
        values = rng.standard_normal(shape)
    elif len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        values = rng.standard_normal(shape) / np.sqrt(fan_in)
    else:
        values = 0.1 * rng.standard_normal(shape)
    return values.astype(np.float32)


def random_state_dict(shapes, seed=0):
    """{key: float32 array} for a {key: shape} manifest."""
    return {key: random_tensor(key, shape, seed)
            for key, shape in shapes.items()}
