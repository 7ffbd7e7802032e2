"""Shared fixtures: tiny configs and models built once per session.

`import tensorflow` and tracing dominate test time, so models are built once
and shared; every test uses the "tiny" preset (8x8 tokens, 2 small layers).
"""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from muse_tf.presets import get_config
from muse_tf.training.distribute import logical_cpus

# Two logical CPU devices, so MirroredStrategy tests have two replicas. This
# must run before TensorFlow initialises its devices.
logical_cpus(2)


def pytest_addoption(parser):
    parser.addoption(
        "--full-size", action="store_true",
        help="also run the `full_size` tests: released model sizes at "
             "random weights (GBs of memory, minutes each)")


@pytest.hookimpl(tryfirst=True)  # Before xdist reads the groups.
def pytest_collection_modifyitems(config, items):
    """How pytest-xdist (`--dist loadgroup`) shares the tests between its
    workers: a module's tests run in one worker, so its module-scoped
    fixtures (a training run, an export, a server) are built once, not once
    per worker; every test of tests/data too, since they share one session
    build of the emoji data and the npm download folder, which two workers
    would race for. Units with the most `slow` tests go first: handed out
    last, one would keep a worker busy while the other idles.

    `full_size` tests (the converters' exactness at the released models'
    sizes) are skipped unless `--full-size` is given: together they need
    minutes and several GB, more than the default run's budget."""
    if not config.getoption("--full-size"):
        skip = pytest.mark.skip(reason="a released model size: run with "
                                "`pytest --full-size -m full_size`")
        for item in items:
            if item.get_closest_marker("full_size") is not None:
                item.add_marker(skip)
    data = os.path.join(os.path.dirname(__file__), "data")
    units = {}
    for item in items:
        unit = ("emoji_data" if str(item.path).startswith(data)
                else item.nodeid.split("::")[0])
        item.add_marker(pytest.mark.xdist_group(unit))
        units.setdefault(unit, []).append(item)
    order = sorted(units.values(), key=lambda unit: -sum(
        item.get_closest_marker("slow") is not None for item in unit))
    items[:] = [item for unit in order for item in unit]


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    tf.random.set_seed(0)


@pytest.fixture(scope="session")
def tiny_config():
    return get_config("tiny")


@pytest.fixture(scope="session")
def text_encoder(tiny_config):
    from muse_tf.text.encoder import build_text_encoder
    return build_text_encoder(tiny_config.text)


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_config, text_encoder):
    from muse_tf.conditioning import TextConditioner
    from muse_tf.pipeline import MusePipeline
    # fp32: its export's bytes are compared with its own, which XLA's one
    # compiled loop guarantees (docs/design.md §11).
    return MusePipeline(tiny_config, conditioner=TextConditioner(text_encoder),
                        precision="fp32")


@pytest.fixture(scope="session")
def tiny_cascade(text_encoder):
    """The tiny model plus a super-res stage: 16x16 -> 32x32 pixels, 8x8
    -> 16x16 tokens (random weights)."""
    from muse_tf.conditioning import TextConditioner
    from muse_tf.pipeline import MusePipeline
    return MusePipeline(get_config("tiny_cascade"),
                        conditioner=TextConditioner(text_encoder),
                        precision="fp32")


@pytest.fixture(scope="session")
def fid_features():
    """The FID Inception, built and compiled once (it takes seconds)."""
    from muse_tf.evaluate import FIDFeatures
    return FIDFeatures(batch_size=8)


class _HashEncoder(tf.Module):
    """A small string -> token-states encoder, saved as a SavedModel."""

    def __init__(self, length=6, dim=8):
        super().__init__()
        self.length = length
        self.table = tf.Variable(
            tf.random.stateless_normal([97, dim], [4, 2]))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, prompts):
        words = tf.strings.split(tf.strings.lower(prompts))
        ids = tf.strings.to_hash_bucket_fast(words, 97)
        states = tf.gather(self.table, ids).to_tensor(
            shape=[None, self.length, self.table.shape[1]])
        mask = tf.ones_like(ids, tf.bool).to_tensor(
            False, shape=[None, self.length])
        return {"sequence_output": states, "input_mask": mask}


@pytest.fixture(scope="session")
def hub_encoder_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("hub") / "encoder")
    tf.saved_model.save(_HashEncoder(), path)
    return path


@pytest.fixture(scope="session")
def hub_config(tiny_config, hub_encoder_path):
    """The tiny model with the _HashEncoder SavedModel as its text encoder."""
    from muse_tf.configs import ModelConfig, TextConfig
    return ModelConfig(
        vqgan=tiny_config.vqgan,
        transformer=dataclasses.replace(tiny_config.transformer, text_dim=8),
        text=TextConfig(kind="hub", handle=hub_encoder_path, max_length=6,
                        output_dim=8),
        sampler=tiny_config.sampler)


@pytest.fixture(scope="session")
def exported_tiny(tiny_pipeline, tmp_path_factory):
    """The tiny pipeline exported as a SavedModel (version dir 1)."""
    from muse_tf.export import ServingModule
    path = str(tmp_path_factory.mktemp("export") / "muse" / "1")
    return ServingModule(tiny_pipeline, max_batch=4, max_steps=8).save(
        path)


@pytest.fixture(scope="session")
def loaded_tiny(exported_tiny):
    """`muse_tf.load` of the exported tiny pipeline, shared: each load
    compiles its signatures again on first use (~15 s)."""
    import muse_tf
    return muse_tf.load(exported_tiny)
