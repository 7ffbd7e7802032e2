"""Packs a model directory for bundling: every weight stored as float16.

The bundled model ships inside the package (the git repository and the
wheel), so its size matters; float16 halves it. Keras loads a float16 array
into a float32 variable by casting, so the packed directory loads like any
other and computes in float32; only the weights' last bits are rounded
(relative error below 2^-11).

Example (the bundled cascade; a fidelity judge packs the same way):
  python training/pack_model.py runs/emoji_128 muse_tf/presets/emoji_128
"""

import argparse
import os
import shutil

import h5py
import numpy as np


def pack_weights(source, destination):
    """Copies the .weights.h5 file `source` to `destination`, float32
    datasets as float16, everything else as it is, except the optimizer's
    state (Keras saves it with a compiled model, such as a judge trained
    with `fit`): a shipped model is used, not trained further."""
    with h5py.File(source, "r") as src, h5py.File(destination, "w") as dst:
        def copy(name, item):
            if name.split("/")[0] == "optimizer":
                return
            if isinstance(item, h5py.Group):
                group = dst.require_group(name)
                group.attrs.update(item.attrs)
            else:
                data = item[()]
                if data.dtype == np.float32:
                    data = data.astype(np.float16)
                dst.create_dataset(name, data=data)
        dst.attrs.update(src.attrs)
        src.visititems(copy)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", help="a model directory to pack")
    parser.add_argument("output", help="the packed model directory")
    args = parser.parse_args(argv)
    if not os.path.exists(os.path.join(args.model_dir, "config.json")):
        raise ValueError(f"{args.model_dir} is not a model directory "
                         "(no config.json)")
    os.makedirs(args.output, exist_ok=True)
    total = 0
    for name in sorted(os.listdir(args.model_dir)):
        source = os.path.join(args.model_dir, name)
        destination = os.path.join(args.output, name)
        if name.endswith(".weights.h5"):
            pack_weights(source, destination)
        elif name.endswith(".json"):  # Config, and a judge's test score.
            shutil.copyfile(source, destination)
        else:
            continue
        size = os.path.getsize(destination)
        total += size
        print(f"{name}: {size / 1e6:.1f} MB")
    print(f"{args.output}: {total / 1e6:.1f} MB in all")


if __name__ == "__main__":
    main()
