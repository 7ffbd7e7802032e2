"""`muse-tf train pack`: the bundled model's float16 packing loads back
as the same model with its weights rounded to float16."""

import os
import subprocess
import sys

import h5py
import numpy as np

from muse_tf.pipeline import MusePipeline


def _pack(*args):
    return subprocess.run([sys.executable, "-m", "muse_tf.cli", "train", "pack",
                           *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_packed_cascade_loads_as_the_float16_rounded_model(tiny_cascade,
                                                           tmp_path):
    source, packed = str(tmp_path / "model"), str(tmp_path / "packed")
    tiny_cascade.save(source)
    result = _pack(source, packed)
    assert result.returncode == 0, result.stderr

    stored = []
    for name in os.listdir(packed):
        if name.endswith(".weights.h5"):
            with h5py.File(os.path.join(packed, name)) as f:
                f.visititems(lambda _, item: stored.append(item.dtype)
                             if isinstance(item, h5py.Dataset) else None)
    assert stored and set(stored) == {np.dtype(np.float16)}
    loaded = MusePipeline.from_pretrained(packed)
    assert len(loaded.stages) == 2
    components = ("transformer", "vqgan", "super_res", "high_res_vqgan")
    assert sorted(loaded.components) == sorted(components)
    for name in components:
        for original, restored in zip(tiny_cascade.components[name].weights,
                                      loaded.components[name].weights,
                                      strict=True):
            assert restored.dtype == original.dtype
            np.testing.assert_array_equal(
                restored.numpy(), original.numpy().astype(np.float16)
                .astype(original.dtype))


def test_a_directory_without_config_is_refused(tmp_path):
    result = _pack(str(tmp_path), str(tmp_path / "packed"))
    assert result.returncode != 0
    assert "is not a model directory" in result.stderr
