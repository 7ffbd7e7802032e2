"""The exported SavedModel, loaded the ways TF Serving and users load it."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import muse_tf

# Runs in a fresh process with the TF2 loader; prints the sha256 of every
# PNG and the decoded shapes.
_FRESH_PROCESS = r"""
import hashlib, json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401
path = sys.argv[1]
loaded = tf.saved_model.load(path)
out = loaded.signatures["serving_default"](
    prompt=tf.constant(["a ladybug", "a cat"]),
    negative_prompt=tf.constant([], tf.string),
    seed=tf.constant(7, tf.int64), guidance_scale=tf.constant(2.0),
    num_steps=tf.constant(3))
tf2 = [hashlib.sha256(b).hexdigest() for b in out["image_bytes"].numpy()]
shapes = [list(tf.io.decode_png(b).shape) for b in out["image_bytes"].numpy()]
print(json.dumps({"tf2": tf2, "shapes": shapes}))
"""


def _sha(pngs):
    return [hashlib.sha256(b).hexdigest() for b in pngs]


@pytest.fixture(scope="module")
def fresh_process_results(exported_tiny):
    runs = [subprocess.run([sys.executable, "-c", _FRESH_PROCESS,
                            exported_tiny], capture_output=True, text=True,
                           timeout=300, check=True) for _ in range(2)]
    return [json.loads(r.stdout.strip().splitlines()[-1]) for r in runs]


@pytest.mark.slow
def test_fresh_process_loads_the_savedmodel(tiny_config,
                                            fresh_process_results):
    size = tiny_config.vqgan.image_size
    first, second = fresh_process_results
    assert first["shapes"] == [[size, size, 3]] * 2
    assert second == first  # Byte-identical across two processes.


@pytest.mark.slow
def test_savedmodel_matches_python_pipeline_bytes(tiny_pipeline,
                                                  fresh_process_results):
    images = tiny_pipeline(["a ladybug", "a cat"], seed=7, guidance_scale=2.0,
                           num_steps=3)
    pngs = [tf.io.encode_png(image).numpy() for image in images]
    assert _sha(pngs) == fresh_process_results[0]["tf2"]


def test_load_gives_a_python_pipeline_with_signature_defaults(
        tiny_config, exported_tiny):
    pipe = muse_tf.load(exported_tiny)
    assert int(pipe.defaults["num_steps"]) == tiny_config.sampler.num_steps
    images = pipe(["a ladybug"], seed=1)
    size = tiny_config.vqgan.image_size
    assert images.shape == (1, size, size, 3) and images.dtype == np.uint8
    assert _sha(pipe.png_bytes(["a ladybug"], seed=1)) == _sha(
        pipe.png_bytes(["a ladybug"], seed=1))


@pytest.mark.parametrize("override, message", [
    (dict(prompt=tf.constant([], tf.string)), "prompt batch is empty"),
    (dict(prompt=tf.constant(["a"] * 5)), "prompt batch is larger than 4"),
    (dict(num_steps=tf.constant(0)), "num_steps must be >= 1"),
    (dict(num_steps=tf.constant(9)), "num_steps must be <= 8"),
    (dict(guidance_scale=tf.constant(float("nan"))),
     "guidance_scale must be finite"),
    (dict(guidance_scale=tf.constant(-1.0)), "guidance_scale must be >= 0"),
    (dict(negative_prompt=tf.constant(["x", "y"])), "negative_prompt"),
])
def test_bad_input_is_invalid_argument(exported_tiny, override, message):
    serve = muse_tf.load(exported_tiny).module.signatures["serving_default"]
    inputs = dict(prompt=tf.constant(["a"]),
                  negative_prompt=tf.constant([], tf.string),
                  seed=tf.constant(0, tf.int64),
                  guidance_scale=tf.constant(1.0), num_steps=tf.constant(2))
    inputs.update(override)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve(**inputs)
    # The model keeps answering good requests after a bad one.
    good = dict(inputs, prompt=tf.constant(["a"]),
                negative_prompt=tf.constant([], tf.string),
                guidance_scale=tf.constant(1.0), num_steps=tf.constant(2))
    assert serve(**good)["image_bytes"].shape == (1,)


def test_long_prompt_is_truncated_not_rejected(exported_tiny):
    serve = muse_tf.load(exported_tiny).module.signatures["serving_default"]
    out = serve(prompt=tf.constant([" ".join(["ladybug"] * 500)]),
                negative_prompt=tf.constant([], tf.string),
                seed=tf.constant(0, tf.int64),
                guidance_scale=tf.constant(1.0), num_steps=tf.constant(2))
    assert out["tokens"].shape[0] == 1


def test_decode_tokens_signature_rejects_out_of_range_ids(tiny_config,
                                                          exported_tiny):
    decode = muse_tf.load(exported_tiny).module.signatures["decode_tokens"]
    length = tiny_config.transformer.sequence_length
    ok = decode(tokens=tf.zeros([1, length], tf.int32))
    assert ok["image_bytes"].shape == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="codebook"):
        decode(tokens=tf.fill([1, length], tiny_config.transformer
                              .codebook_size))
