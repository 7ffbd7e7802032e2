"""The real emoji_captions/sample dataset, built once per session."""

import os

import pytest
import tensorflow_datasets as tfds

from muse_tf.data import emoji_captions


def _build(name, data_dir):
    """Builds emoji_captions/NAME from the npm packages (fetched once into
    the default manual dir, or MUSE_TF_MANUAL_DIR) and the Noto font. The
    data dir gets a link to them where `muse-tf prepare-data --data-dir`
    keeps them, so the synonyms of `muse-tf eval` are found there too."""
    source = os.path.expanduser(os.environ.get(
        "MUSE_TF_MANUAL_DIR", emoji_captions.manual_directory()))
    emoji_captions.fetch_npm_sources(source)
    manual_dir = emoji_captions.manual_directory(data_dir)
    os.makedirs(os.path.dirname(manual_dir), exist_ok=True)
    os.symlink(source, manual_dir)
    builder = tfds.builder(f"emoji_captions/{name}", data_dir=data_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=manual_dir))
    return builder


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory):
    """A TFDS data dir holding emoji_captions/sample."""
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    _build("sample", data_dir)
    return data_dir


@pytest.fixture(scope="session")
def sample_128_builder(tmp_path_factory):
    """emoji_captions/sample_128, built in its own data dir."""
    return _build("sample_128", str(tmp_path_factory.mktemp("tfds128")))


@pytest.fixture(scope="session")
def sample_builder(sample_data_dir):
    return tfds.builder("emoji_captions/sample", data_dir=sample_data_dir)
