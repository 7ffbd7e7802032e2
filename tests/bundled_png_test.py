"""A seed gives the same PNG bytes from the bundled models as it did when
`tests/golden/make_bundled_pngs.py` wrote them: what users get from a seed
survives every refactor."""

import importlib.util
import os

import pytest
import tensorflow as tf

import muse_tf

_SCRIPT = os.path.join(os.path.dirname(__file__), "golden",
                       "make_bundled_pngs.py")
_spec = importlib.util.spec_from_file_location("make_bundled_pngs", _SCRIPT)
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


@pytest.mark.slow
@pytest.mark.parametrize("model, requests, seed", golden.CASES,
                         ids=[case[0] for case in golden.CASES])
def test_bundled_model_draws_the_committed_pngs(model, requests, seed):
    images = muse_tf.load_pipeline(model, precision="fp32")(requests,
                                                            seed=seed)
    assert len(images) == len(requests)
    for index, image in enumerate(images):
        with open(os.path.join(golden.HERE,
                               golden.png_name(model, seed, index)),
                  "rb") as f:
            expected = f.read()
        assert tf.io.encode_png(image).numpy() == expected, (
            f"{model} seed {seed} image {index} differs from its golden PNG")
