"""Clients for an exported Muse model served by TF Serving.

Two transports, one interface (`predict(signature, inputs) -> outputs`):

  * `GrpcClient`: the `PredictionService.Predict` RPC with the official
    tensorflow-serving-api protos (TF Serving's `--port`, 8500 by default).
  * `RestClient`: the REST predict API, `POST /v1/models/NAME:predict` with
    columnar `inputs` (TF Serving's `--rest_api_port`, 8501 by default).
    Outputs whose name ends in `_bytes` come back base64-encoded as
    `{"b64": ...}`, which is why the signature's PNG output is `image_bytes`.

Inputs left out of a request take the defaults recorded in the exported
SignatureDef (seed 0, the model's guidance scale and step count). A request
the model rejects (an `InvalidArgument` from its `tf.debugging` checks)
becomes a `ValueError` carrying the server's message.
"""

import base64
import json
import urllib.error
import urllib.request

import numpy as np

_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def generation_inputs(prompts, negative_prompts=None, seed=None,
                      guidance_scale=None, num_steps=None):
    """The `serving_default` / `generate_tokens` inputs that were given."""
    if isinstance(prompts, str):
        prompts = [prompts]
    inputs = {"prompt": np.array(prompts, dtype=object)}
    if negative_prompts is not None:
        inputs["negative_prompt"] = np.array(negative_prompts, dtype=object)
    if seed is not None:
        inputs["seed"] = np.array(seed, np.int64)
    if guidance_scale is not None:
        inputs["guidance_scale"] = np.array(guidance_scale, np.float32)
    if num_steps is not None:
        inputs["num_steps"] = np.array(num_steps, np.int32)
    return inputs


class GrpcClient:
    """TF Serving's gRPC PredictionService."""

    def __init__(self, server, model_name="muse", timeout=300.0):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.model_name = model_name
        self.timeout = timeout
        self._channel = grpc.insecure_channel(server, options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES)])
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(
            self._channel)

    def predict(self, signature, inputs):
        """{input: numpy} -> {output: numpy}; ValueError if rejected."""
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model_name
        request.model_spec.signature_name = signature
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
        try:
            response = self._stub.Predict(request, timeout=self.timeout)
        except grpc.RpcError as e:
            if e.code() in (grpc.StatusCode.INVALID_ARGUMENT,
                            grpc.StatusCode.NOT_FOUND,
                            grpc.StatusCode.FAILED_PRECONDITION):
                raise ValueError(f"server rejected the request: "
                                 f"{e.details()}") from None
            raise
        return {name: tf.make_ndarray(proto)
                for name, proto in response.outputs.items()}

    def close(self):
        self._channel.close()


class RestClient:
    """TF Serving's REST predict API."""

    def __init__(self, server, model_name="muse", timeout=300.0):
        if "://" not in server:
            server = "http://" + server
        self.url = f"{server.rstrip('/')}/v1/models/{model_name}:predict"
        self.timeout = timeout

    def predict(self, signature, inputs):
        """{input: numpy} -> {output: numpy}; ValueError if rejected."""
        body = json.dumps({
            "signature_name": signature,
            "inputs": {name: _to_json(value)
                       for name, value in inputs.items()}}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request,
                                        timeout=self.timeout) as reply:
                outputs = json.loads(reply.read())["outputs"]
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500:
                message = json.loads(e.read() or b"{}").get("error", e.reason)
                raise ValueError(
                    f"server rejected the request: {message}") from None
            raise
        if not isinstance(outputs, dict):  # A single-output signature.
            outputs = {"output": outputs}
        return {name: _from_json(value) for name, value in outputs.items()}

    def close(self):
        pass


def _to_json(value):
    if value.dtype == object:
        return [v.decode() if isinstance(v, bytes) else v
                for v in value.tolist()]
    return value.tolist()


def _from_json(value):
    if (isinstance(value, list) and value and isinstance(value[0], dict)
            and "b64" in value[0]):
        return np.array([base64.b64decode(v["b64"]) for v in value],
                        dtype=object)
    return np.array(value)


def connect(server, rest=False, model_name="muse", timeout=300.0):
    """A `GrpcClient` (default) or `RestClient` for HOST:PORT."""
    cls = RestClient if rest else GrpcClient
    return cls(server, model_name=model_name, timeout=timeout)


def generate_png(client, prompts, negative_prompts=None, seed=None,
                 guidance_scale=None, num_steps=None):
    """PNG bytes, one per prompt, from a served model's serving_default."""
    outputs = client.predict("serving_default", generation_inputs(
        prompts, negative_prompts, seed, guidance_scale, num_steps))
    return list(outputs["image_bytes"])
