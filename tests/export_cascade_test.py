"""The cascade and its editing signatures, exported and loaded."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

PROMPTS = ["a ladybug", "a cat"]

# A fresh process (as a newly started server) calls each signature and
# prints the sha256 of every PNG it returns.
_FRESH_PROCESS = r"""
import hashlib, json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401
path, image, mask = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(
    sys.argv[3])
prompts = tf.constant(["a ladybug", "a cat"])
sigs = tf.saved_model.load(path).signatures
common = dict(prompt=prompts, negative_prompt=tf.constant([], tf.string),
              seed=tf.constant(7, tf.int64),
              super_res_guidance_scale=tf.constant(2.0),
              super_res_steps=tf.constant(2))
outputs = {
    "serving_default": sigs["serving_default"](
        guidance_scale=tf.constant(2.0), num_steps=tf.constant(3), **common),
    "inpaint": sigs["inpaint"](
        image_bytes=tf.constant([image] * 2),
        mask_bytes=tf.constant([mask] * 2), guidance_scale=tf.constant(2.0),
        num_steps=tf.constant(3), **common),
    "edit": sigs["edit"](
        image_bytes=tf.constant([image] * 2), guidance_scale=tf.constant(4.0),
        num_iterations=tf.constant(3), **common),
}
print(json.dumps({name: [hashlib.sha256(b).hexdigest()
                         for b in out["image_bytes"].numpy()]
                  for name, out in outputs.items()}))
"""


def _png(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def _sha(images):
    import hashlib
    return [hashlib.sha256(tf.io.encode_png(i).numpy()).hexdigest()
            for i in images]


@pytest.fixture(scope="module")
def picture():
    y, x = np.mgrid[:32, :32]
    image = np.full((32, 32, 3), 255, np.uint8)
    image[(y - 16) ** 2 + (x - 12) ** 2 < 64] = (200, 30, 30)
    mask = np.zeros((32, 32), np.uint8)
    mask[4:12, 16:28] = 255
    return image, mask


@pytest.fixture(scope="module")
def exported_cascade(tiny_cascade, tmp_path_factory):
    from muse_tf.export import ServingModule
    path = str(tmp_path_factory.mktemp("cascade") / "muse" / "1")
    return ServingModule(tiny_cascade, max_batch=4, max_steps=8).save(
        path)


@pytest.mark.slow
def test_cascade_signatures_match_the_python_pipeline_byte_for_byte(
        tiny_cascade, exported_cascade, picture):
    image, mask = picture
    run = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, exported_cascade,
         _png(image).hex(), _png(mask).hex()],
        capture_output=True, text=True, timeout=600, check=True)
    served = json.loads(run.stdout.strip().splitlines()[-1])
    sampling = {"seed": 7, "super_res_steps": 2,
                "super_res_guidance_scale": 2.0}
    assert served["serving_default"] == _sha(tiny_cascade(
        PROMPTS, num_steps=3, guidance_scale=2.0, **sampling))
    assert served["inpaint"] == _sha(tiny_cascade.inpaint(
        image, mask, PROMPTS, num_steps=3, guidance_scale=2.0, **sampling))
    assert served["edit"] == _sha(tiny_cascade.edit(
        image, PROMPTS, num_iterations=3, guidance_scale=4.0, **sampling))


@pytest.fixture(scope="module")
def signatures(exported_cascade):
    import muse_tf
    return muse_tf.load(exported_cascade).module.signatures


def _inpaint(signatures, image, mask, prompts=("a ladybug",)):
    return signatures["inpaint"](
        image_bytes=tf.constant([image] * len(prompts)),
        mask_bytes=tf.constant([mask] * len(prompts)),
        prompt=tf.constant(list(prompts)),
        negative_prompt=tf.constant([], tf.string),
        seed=tf.constant(0, tf.int64), guidance_scale=tf.constant(1.0),
        num_steps=tf.constant(2), super_res_guidance_scale=tf.constant(1.0),
        super_res_steps=tf.constant(2))


def test_inpaint_signature_keeps_the_tokens_outside_the_mask(
        tiny_cascade, signatures, picture):
    from muse_tf import editing
    image, mask = picture
    tokens = _inpaint(signatures, _png(image), _png(mask))["tokens"].numpy()
    original = tiny_cascade._encode(image[None])[-1].numpy()[0]
    outside = ~editing.token_mask(mask[None], 16).numpy()[0]
    np.testing.assert_array_equal(tokens[0][outside], original[outside])


@pytest.mark.parametrize("change, message", [
    ({"mask": np.zeros((32, 32), np.uint8)}, "mask is empty"),
    ({"mask": np.full((16, 16), 255, np.uint8)}, "mask must be 32x32"),
    ({"image": b"GIF89a not an image"}, "image is not a valid PNG or JPEG"),
    ({"image": np.zeros((20, 32, 3), np.uint8)}, "image must be 32x32"),
])
def test_bad_editing_input_is_invalid_argument(signatures, picture, change,
                                               message):
    image, mask = picture
    image, mask = change.get("image", image), change.get("mask", mask)
    image = image if isinstance(image, bytes) else _png(image)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _inpaint(signatures, image, _png(mask))
    # The model still answers a good request afterwards.
    good = _inpaint(signatures, _png(picture[0]), _png(picture[1]))
    assert good["image_bytes"].shape == (1,)


def test_edit_signature_rejects_too_many_rounds(signatures, picture):
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_iterations"):
        signatures["edit"](
            image_bytes=tf.constant([_png(picture[0])]),
            prompt=tf.constant(["a cat"]),
            negative_prompt=tf.constant([], tf.string),
            seed=tf.constant(0, tf.int64), guidance_scale=tf.constant(4.0),
            num_iterations=tf.constant(10_000),
            super_res_guidance_scale=tf.constant(1.0),
            super_res_steps=tf.constant(2))
