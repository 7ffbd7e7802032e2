import os

import pytest
import tensorflow as tf

from muse_tf import cli


@pytest.mark.parametrize("argv", [[], ["generate"], ["inpaint"],
                                  ["outpaint"], ["edit"],
                                  ["export"],
                                  ["client"], ["train"], ["train", "vqgan"],
                                  ["train", "transformer"],
                                  ["prepare-data"], ["eval"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv + ["--help"])
    assert exit_info.value.code == 0
    assert "usage: muse-tf" in capsys.readouterr().out


def test_generate_writes_pngs(tiny_pipeline, tmp_path, capsys):
    model_dir = str(tmp_path / "model")
    tiny_pipeline.save(model_dir)
    out = str(tmp_path / "out")
    assert cli.main(["generate", "a ladybug", "a cat", "--model", model_dir,
                     "--output", out, "--num-steps", "2", "--scale", "2"]) == 0
    files = sorted(os.listdir(out))
    assert files == ["000_a-ladybug.png", "001_a-cat.png"]
    image = tf.io.decode_png(tf.io.read_file(os.path.join(out, files[0])))
    assert image.shape == (32, 32, 3)
    assert "wrote" in capsys.readouterr().out


def test_generate_reports_bad_input_as_an_error(tiny_pipeline, tmp_path,
                                                capsys):
    model_dir = str(tmp_path / "model")
    tiny_pipeline.save(model_dir)
    assert cli.main(["generate", "x", "--model", model_dir,
                     "--num-steps", "0"]) == 2
    assert "num_steps must be an integer >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_editing_commands_write_pngs(tiny_pipeline, tiny_cascade, tmp_path):
    """Inpainting on the tiny cascade (with its super-res flags), outpainting
    and editing on the tiny base model (each command compiles its own
    graph; a cascade's is about twice a base model's)."""
    import numpy as np
    models = {"base": tiny_pipeline, "cascade": tiny_cascade}
    for name, pipe in models.items():
        pipe.save(str(tmp_path / name))
        size = pipe.image_size
        tf.io.write_file(str(tmp_path / f"{name}.png"), tf.io.encode_png(
            np.full((size, size, 3), 200, np.uint8)))
        mask = np.zeros((size, size, 1), np.uint8)
        mask[:size // 4] = 255
        tf.io.write_file(str(tmp_path / f"{name}_mask.png"),
                         tf.io.encode_png(mask))

    def run(name, command, *flags):
        out = str(tmp_path / command[0])
        assert cli.main([command[0], str(tmp_path / f"{name}.png"),
                         *command[1:], "--model", str(tmp_path / name),
                         *flags, "--output", out]) == 0
        written = tf.io.decode_png(tf.io.read_file(
            os.path.join(out, "000_a-cat.png")))
        assert written.shape == (models[name].image_size,) * 2 + (3,)

    run("cascade", ["inpaint", str(tmp_path / "cascade_mask.png"), "a cat"],
        "--num-steps", "2", "--super-res-steps", "2")
    run("base", ["outpaint", "a cat", "--direction", "up"],
        "--num-steps", "2")
    run("base", ["edit", "a cat"], "--iterations", "2")


def test_inpaint_reports_an_empty_mask_as_an_error(tiny_cascade, tmp_path,
                                                   capsys):
    import numpy as np
    model_dir = str(tmp_path / "model")
    tiny_cascade.save(model_dir)
    tf.io.write_file(str(tmp_path / "in.png"),
                     tf.io.encode_png(np.zeros((32, 32, 3), np.uint8)))
    assert cli.main(["inpaint", str(tmp_path / "in.png"),
                     str(tmp_path / "in.png"), "a cat", "--model",
                     model_dir]) == 2
    assert "mask is empty" in capsys.readouterr().err


@pytest.mark.slow
def test_every_verb_takes_class_names_or_ids_for_a_class_model(tmp_path,
                                                               capsys):
    import numpy as np

    from muse_tf.pipeline import MusePipeline
    from muse_tf.presets import get_config

    model_dir = str(tmp_path / "model")
    MusePipeline(get_config("tiny_class")).save(model_dir)
    out = str(tmp_path / "out")
    assert cli.main(["generate", "sneaker", "9", "T-shirt/top",
                     "--negative-prompt", "sandal", "--model", model_dir,
                     "--output", out]) == 0
    assert sorted(os.listdir(out)) == [
        "000_sneaker.png", "001_ankle-boot.png", "002_t-shirt-top.png"]

    image = np.full((32, 32, 3), 90, np.uint8)
    mask = np.zeros((32, 32, 1), np.uint8)
    mask[16:] = 255
    tf.io.write_file(str(tmp_path / "in.png"), tf.io.encode_png(image))
    tf.io.write_file(str(tmp_path / "mask.png"), tf.io.encode_png(mask))
    for verb in (["inpaint", str(tmp_path / "in.png"),
                  str(tmp_path / "mask.png"), "bag"],
                 ["outpaint", str(tmp_path / "in.png"), "bag"],
                 ["edit", str(tmp_path / "in.png"), "bag", "--iterations",
                  "2"]):
        edited = str(tmp_path / verb[0])
        assert cli.main([*verb, "--model", model_dir, "--output", edited,
                         "--scale", "2"]) == 0
        written = tf.io.decode_png(tf.io.read_file(
            os.path.join(edited, "000_bag.png")))
        assert written.shape == (64, 64, 3)

    capsys.readouterr()
    for bad, message in ((["hat"], "unknown class 'hat'; the classes are 0"),
                         (["10"], "unknown class '10'"),
                         (["bag", "--super-res-steps", "2"],
                          "no stage with ['super_res_steps']")):
        assert cli.main(["generate", *bad, "--model", model_dir]) == 2
        assert message in capsys.readouterr().err



def test_eval_of_a_model_without_a_large_decoder_asked_for_one_is_an_error(
        capsys):
    assert cli.main(["eval", "--model", "fashion_32", "--decoder",
                     "large"]) == 2
    assert "has no large decoder for its last VQGAN (vqgan)" in (
        capsys.readouterr().err)


# Quiet start-up (muse_tf/logs.py): TensorFlow's C++ log shows only with
# --verbose. It is written on TensorFlow's first import, so the commands
# run in processes of their own.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_quietly_or_not(command, tmp_path):
    import subprocess
    import sys

    from muse_tf import logs

    env = {k: v for k, v in os.environ.items()
           if k != logs.LEVEL_VARIABLE}  # The user's level would win.
    env["PYTHONPATH"] = _ROOT
    return subprocess.run([sys.executable, *command], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600,
                          check=False)


def test_verbose_goes_before_or_after_the_command():
    parser = cli.build_parser()
    assert not parser.parse_args(["export", "a", "b"]).verbose
    assert parser.parse_args(["--verbose", "export", "a", "b"]).verbose
    assert parser.parse_args(["export", "a", "b", "--verbose"]).verbose


def test_the_start_up_log_filter_keeps_all_but_cpp_lines_below_the_level():
    from muse_tf import logs

    lines = [
        (b"WARNING: All log messages before absl::InitializeLog() is called "
         b"are written to STDERR\n"),
        (b"I0000 00:00:1796588137.696623   14935 port.cc:153] oneDNN custom "
         b"operations are on.\n"),
        b"W0000 00:00:1796588137.697025   14935 a_file.cc:31] a warning\n",
        (b"E0000 00:00:1796588141.555447   14935 cuda_platform.cc:52] failed "
         b"call to cuInit\n"),
        b"F0911 10:12:13.123456 14935 check.cc:1] Check failed\n",
        b"/x.py:3: DeprecationWarning: a Python warning\n",
        b"  import thing\n"]
    data = b"".join(lines)
    assert logs.filter_start_up_log(data, 3) == b"".join(lines[4:])
    assert logs.filter_start_up_log(data, 2) == b"".join(lines[3:])
    assert logs.filter_start_up_log(data, 0) == data


def test_a_command_prints_no_tensorflow_log_unless_verbose(tmp_path):
    import re

    missing = str(tmp_path / "none")
    command = ["-m", "muse_tf.cli", "train", "ema", missing,
               str(tmp_path / "out")]
    quiet = _run_quietly_or_not(command, tmp_path)
    assert quiet.returncode == 2
    assert quiet.stderr == (f"muse-tf train: error: No checkpoints in "
                            f"{missing!r}\n")

    verbose = _run_quietly_or_not(command + ["--verbose"], tmp_path)
    assert verbose.returncode == 1  # The error's traceback, not one line.
    assert re.search(r"^[IWE]\d{4} .*\] ", verbose.stderr, re.MULTILINE)
    assert verbose.stderr.rstrip().endswith(
        f"ValueError: No checkpoints in {missing!r}")


def test_a_training_job_prints_no_tensorflow_log_and_errors_in_a_line(
        tmp_path):
    result = _run_quietly_or_not(
        ["-m", "muse_tf.cli", "train", "vqgan", "--preset",
         "fashion_32", "--workdir", str(tmp_path / "run"), "--data",
         "fashion_mnist:test[:x]"], tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "muse-tf train: error: data 'fashion_mnist:test[:x]': bad slice "
        "[:x]: expected [START:STOP] with at least one bound, each an "
        "example count or a percentage (e.g. [:2048], [10%:])\n")
