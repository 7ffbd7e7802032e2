"""An exported model served as TF Serving loads it: the TF1 SavedModel
loader in a fresh process (`import tensorflow_text` first, which registers
the in-graph tokenizers' ops that TF Serving's binary has built in), one
`serving_default` request."""

import json
import subprocess
import sys

_SERVE = r"""
import json, sys
import tensorflow as tf
import tensorflow_text
path, feeds = sys.argv[1], json.loads(sys.argv[2])
with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
    sig = meta.signature_def["serving_default"]
    pngs = sess.run(sig.outputs["image_bytes"].name,
                    {sig.inputs[k].name: v for k, v in feeds.items()})
print(json.dumps([p.hex() for p in pngs]))
"""


def serve(saved_model, **inputs):
    """The PNG bytes `serving_default` returns for `inputs` (JSON values by
    input name)."""
    run = subprocess.run(
        [sys.executable, "-c", _SERVE, saved_model, json.dumps(inputs)],
        capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return [bytes.fromhex(p)
            for p in json.loads(run.stdout.strip().splitlines()[-1])]
