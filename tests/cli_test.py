import os

import pytest
import tensorflow as tf

from muse_tf import cli


@pytest.mark.parametrize("argv", [["--help"], ["generate", "--help"],
                                  ["export", "--help"], ["client", "--help"],
                                  ["ema", "--help"], ["prepare-data", "--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
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
    assert "num_steps must be a positive integer" in capsys.readouterr().err
