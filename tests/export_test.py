"""The exported SavedModel, loaded the ways TF Serving and users load it."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import muse_tf

# Runs in a fresh process: loads the SavedModel with the TF2 loader and with
# the TF1 loader + Session.run on the SignatureDef's tensor names (how TF
# Serving runs a model), and the bf16 export's float32 twin with the TF2
# loader; prints the PNGs' sha256 and shapes.
_FRESH_PROCESS = r"""
import hashlib, json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401
path = sys.argv[1]
prompts = ["a ladybug emoji, Apple style", "a cat"]

def report(pngs):
    return {"sha": [hashlib.sha256(b).hexdigest() for b in pngs],
            "shapes": [list(tf.io.decode_png(b).shape) for b in pngs]}

loaded = tf.saved_model.load(path)
out = loaded.signatures["serving_default"](
    prompt=tf.constant(prompts), negative_prompt=tf.constant([], tf.string),
    seed=tf.constant(7, tf.int64), guidance_scale=tf.constant(2.0),
    num_steps=tf.constant(4))
result = {"tf2": report(out["image_bytes"].numpy())}
twin = loaded.signatures["serving_default_fp32"](
    prompt=tf.constant(prompts), negative_prompt=tf.constant([], tf.string),
    seed=tf.constant(7, tf.int64), guidance_scale=tf.constant(2.0),
    num_steps=tf.constant(4))
result["tf2_fp32"] = report(twin["image_bytes"].numpy())
with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
    sig = meta.signature_def["serving_default"]
    feed = {sig.inputs["prompt"].name: prompts,
            sig.inputs["seed"].name: 7,
            sig.inputs["guidance_scale"].name: 2.0,
            sig.inputs["num_steps"].name: 4}
    # negative_prompt is left out: its SignatureDef default applies.
    pngs = sess.run(sig.outputs["image_bytes"].name, feed)
