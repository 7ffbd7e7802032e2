"""Random MaskGIT parameters and inputs, drawn the same way on both sides.

`make_maskgit_golden.py` (JAX, in a side virtualenv) and our tests (no
JAX) both import this numpy-only module: the golden script feeds these
parameters to the official Flax modules, the tests to our converter, so
the full-size golden files need not carry the 226 M parameters themselves,
only the parameter tree (paths and shapes) and a seed.

Values are not the official initialisers' (zero biases and unit norm
scales would hide a bias or scale loaded into the wrong place): every
leaf is drawn, at scales that keep activations of order one.
"""

import numpy as np


def flatten(tree, prefix=""):
    """{"a": {"b": x}} -> {"a/b": x}, in sorted key order."""
    flat = {}
    for key in sorted(tree):
        value = tree[key]
        path = f"{prefix}/{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def unflatten(flat):
    """{"a/b": x} -> {"a": {"b": x}}."""
    tree = {}
    for path, value in flat.items():
        *parents, leaf = path.split("/")
        node = tree
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return tree


def _scale(path, shape):
    leaf = path.rsplit("/", 1)[-1]
    if leaf == "scale":
        return None  # 1 + noise, below.
    if leaf == "bias":
        return 0.1
    if leaf == "embedding":
        return 0.1
    if leaf == "codebook":
        return 1.0
    # Kernels: 1/sqrt(fan in). Attention's query/key/value kernels are
    # [in, heads, head_dim]; every other kernel is [..., in, out].
    if any(part in path for part in ("/query/", "/key/", "/value/")):
        fan_in = shape[0]
    else:
        fan_in = int(np.prod(shape[:-1]))
    return 1.0 / np.sqrt(fan_in)


def random_params(spec, seed):
    """{path: float32 array} for spec [(path, shape), ...], drawn in spec
    order from one seeded generator."""
    rng = np.random.default_rng(seed)
    params = {}
    for path, shape in spec:
        noise = rng.standard_normal(tuple(shape), dtype=np.float32)
        scale = _scale(path, shape)
        params[path] = (1.0 + 0.1 * noise if scale is None
                        else np.float32(scale) * noise)
    return params


def golden_images(batch, size):
    """float32 [batch, size, size, 3] in [0, 1]: smooth colour patterns
    with a hard-edged square, different per image."""
    y, x = np.mgrid[0:size, 0:size] / size
    images = []
    for i in range(batch):
        image = 0.5 + 0.5 * np.stack([np.sin((6 + i) * x),
                                      np.cos((4 + 2 * i) * y),
                                      np.sin(3 * (x + y) + i)], -1)
        low, high = size // (4 + i), size // 2 + size // (4 + i)
        image[low:high, low:high] = [0.9, 0.2 - 0.05 * i, 0.2]
        images.append(image)
    return np.stack(images).astype(np.float32)
