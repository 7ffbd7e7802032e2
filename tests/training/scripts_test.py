"""The training jobs end to end: killed and resumed runs and two workers
on 127.0.0.1 in processes of their own; token shards, samples, EMA and
export in this process (each process imports TensorFlow again). Tiny
presets, a folder of generated images. The recipes (a class-conditional
model, the cascade's stages): recipes_test.py and
tests/data/emoji_recipes_test.py."""

import glob
import json
import os
import re
import signal
import socket
import subprocess
import time

import numpy as np
import pytest
import tensorflow as tf
from script_runs import (
    ROOT,
    assert_holds_checkpoint,
    checkpoint_weights,
    job_command,
    tensorboard_tags,
)
from script_runs import (
    main_in_process as _main,
)

from muse_tf import cli, model_dir
from muse_tf.pipeline import MusePipeline
from muse_tf.presets import get_config
from muse_tf.training.jobs.vqgan import load_vqgan

COLOURS = {"red": (230, 20, 20), "green": (20, 200, 40), "blue": (20, 40, 230)}
_TIMEOUT_S = 600

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """18 captioned PNGs (a coloured square on white) and one corrupt."""
    folder = tmp_path_factory.mktemp("images")
    rows = []
    for i in range(18):
        name = list(COLOURS)[i % 3]
        image = np.full([20, 20, 3], 255, np.uint8)
        image[i % 9:i % 9 + 8, 2:10] = COLOURS[name]
        (folder / f"{i}.png").write_bytes(tf.io.encode_png(image).numpy())
        rows.append({"file": f"{i}.png", "caption": f"a {name} square"})
    (folder / "bad.png").write_bytes(b"not a png")
    rows.append({"file": "bad.png", "caption": "broken"})
    (folder / "captions.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows))
    return str(folder)


def _command(job, workdir, data, *flags):
    return job_command(job, "--preset", "tiny", "--workdir", workdir,
                       "--data", f"folder:{data}", "--batch-size", "4",
                       *flags)


def _env(**extra):
    return {**os.environ, "PYTHONPATH": ROOT, "CUDA_VISIBLE_DEVICES": "",
            **extra}


def _run(command, **env):
    result = subprocess.run(command, env=_env(**env), capture_output=True,
                            text=True, timeout=_TIMEOUT_S, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def _latest_step(workdir):
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    return int(latest.rsplit("-", 1)[1]) if latest else 0


_VQGAN_FLAGS = ("--num-steps", "300", "--checkpoint-every", "20",
                "--summary-every", "50", "--steps-per-call", "1",
                "--disc-start", "100", "--disc-channels", "8")


@pytest.fixture(scope="module")
def vqgan_run(image_folder, tmp_path_factory):
    """An uninterrupted tiny VQGAN run (also the frozen VQGAN below)."""
    workdir = str(tmp_path_factory.mktemp("vqgan"))
    log = _run(_command("vqgan", workdir, image_folder,
                        *_VQGAN_FLAGS))
    return workdir, log


def test_vqgan_run_skips_and_counts_the_corrupt_image(vqgan_run):
    _, log = vqgan_run
    assert "18 images (1 unreadable, skipped)" in log


def test_a_run_prints_and_records_its_precision(vqgan_run):
    workdir, log = vqgan_run
    printed = re.search(r"^precision (fp32|bf16) \(.+\)$", log, re.MULTILINE)
    assert printed, log[-2000:]
    recorded = [
        tf.make_ndarray(value.tensor).item().decode()
        for events in glob.glob(os.path.join(workdir, "logs", "events*"))
        for event in tf.compat.v1.train.summary_iterator(events)
        for value in event.summary.value if value.tag == "precision"]
    assert recorded == [printed.group(0)]


def test_a_killed_run_resumes_and_ends_as_an_uninterrupted_run(
        vqgan_run, image_folder, tmp_path):
    workdir = str(tmp_path)
    command = _command("vqgan", workdir, image_folder,
                       *_VQGAN_FLAGS)
    process = subprocess.Popen(command, env=_env(),
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + _TIMEOUT_S
        while _latest_step(workdir) < 100 and process.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        process.kill()
    killed_at = _latest_step(workdir)
    assert 100 <= killed_at < 300, "the run ended before it was killed"

    log = _run(command)
    # The restart began at the last checkpoint: at most one interval lost.
    assert re.search(rf"\b{killed_at}/300\b", log)
    assert _latest_step(workdir) == 300
    # Same data order, masks and flips from the checkpoint on: the resumed
    # run ends where the uninterrupted one did.
    final = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    reference = tf.train.latest_checkpoint(
        os.path.join(vqgan_run[0], "checkpoints"))
    resumed, uninterrupted = (checkpoint_weights(p, "vqgan/")
                              for p in (final, reference))
    assert resumed.keys() == uninterrupted.keys() and resumed
    for key in resumed:
        np.testing.assert_allclose(resumed[key], uninterrupted[key],
                                   rtol=1e-4, atol=1e-5, err_msg=key)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_on_localhost_hold_identical_weights(image_folder,
                                                         tmp_path):
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    workdirs = [str(tmp_path / f"worker{i}") for i in range(2)]
    workers = []
    try:
        for index, workdir in enumerate(workdirs):
            config = {"cluster": cluster,
                      "task": {"type": "worker", "index": index}}
            workers.append(subprocess.Popen(
                _command("vqgan", workdir, image_folder,
                         "--strategy", "multi_worker", "--num-steps", "4",
                         "--checkpoint-every", "2", "--steps-per-call", "2",
                         "--disc-start", "0", "--disc-channels", "8"),
                env=_env(TF_CONFIG=json.dumps(config)),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True))
        logs = [w.communicate(timeout=_TIMEOUT_S)[1] for w in workers]
    finally:
        for w in workers:
            w.kill()
            w.wait()
    for w, log in zip(workers, logs):
        assert w.returncode == 0, log[-3000:]
    paths = [tf.train.latest_checkpoint(os.path.join(d, "checkpoints"))
             for d in workdirs]
    assert all(p and p.endswith("-4") for p in paths)
    first, second = (checkpoint_weights(p, "") for p in paths)
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)


def test_transformer_job_trains_on_token_shards_samples_and_exports(
        vqgan_run, image_folder, tmp_path, capsys):
    workdir, model = str(tmp_path / "run"), str(tmp_path / "model")
    _main(_command("transformer", workdir, image_folder,
                   "--vqgan", vqgan_run[0], "--num-steps", "6",
                   "--checkpoint-every", "2", "--keep-checkpoints", "0",
                   "--summary-every", "2", "--sample-every", "3",
                   "--eval-every", "3", "--eval-examples", "100",
                   "--steps-per-call", "2", "--model-dir", model))
    with open(os.path.join(workdir, "tokens", "metadata.json")) as f:
        assert json.load(f)["num_examples"] == 18
    # Of --eval-examples 100, the 18 there are, in whole batches of 4.
    evals = [line for line in capsys.readouterr().out.splitlines()
             if "masked-token accuracy" in line]
    assert len(evals) == 2
    assert all(line.endswith("on 16 training examples") for line in evals)
    assert {"loss/masked_token", "learning_rate", "samples",
            "eval/masked_token_accuracy",
            "throughput/examples_per_second"} <= tensorboard_tags(workdir)
    generated = MusePipeline.from_pretrained(model)(["a red square"],
                                                        seed=0)
    assert generated.shape == (1, 16, 16, 3)

    # Offline EMA of the kept checkpoints, exported as a model directory.
    ema_dir, ema_model = str(tmp_path / "ema"), str(tmp_path / "ema_model")
    checkpoints = os.path.join(workdir, "checkpoints")
    assert cli.main(["train", "ema", checkpoints, ema_dir]) == 0
    _main(_command("transformer", workdir, image_folder,
                   "--vqgan", vqgan_run[0], "--export-only", "--export-from",
                   ema_dir, "--model-dir", ema_model))
    assert_holds_checkpoint(
        MusePipeline.from_pretrained(ema_model).components["transformer"],
        tf.train.latest_checkpoint(ema_dir))



def test_large_decoder_of_a_one_stage_model_grows_from_one_checkpoint(
        vqgan_run, image_folder, tmp_path):
    """Muse's larger decoder for the only VQGAN of a one-stage model: grown
    from one checkpoint of a run (not its latest), trained with that
    encoder and codebook frozen, and loaded in its place with
    `decoder="large"` (tests/pipeline_test.py draws with one)."""
    config = get_config("tiny")
    checkpoint = os.path.join(vqgan_run[0], "checkpoints", "ckpt-280")
    frozen, _ = load_vqgan(config.vqgan, checkpoint)
    model = str(tmp_path / "model")
    model_dir.save(model, config, model_dir.build(config, {"vqgan": frozen}))
    with pytest.raises(ValueError, match="no large decoder"):
        model_dir.load(model, decoder="large")
    _main(_command("vqgan", str(tmp_path / "large"), image_folder,
                   "--stage", "large_decoder", "--init-from", checkpoint,
                   "--num-steps", "4", "--checkpoint-every", "2",
                   "--steps-per-call", "1", "--disc-start", "0",
                   "--disc-channels", "8", "--model-dir", model))
    _, large = model_dir.load(model, decoder="large")
    large_vqgan = large["vqgan"]
    assert large_vqgan.config == config.vqgan.large_decoder
    for part in ("encoder", "quantizer"):
        for a, b in zip(getattr(large_vqgan, part).weights,
                        getattr(frozen, part).weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert large_vqgan.decoder.count_params() > frozen.decoder.count_params()
