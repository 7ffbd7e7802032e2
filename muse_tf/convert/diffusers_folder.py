"""Reads one part of a diffusers / transformers folder (`transformer/`,
`vqvae/`, `text_encoder/`): its `config.json` and its safetensors weights,
with `safetensors`' NumPy API, so no torch is needed.

A part saved in float32 and float16 (`*.fp16.safetensors`, diffusers'
"fp16" variant) is read from the float32 file; a part with only the
float16 file is upcast to float32, as diffusers' `force_upcast` runs it.
"""

import json
import os

import numpy as np

CONFIG_FILE = "config.json"


def read_json(path):
    """The JSON object of `path`, or a ValueError naming a missing or
    unreadable file."""
    if not os.path.exists(path):
        raise ValueError(f"{path} does not exist")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON: {error}") from None


def read_part(directory, weight_files):
    """(config dict, {key: float32 array}) of a part folder; its weights are
    the first of `weight_files` (names in preference order) present."""
    config = read_json(os.path.join(directory, CONFIG_FILE))
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    for name in weight_files:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            try:
                tensors = load_file(path)
            except SafetensorError as error:
                raise ValueError(f"{path} is not a safetensors file: "
                                 f"{error}") from None
            return config, {key: value.astype(np.float32, copy=False)
                            for key, value in tensors.items()}
    raise ValueError(f"{directory} has none of {list(weight_files)}")
