"""`muse-tf client` against a loopback STAND-IN for TF Serving.

The stand-in (tests/serving_standin.py) serves the exported tiny model with
the official tensorflow-serving-api protos on 127.0.0.1; see its docstring
for why the real model server cannot run here.
"""

import os

import pytest
import serving_standin

from muse_tf import cli, serving_client


@pytest.fixture(scope="module")
def grpc_server(exported_tiny):
    server, address = serving_standin.start_grpc(exported_tiny)
    yield address
    server.stop(grace=None)


@pytest.fixture(scope="module")
def rest_server(exported_tiny):
    server, address = serving_standin.start_rest(exported_tiny)
    yield address
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def local_pngs(loaded_tiny):
    """What the SavedModel gives in this process, for the same request."""
    return loaded_tiny.png_bytes(
        ["a ladybug", "a cat"], seed=5, num_steps=3)


@pytest.mark.parametrize("rest", [False, True], ids=["grpc", "rest"])
def test_served_pngs_match_the_savedmodel_byte_for_byte(
        rest, grpc_server, rest_server, local_pngs):
    client = serving_client.connect(rest_server if rest else grpc_server,
                                     rest=rest, timeout=120)
    pngs = serving_client.generate_png(client, ["a ladybug", "a cat"],
                                       seed=5, num_steps=3)
    assert pngs == local_pngs


@pytest.mark.parametrize("rest", [False, True], ids=["grpc", "rest"])
@pytest.mark.parametrize("request_args, message", [
    ({"prompts": []}, "prompt batch is empty"),
    ({"num_steps": 0}, "num_steps must be an integer >= 1 and <= 8"),
    ({"num_steps": 99}, "num_steps must be an integer >= 1 and <= 8"),
    ({"guidance_scale": float("nan")},
     "guidance_scale must be a finite number >= 0"),
    ({"guidance_scale": -2.0}, "guidance_scale must be a finite number >= 0"),
    ({"prompts": ["a"] * 5}, "prompt batch is larger than 4"),
])
def test_bad_requests_are_rejected_and_the_server_keeps_serving(
        rest, request_args, message, grpc_server, rest_server):
    client = serving_client.connect(rest_server if rest else grpc_server,
                                    rest=rest, timeout=120)
    args = {"prompts": ["a cat"], "seed": 1, "num_steps": 2}
    args.update(request_args)
    with pytest.raises(ValueError, match=message):
        serving_client.generate_png(client, **args)
    assert len(serving_client.generate_png(client, ["a cat"], seed=1,
                                           num_steps=2)) == 1


def test_unknown_model_name_is_a_clear_error(grpc_server):
    client = serving_client.connect(grpc_server, model_name="nope",
                                    timeout=60)
    with pytest.raises(ValueError, match="nope"):
        serving_client.generate_png(client, ["a cat"])


def test_cli_client_writes_the_served_pngs(grpc_server, tmp_path,
                                           local_pngs):
    out = tmp_path / "out"
    assert cli.main(["client", "--server", grpc_server, "--output", str(out),
                     "--seed", "5", "--num-steps", "3", "a ladybug",
                     "a cat"]) == 0
    files = sorted(os.listdir(out))
    assert files == ["000_a-ladybug.png", "001_a-cat.png"]
    assert [(out / f).read_bytes() for f in files] == local_pngs


def test_cli_client_reports_a_rejected_request(grpc_server, tmp_path,
                                               capsys):
    assert cli.main(["client", "--server", grpc_server, "--output",
                     str(tmp_path), "--num-steps", "0", "a cat"]) == 2
    assert "num_steps must be an integer >= 1" in capsys.readouterr().err
