"""A converted model fine-tuned by our trainer, as a user runs it: a
folder of captioned images and `muse-tf train transformer` for 2 steps
under MirroredStrategy on two logical CPUs.

The job runs in its own process: MirroredStrategy's collectives would
collide with those of other tests in the test worker's process."""

import json
import subprocess
import sys

import numpy as np
import tensorflow as tf
from PIL import Image


def fine_tune(model_dir, captions, image_size, tmp_path):
    """Fine-tunes `model_dir` on random images of `image_size` pixels with
    `captions`; returns the tuned model directory after checking the job
    ended at its step-2 checkpoint."""
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i, caption in enumerate(captions):
        Image.fromarray(rng.integers(0, 256, (image_size, image_size, 3),
                                     np.uint8)).save(data / f"{i}.png")
        rows.append(json.dumps({"file": f"{i}.png", "caption": caption}))
    (data / "captions.jsonl").write_text("\n".join(rows))
    work, tuned = tmp_path / "work", tmp_path / "tuned"
    args = ["train", "transformer", "--preset", model_dir,
            "--init-from", model_dir, "--vqgan", model_dir,
            "--data", f"folder:{data}", "--workdir", str(work),
            "--num-steps", "2", "--batch-size", str(len(captions)),
            "--checkpoint-every", "2", "--sample-every", "0",
            "--strategy", "mirrored", "--cpu-replicas", "2",
            "--learning-rate", "0.01", "--warmup-steps", "1",
            "--model-dir", str(tuned)]
    run = subprocess.run([sys.executable, "-m", "muse_tf.cli", *args],
                         capture_output=True, text=True, timeout=900,
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert tf.train.latest_checkpoint(str(work / "checkpoints")).endswith(
        "ckpt-2")
    return str(tuned)