result["tf1"] = report(pngs)
print(json.dumps(result))
"""


def _sha(pngs):
    return [hashlib.sha256(b).hexdigest() for b in pngs]


@pytest.fixture(scope="module")
def bundled_pipeline():
    """In bf16 on any machine, so the export has its float32 twins."""
    return muse_tf.load_pipeline("emoji_64", precision="bf16")


@pytest.fixture(scope="module")
def exported_bundled(bundled_pipeline, tmp_path_factory):
    from muse_tf.export import ServingModule
    path = str(tmp_path_factory.mktemp("bundled") / "muse" / "1")
    return ServingModule(bundled_pipeline, max_batch=4).save(path)


@pytest.fixture(scope="module")
def fresh_process_result(exported_bundled):
    run = subprocess.run([sys.executable, "-c", _FRESH_PROCESS,
                          exported_bundled], capture_output=True,
                         text=True, timeout=600, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_bundled_export_loads_with_tf2_and_tf1_loaders(
        bundled_pipeline, fresh_process_result):
    size = bundled_pipeline.config.vqgan.image_size
    assert fresh_process_result["tf2"]["shapes"] == [[size, size, 3]] * 2
    # Session.run gives the same bytes.
    assert fresh_process_result["tf1"] == fresh_process_result["tf2"]


@pytest.mark.slow
def test_a_bf16_exports_float32_twins_serve_the_fp32_pipelines_bytes(
        bundled_pipeline, exported_bundled, fresh_process_result):
    """What a machine without bf16 serves: the same bytes as the fp32
    Python pipeline in this process (so generation is deterministic across
    processes too), over the same weights; `muse_tf.load` picks the twins
    when asked for fp32. (The bf16 signatures match the bf16 pipeline in
    quality, not bytes: docs/design.md §11.)"""
    from muse_tf.pipeline import MusePipeline
    fp32 = MusePipeline(bundled_pipeline.config, bundled_pipeline.components,
                        bundled_pipeline.conditioner, precision="fp32")
    images = fp32(["a ladybug emoji, Apple style", "a cat"], seed=7,
                  guidance_scale=2.0, num_steps=4)
    pngs = [tf.io.encode_png(image).numpy() for image in images]
    assert _sha(pngs) == fresh_process_result["tf2_fp32"]["sha"]
    assert fresh_process_result["tf2_fp32"] != fresh_process_result["tf2"]
    assert muse_tf.load(exported_bundled, precision="fp32").signature == (
        "serving_default_fp32")


def test_load_gives_a_python_pipeline_with_signature_defaults(
        tiny_config, loaded_tiny):
    pipe = loaded_tiny
    assert int(pipe.defaults["num_steps"]) == tiny_config.sampler.num_steps
    images = pipe(["a ladybug"], seed=1)
    size = tiny_config.vqgan.image_size
    assert images.shape == (1, size, size, 3) and images.dtype == np.uint8
    assert _sha(pipe.png_bytes(["a ladybug"], seed=1)) == _sha(
        pipe.png_bytes(["a ladybug"], seed=1))


def test_loading_an_fp32_export_in_bf16_names_the_problem(exported_tiny):
    with pytest.raises(ValueError, match="exported in fp32: it has no "
                       "bf16 signatures"):
        muse_tf.load(exported_tiny, precision="bf16")


@pytest.mark.parametrize("override, message", [
    ({"prompt": tf.constant([], tf.string)}, "prompt batch is empty"),
    ({"prompt": tf.constant(["a"] * 5)}, "prompt batch is larger than 4"),
    ({"num_steps": tf.constant(0)},
     "num_steps must be an integer >= 1 and <= 8"),
    ({"num_steps": tf.constant(9)},
     "num_steps must be an integer >= 1 and <= 8"),
    ({"guidance_scale": tf.constant(float("nan"))},
     "guidance_scale must be a finite number >= 0"),
    ({"guidance_scale": tf.constant(-1.0)},
     "guidance_scale must be a finite number >= 0"),
    ({"negative_prompt": tf.constant(["x", "y"])}, "negative_prompt"),
])
def test_bad_input_is_invalid_argument(loaded_tiny, override, message):
    serve = loaded_tiny.module.signatures["serving_default"]
    inputs = {"prompt": tf.constant(["a"]),
              "negative_prompt": tf.constant([], tf.string),
              "seed": tf.constant(0, tf.int64),
              "guidance_scale": tf.constant(1.0), "num_steps": tf.constant(2)}
    inputs.update(override)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve(**inputs)
    # The model keeps answering good requests after a bad one.
    good = dict(inputs, prompt=tf.constant(["a"]),
                negative_prompt=tf.constant([], tf.string),
                guidance_scale=tf.constant(1.0), num_steps=tf.constant(2))
    assert serve(**good)["image_bytes"].shape == (1,)


def test_long_prompt_is_truncated_not_rejected(loaded_tiny):
    serve = loaded_tiny.module.signatures["serving_default"]
    out = serve(prompt=tf.constant([" ".join(["ladybug"] * 500)]),
                negative_prompt=tf.constant([], tf.string),
                seed=tf.constant(0, tf.int64),
                guidance_scale=tf.constant(1.0), num_steps=tf.constant(2))
    assert out["tokens"].shape[0] == 1


def test_decode_tokens_signature_rejects_out_of_range_ids(tiny_config,
                                                          loaded_tiny):
    decode = loaded_tiny.module.signatures["decode_tokens"]
    length = tiny_config.transformer.sequence_length
    ok = decode(tokens=tf.zeros([1, length], tf.int32))
    assert ok["image_bytes"].shape == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="codebook"):
        decode(tokens=tf.fill([1, length], tiny_config.transformer
                              .codebook_size))


# `saved_model_cli run` imports the graph, so the tf-text ops must be
# registered first; the stock console script does not import tensorflow_text.
_SAVED_MODEL_CLI_WITH_TF_TEXT = (
    "import sys, tensorflow_text; "
    "from tensorflow.python.tools.saved_model_cli import main; "
    "sys.argv[0] = 'saved_model_cli'; sys.exit(main())")


def test_saved_model_cli_show_all_lists_every_signature(exported_tiny):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--all", "--dir", exported_tiny],
                           capture_output=True, text=True, timeout=300,
                           check=True).stdout
    for name in ("serving_default", "generate_tokens", "decode_tokens",
                 "inpaint", "edit", "inputs['prompt']", "inputs['mask_bytes']", "outputs['image_bytes']",
                 "WordpieceTokenizeWithOffsets"):
        assert name in shown


@pytest.mark.slow
def test_saved_model_cli_run_writes_the_same_pngs(tiny_config, exported_tiny,
                                                  loaded_tiny, tmp_path):
    subprocess.run([sys.executable, "-c", _SAVED_MODEL_CLI_WITH_TF_TEXT,
                    "run", "--dir", exported_tiny, "--tag_set", "serve",
                    "--signature_def", "serving_default", "--input_exprs",
                    "prompt=['a ladybug', 'a cat'];seed=5;num_steps=3",
                    "--outdir", str(tmp_path)],
                   capture_output=True, text=True, timeout=300, check=True)
    pngs = list(np.load(tmp_path / "image_bytes.npy", allow_pickle=True))
    size = tiny_config.vqgan.image_size
    assert [tf.io.decode_png(b).shape for b in pngs] == [(size, size, 3)] * 2
    assert pngs == loaded_tiny.png_bytes(
        ["a ladybug", "a cat"], seed=5, num_steps=3)


def test_export_writes_each_weight_once(tiny_pipeline, exported_tiny):
    """The checkpoint holds every weight once (the Keras wrappers are not
    saved beside the raw variables they wrap)."""
    saved = tf.train.list_variables(os.path.join(exported_tiny, "variables",
                                                 "variables"))
    saved_values = sum(int(np.prod(shape)) for name, shape in saved
                       if not name.startswith(("_CHECKPOINTABLE",
                                               "precision/")))
    assert saved_values == sum(int(np.prod(w.shape))
                               for w in tiny_pipeline.weights)


@pytest.mark.slow
def test_pipeline_with_a_hub_text_encoder_exports_and_loads(
        hub_config, tmp_path):
    from muse_tf.export import ServingModule
    from muse_tf.pipeline import MusePipeline

    pipe = MusePipeline(hub_config, precision="fp32")
    path = ServingModule(pipe, max_batch=2, max_steps=4).save(
        str(tmp_path / "1"))
    images = pipe(["a red ladybug"], seed=3, num_steps=2)
    pngs = [tf.io.encode_png(image).numpy() for image in images]
    assert muse_tf.load(path).png_bytes(["a red ladybug"], seed=3,
                                        num_steps=2) == pngs


def _xla_functions_called(path, signature):
    """Names of the XLA-compiled functions that `signature` of the
    SavedModel at `path` calls, directly or through other functions."""
    from tensorflow.core.protobuf import saved_model_pb2
    model = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        model.ParseFromString(f.read())
    meta = model.meta_graphs[0]
    library = {f.signature.name: f for f in meta.graph_def.library.function}
    nodes = {node.name: node for node in meta.graph_def.node}
    output = next(iter(meta.signature_def[signature].outputs.values()))

    def must_compile(attrs):
        return "_XlaMustCompile" in attrs and attrs["_XlaMustCompile"].b

    compiled, seen = set(), set()
    pending = [nodes[output.name.split(":")[0]]]
    while pending:
        node = pending.pop()
        callees = [attr.func.name for attr in node.attr.values()
                   if attr.func.name and attr.func.name not in seen]
        for callee in callees:
            seen.add(callee)
            if must_compile(node.attr) or must_compile(library[callee].attr):
                compiled.add(callee)
            pending.extend(library[callee].node_def)
    return compiled


@pytest.mark.parametrize("signature", ["serving_default", "generate_tokens"])
def test_served_tokens_come_from_the_pipelines_xla_compiled_loop(
        exported_tiny, signature):
    """TF Serving runs the decoding loop the Python pipeline runs, compiled
    by XLA as there (so at its speed): not an uncompiled copy."""
    compiled = _xla_functions_called(exported_tiny, signature)
    assert any("generate_graph" in name for name in compiled), compiled
