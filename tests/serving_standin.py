"""A stand-in for TF Serving's model server, for the client tests.

TF Serving's binary cannot be installed from the registries this machine
reaches, so the tests run the client against this STAND-IN: it serves an
exported SavedModel through the official tensorflow-serving-api protos —
gRPC `PredictionService.Predict` and `GetModelMetadata`, the REST predict
and metadata APIs — the way the model server does: signature chosen by name, missing inputs filled from the
SignatureDef defaults, `InvalidArgument` from the model's checks returned as
INVALID_ARGUMENT (gRPC) or HTTP 400 `{"error": ...}` (REST). It listens on
127.0.0.1 only, with a small worker pool and bounded message sizes.
"""

import base64
import concurrent.futures
import http.server
import json
import threading

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.python.saved_model import loader_impl
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from muse_tf.saved_pipeline import SavedPipeline, signature_defaults

_MAX_REQUEST_BYTES = 4 * 1024 * 1024


class _Model:
    """The SavedModel's signatures with TF Serving's input handling."""

    def __init__(self, path, name):
        self.name = name
        self.signatures = SavedPipeline(path).module.signatures
        self.defaults = {sig: signature_defaults(path, sig)
                         for sig in self.signatures}
        self.signature_defs = get_model_metadata_pb2.SignatureDefMap()
        for key, signature in loader_impl.parse_saved_model(
                path).meta_graphs[0].signature_def.items():
            self.signature_defs.signature_def[key].CopyFrom(signature)

    def metadata(self, model_name):
        """The SignatureDefMap; LookupError for another model name."""
        if model_name != self.name:
            raise LookupError(f"Servable not found for request: Latest("
                              f"{model_name})")
        return self.signature_defs

    def run(self, model_name, signature, inputs):
        """{name: numpy} -> {name: numpy}; raises LookupError or
        tf.errors.InvalidArgumentError like the model server would."""
        if model_name != self.name:
            raise LookupError(f"Servable not found for request: {model_name}")
        signature = signature or "serving_default"
        if signature not in self.signatures:
            raise LookupError(f"Serving signature name: {signature!r} not "
                              f"found in signature def")
        function = self.signatures[signature]
        specs = function.structured_input_signature[1]
        unknown = set(inputs) - set(specs)
        if unknown:
            raise tf.errors.InvalidArgumentError(
                None, None, f"unknown inputs {sorted(unknown)}")
        feed = dict(self.defaults[signature])
        feed.update(inputs)
        missing = set(specs) - set(feed)
        if missing:
            raise tf.errors.InvalidArgumentError(
                None, None, f"missing inputs {sorted(missing)}")
        tensors = {}
        for name, value in feed.items():
            dtype = specs[name].dtype
            tensors[name] = tf.constant(np.asarray(
                value, dtype=object if dtype == tf.string else None), dtype)
        return {name: value.numpy()
                for name, value in function(**tensors).items()}


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):

    def __init__(self, model):
        self.model = model

    def Predict(self, request, context):
        try:
            outputs = self.model.run(
                request.model_spec.name, request.model_spec.signature_name,
                {name: tf.make_ndarray(proto)
                 for name, proto in request.inputs.items()})
        except LookupError as e:
            context.abort(grpc.StatusCode.NOT_FOUND, str(e))
        except tf.errors.InvalidArgumentError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, e.message)
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response

    def GetModelMetadata(self, request, context):
        try:
            signatures = self.model.metadata(request.model_spec.name)
        except LookupError as e:
            context.abort(grpc.StatusCode.NOT_FOUND, str(e))
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.CopyFrom(request.model_spec)
        response.metadata["signature_def"].Pack(signatures)
        return response


def start_grpc(path, model_name="muse"):
    """(server, 'HOST:PORT') serving `path` over gRPC on 127.0.0.1."""
    server = grpc.server(
        concurrent.futures.ThreadPoolExecutor(max_workers=2),
        options=[("grpc.max_receive_message_length", _MAX_REQUEST_BYTES)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        _PredictionService(_Model(path, model_name)), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


def _json_outputs(outputs):
    def encode(name, value):
        if name.endswith("_bytes"):
            return [{"b64": base64.b64encode(v).decode()}
                    for v in value.tolist()]
        if value.dtype == object:
            return [v.decode() for v in value.tolist()]
        return value.tolist()
    return {name: encode(name, value) for name, value in outputs.items()}


def start_rest(path, model_name="muse"):
    """(server, 'HOST:PORT') serving `path`'s REST predict API on
    127.0.0.1; stop it with `server.shutdown()`."""
    model = _Model(path, model_name)
    prefix, suffix = "/v1/models/", ":predict"

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            if length > _MAX_REQUEST_BYTES:
                return self._reply(413, {"error": "request too large"})
            if not (self.path.startswith(prefix)
                    and self.path.endswith(suffix)):
                return self._reply(404, {"error": f"no route {self.path}"})
            try:
                body = json.loads(self.rfile.read(length))
                outputs = model.run(self.path[len(prefix):-len(suffix)],
                                    body.get("signature_name"),
                                    body["inputs"])
            except LookupError as e:
                return self._reply(404, {"error": str(e)})
            except tf.errors.InvalidArgumentError as e:
                return self._reply(400, {"error": e.message})
            except (KeyError, ValueError) as e:
                return self._reply(400, {"error": f"malformed request: {e}"})
            return self._reply(200, {"outputs": _json_outputs(outputs)})

        def do_GET(self):
            name = self.path[len(prefix):].removesuffix("/metadata")
            if not (self.path.startswith(prefix)
                    and self.path.endswith("/metadata")):
                return self._reply(404, {"error": f"no route {self.path}"})
            try:
                signatures = model.metadata(name)
            except LookupError as e:
                return self._reply(404, {"error": str(e)})
            return self._reply(200, {
                "model_spec": {"name": name},
                "metadata": {"signature_def": json_format.MessageToDict(
                    signatures, preserving_proto_field_name=True)}})

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"
