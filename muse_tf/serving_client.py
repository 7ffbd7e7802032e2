"""Clients for an exported Muse model served by TF Serving.

Two transports, one interface (`predict(signature, inputs) -> outputs`):

  * `GrpcClient`: the `PredictionService.Predict` RPC with the official
    tensorflow-serving-api protos (TF Serving's `--port`, 8500 by default).
  * `RestClient`: the REST predict API, `POST /v1/models/NAME:predict` with
    columnar `inputs` (TF Serving's `--rest_api_port`, 8501 by default).
    Outputs whose name ends in `_bytes` come back base64-encoded as
    `{"b64": ...}`, which is why the signature's PNG output is `image_bytes`.

Both also read a served signature's input names from the model's metadata
(`GetModelMetadata`; REST `GET /v1/models/NAME/metadata`), which is how
`generate_png` tells a text model (`prompt`) from a class-conditional one
(`class_id`). Inputs left out of a request take the defaults recorded in
the exported SignatureDef (seed 0, the model's guidance scale and step
count). A request the model rejects (an `InvalidArgument` from its
`tf.debugging` checks) becomes a `ValueError` carrying the server's
message.
"""

import base64
import json
import urllib.error
import urllib.request

import numpy as np

_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def _class_ids(values):
    """Class ids (ints, or strings of ints) as int32; ValueError else: a
    served model's class names stay inside it."""
    try:
        return np.array([int(v) for v in values], np.int32)
    except ValueError:
        raise ValueError(f"the served model is class-conditional: give "
                         f"class ids, not {list(values)}") from None


def generation_inputs(prompts, negative_prompts=None, seed=None,
                      guidance_scale=None, num_steps=None, condition="prompt"):
    """The `serving_default` / `generate_tokens` inputs that were given.
    `condition`: the model's condition input, `prompt` (text) or
    `class_id` (class ids go where prompts go)."""
    if isinstance(prompts, (str, int)):
        prompts = [prompts]
    if condition == "class_id":
        inputs = {"class_id": _class_ids(prompts)}
        if negative_prompts is not None:
            inputs["negative_class_id"] = _class_ids(negative_prompts)
    else:
        inputs = {"prompt": np.array(prompts, dtype=object)}
        if negative_prompts is not None:
            inputs["negative_prompt"] = np.array(negative_prompts,
                                                 dtype=object)
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

    def _call(self, method, request):
        """The RPC's response; ValueError if the server rejected it."""
        import grpc

        try:
            return getattr(self._stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as e:
            if e.code() in (grpc.StatusCode.INVALID_ARGUMENT,
                            grpc.StatusCode.NOT_FOUND,
                            grpc.StatusCode.FAILED_PRECONDITION):
                raise ValueError(f"server rejected the request: "
                                 f"{e.details()}") from None
            raise

    def predict(self, signature, inputs):
        """{input: numpy} -> {output: numpy}; ValueError if rejected."""
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model_name
        request.model_spec.signature_name = signature
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
        response = self._call("Predict", request)
        return {name: tf.make_ndarray(proto)
                for name, proto in response.outputs.items()}

    def input_names(self, signature):
        """The input names of a served signature."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest()
        request.model_spec.name = self.model_name
        request.metadata_field.append("signature_def")
        response = self._call("GetModelMetadata", request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signatures)
        return set(signatures.signature_def[signature].inputs)

    def close(self):
        self._channel.close()


class RestClient:
    """TF Serving's REST predict API."""

    def __init__(self, server, model_name="muse", timeout=300.0):
        if "://" not in server:
            server = "http://" + server
        self.url = f"{server.rstrip('/')}/v1/models/{model_name}"
        self.timeout = timeout

    def _request(self, url, body=None):
        """The JSON reply to a GET (or, with a body, a POST); ValueError if
        the server rejected it."""
        request = urllib.request.Request(
            url, data=body and json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request,
                                        timeout=self.timeout) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500:
                message = json.loads(e.read() or b"{}").get("error", e.reason)
                raise ValueError(
                    f"server rejected the request: {message}") from None
            raise

    def predict(self, signature, inputs):
        """{input: numpy} -> {output: numpy}; ValueError if rejected."""
        outputs = self._request(self.url + ":predict", {
            "signature_name": signature,
            "inputs": {name: _to_json(value)
                       for name, value in inputs.items()}})["outputs"]
        if not isinstance(outputs, dict):  # A single-output signature.
            outputs = {"output": outputs}
        return {name: _from_json(value) for name, value in outputs.items()}

    def input_names(self, signature):
        """The input names of a served signature."""
        metadata = self._request(self.url + "/metadata")["metadata"]
        return set(metadata["signature_def"]["signature_def"][signature]
                   ["inputs"])

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
    """PNG bytes, one per prompt (for a class-conditional model, per class
    id), from a served model's serving_default."""
    condition = ("class_id" if "class_id" in client.input_names(
        "serving_default") else "prompt")
    outputs = client.predict("serving_default", generation_inputs(
        prompts, negative_prompts, seed, guidance_scale, num_steps,
        condition))
    return list(outputs["image_bytes"])
