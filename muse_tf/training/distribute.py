"""The tf.distribute strategy a training script runs under.

`--strategy` names one of:
  * `tpu`: TPUStrategy on the TPU named by `--tpu` (a Cloud TPU name, or a
    `grpc://host:port` address; empty on a TPU VM). Fails fast with a
    ValueError when no TPU is reachable instead of hanging in connect.
  * `multi_worker`: MultiWorkerMirroredStrategy; the cluster comes from the
    TF_CONFIG environment variable of each worker process.
  * `mirrored`: MirroredStrategy over this machine's devices (every GPU,
    or the logical CPU devices made with `logical_cpus`).
  * `one_device`: OneDeviceStrategy on the first GPU, else the CPU.

A process gets one strategy of each kind: a second MirroredStrategy over the
same devices would restart the collective op keys at the same numbers, and
its all-reduces would be matched with the first one's (a "Shape mismatch in
the collective instance 100" error; tensorflow/tensorflow#62790).
"""

import functools
import socket
import urllib.parse

import tensorflow as tf

STRATEGIES = ("tpu", "multi_worker", "mirrored", "one_device")
_CONNECT_TIMEOUT_S = 10


def logical_cpus(count):
    """Splits the CPU into `count` logical devices (for MirroredStrategy on
    a CPU-only machine); must run before TensorFlow touches any device."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * count)


def _check_reachable(master):
    """Raises ValueError unless a grpc:// TPU address accepts connections."""
    address = urllib.parse.urlparse(master)
    if address.scheme != "grpc":
        return
    try:
        socket.create_connection((address.hostname, address.port),
                                 timeout=_CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise ValueError(f"no TPU reachable at {master}: {e}") from None


def tpu_strategy(tpu):
    """TPUStrategy on `tpu`, or ValueError naming why there is none."""
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        master = resolver.master()
    except (ValueError, OSError, RuntimeError) as e:  # No name, DNS, HTTP.
        raise ValueError(f"--strategy tpu: no TPU reachable (--tpu "
                         f"{tpu!r}): {type(e).__name__}: {e}") from None
    _check_reachable(master)
    try:
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise ValueError(f"--strategy tpu: could not initialise the TPU "
                         f"{tpu!r} at {master}: {e}") from None
    return tf.distribute.TPUStrategy(resolver)


@functools.cache
def make_strategy(name, tpu=None):
    """The strategy `name` (one of STRATEGIES), the same object on every
    call with the same arguments; ValueError for an unknown name."""
    if name == "tpu":
        return tpu_strategy(tpu)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        # MirroredStrategy() alone takes every GPU but only the first CPU
        # device; on a CPU-only machine, mirror over every logical CPU.
        devices = (tf.config.list_logical_devices("GPU")
                   or tf.config.list_logical_devices("CPU"))
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(
            gpus[0].name if gpus else "/cpu:0")
    raise ValueError(f"Unknown strategy {name!r}; expected one of "
                     f"{', '.join(STRATEGIES)}")
