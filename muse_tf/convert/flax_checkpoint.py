"""Reads a Flax checkpoint file (`flax.serialization.to_bytes`) without
Flax or JAX: a msgpack map of maps whose leaves are numpy arrays packed as
msgpack extension type 1 (the payload is itself msgpack: shape, dtype
name, C-order bytes), numpy scalars as type 3; arrays over 2^30 bytes are
split into a `__msgpack_chunked_array__` map. docs/design.md §9.1.

`msgpack` is an optional dependency (`pip install muse-tf[convert]`).
"""

import numpy as np

_NDARRAY, _COMPLEX, _SCALAR = 1, 2, 3
_CHUNKED = "__msgpack_chunked_array__"


def _msgpack():
    try:
        import msgpack
    except ImportError:
        raise ValueError("reading Flax checkpoints needs msgpack: pip "
                         "install 'muse-tf[convert]'") from None
    return msgpack


def _array(msgpack, data):
    shape, dtype, buffer = msgpack.unpackb(data, raw=True)
    dtype = dtype.decode()
    if dtype == "bfloat16":
        import ml_dtypes  # Installed with TensorFlow.

        array = np.frombuffer(buffer, ml_dtypes.bfloat16)
        return array.astype(np.float32).reshape(shape)
    return np.frombuffer(buffer, np.dtype(dtype)).reshape(shape).copy()


def _ext_hook(msgpack):
    def hook(code, data):
        if code == _NDARRAY:
            return _array(msgpack, data)
        if code == _SCALAR:
            return _array(msgpack, data)[()]
        if code == _COMPLEX:
            real, imag = msgpack.unpackb(data)
            return complex(real, imag)
        raise ValueError(f"unknown msgpack extension type {code}")
    return hook


def _ordered(mapping):
    return [mapping[k] for k in sorted(mapping, key=int)]


def flatten(tree, prefix=""):
    """{"a": {"b": x}} -> {"a/b": x}; chunked arrays joined."""
    if isinstance(tree, dict) and tree.get(_CHUNKED):
        shape = tuple(_ordered(tree["shape"]))
        return {prefix: np.concatenate(_ordered(tree["chunks"])).reshape(
            shape)}
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}/{key}" if prefix else key))
    return flat


def read(path):
    """{"params/a/b": numpy array} of the Flax checkpoint at `path`; a
    ValueError naming the file if it is not one."""
    msgpack = _msgpack()
    with open(path, "rb") as f:
        data = f.read()
    try:
        tree = msgpack.unpackb(data, ext_hook=_ext_hook(msgpack), raw=False)
    except (ValueError, msgpack.UnpackException) as e:
        raise ValueError(f"{path} is not a Flax checkpoint: {e}") from None
    if isinstance(tree, dict):
        return flatten(tree)
    raise ValueError(f"{path} is not a Flax checkpoint (its root is a "
                     f"{type(tree).__name__}, not a map)")
