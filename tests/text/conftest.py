"""The Hugging Face reference outputs of the MiniLM encoder
(tests/golden/make_text_encoder_golden.py) and our encoder at their length,
shared by the text tests."""

import os

import numpy as np
import pytest

from muse_tf.configs import TextConfig
from muse_tf.text.encoder import build_text_encoder

_GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden",
                       "text_encoder_golden.npz")


@pytest.fixture(scope="module")
def golden():
    return np.load(_GOLDEN)


@pytest.fixture(scope="module")
def golden_encoder(golden):
    return build_text_encoder(TextConfig(max_length=int(golden["max_length"])))
