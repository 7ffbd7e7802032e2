"""The number format the models compute in: `fp32`, `bf16`, or `auto`.

bf16 halves a matmul's cost only where the hardware multiplies bf16
natively: TPUs, GPUs, and x86 CPUs with AVX512-BF16 or AMX (there
oneDNN's bf16 matmul runs at twice its fp32 rate; benchmarks/README.md).
Elsewhere oneDNN emulates it, 4 to 6 times slower than fp32. So `auto`,
every verb's default, picks bf16 only where it pays (docs/design.md §11).

bf16 is Keras' `mixed_bfloat16`: weights stay float32 and the layers
compute in bfloat16. One set of float32 weights thus serves both
precisions: a checkpoint, a model directory or a SavedModel is the same
either way, and a SavedModel exported in bf16 carries float32 twins of its
signatures for machines without bf16 (`export.py`). The sampler's softmax
and ranking stay float32 (`sampling/sampler.py`).

On a CPU, bf16 runs as a TensorFlow graph rather than XLA: XLA's CPU
backend multiplies bf16 at its fp32 rate, while the graph's ops call
oneDNN's native bf16 kernels (and grappler fuses matmul, bias and
activation into one of them, `layers/dense.py`).
"""

import contextlib
import dataclasses
import functools

PRECISIONS = ("auto", "fp32", "bf16")
_POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16"}
_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_bf16_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU flags of `cpuinfo` that multiply bf16 natively (empty where
    there are none, or no such file: not Linux)."""
    try:
        with open(cpuinfo, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return ()
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return tuple(flag for flag in _BF16_CPU_FLAGS if flag in flags)


def accelerators(device_types=None):
    """The accelerator kinds among `device_types` (default: this process's
    logical devices), e.g. ("TPU",)."""
    if device_types is None:
        # Imported here: the CLI's parser reads PRECISIONS without the
        # seconds TensorFlow's import costs.
        import tensorflow as tf

        device_types = {d.device_type
                        for d in tf.config.list_logical_devices()}
    return tuple(sorted(set(device_types) & {"GPU", "TPU"}))


@dataclasses.dataclass(frozen=True)
class Choice:
    """A resolved precision (`fp32` or `bf16`), why, and how it runs."""

    name: str
    reason: str
    xla: bool

    @property
    def dtype_policy(self):
        """The Keras dtype policy the layers compute under."""
        return _POLICIES[self.name]

    def __str__(self):
        return f"precision {self.name} ({self.reason})"


def choose(precision="auto", device_types=None, cpuinfo="/proc/cpuinfo"):
    """The Choice for `precision` ("auto", "fp32" or "bf16") on this
    machine (or on `device_types`, e.g. a strategy's workers'). bf16 on a
    CPU alone runs as a graph (oneDNN), every other case under XLA."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, "
                         f"not {precision!r}")
    found = accelerators(device_types)
    if precision == "auto":
        flags = cpu_bf16_flags(cpuinfo)
        if found:
            name, reason = "bf16", f"auto: {'/'.join(found)} present"
        elif flags:
            name, reason = "bf16", f"auto: this CPU has {'/'.join(flags)}"
        else:
            name, reason = "fp32", ("auto: this CPU has no AVX512-BF16 or "
                                    "AMX")
    else:
        name, reason = precision, "asked for"
    return Choice(name, reason, xla=name == "fp32" or bool(found))


@contextlib.contextmanager
def computing_in(models, choice):
    """Within this block, every layer of `models` computes in `choice`'s
    precision (its weights untouched): functions traced here are that
    precision's. Restores the layers' own policies after.

    In bf16, the weights the layers read as bf16 are cast once, on
    entry, and read from those casts (a Keras StatelessScope): in a
    function traced here, a decoding loop then casts them once per call
    instead of at every step (the peers' MEDIUM config, 43 M weights: 6.47
    -> 5.89 s a generation). For inference only: within the scope, Keras
    records variable assignments instead of making them."""
    import keras

    layers = {}
    for model in models:
        for layer in model._flatten_layers(include_self=True):
            layers.setdefault(id(layer), layer)
    saved = [(layer, layer.dtype_policy) for layer in layers.values()]
    try:
        for layer, _ in saved:
            layer.dtype_policy = choice.dtype_policy
        with keras.StatelessScope() as cast_once:
            for variable, dtype in _read_in_compute_dtype(layers.values()):
                cast_once.add_update(
                    (variable, keras.ops.cast(variable.value, dtype)))
            yield
    finally:
        for layer, policy in saved:
            layer.dtype_policy = policy


def function_in(graph_function, models, choice):
    """`graph_function` as a tf.function of `choice`: XLA-compiled unless
    bf16 on a CPU, its body traced with `models` computing in that
    precision (the switch, and in bf16 the weights' casts, run where the
    function traces and begins, not around every call)."""
    import tensorflow as tf

    @functools.wraps(graph_function)
    def traced(*args, **kwargs):
        with computing_in(models, choice):
            return graph_function(*args, **kwargs)
    return tf.function(traced, jit_compile=choice.xla)


def _read_in_compute_dtype(layers):
    """(weight, dtype) for each float32 weight of `layers` that Keras casts
    to its own layer's compute dtype when the layer reads it (not, e.g., a
    normalisation's scale, which Keras keeps float32)."""
    for layer in layers:
        if not layer.autocast or layer.compute_dtype == "float32":
            continue
        for variable in (layer._trainable_variables
                         + layer._non_trainable_variables):
            if variable._autocast and variable.dtype == "float32":
                yield variable, layer.compute_dtype


@contextlib.contextmanager
def building_in(choice):
    """Models built within this block compute in `choice`'s precision
    (training builds its trainer here, and its frozen encoders outside,
    so their outputs do not depend on the run's precision)."""
    import keras

    saved = keras.config.dtype_policy()
    keras.config.set_dtype_policy(choice.dtype_policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(saved)
