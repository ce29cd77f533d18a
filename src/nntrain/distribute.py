"""Where to train: a TPU, else every GPU, else the CPU, and the one scope to build in.

:func:`strategy` picks the fastest hardware present and says in one line what it picked::

    st = nt.distribute.strategy()       # nntrain.distribute: TPU, 1 replica (jax, one device)
    data = st.trim(data)                 # every batch splits evenly across the replicas
    with st.scope():                     # build, compile and fit inside the scope
        model = nt.models.mlp(data.input_shape)
        run = nt.train(model, data, batch_size=st.scale_batch_size(cfg.batch_size))

How each backend distributes (data parallelism: every replica holds the whole model and
takes :math:`1/r` of each batch; the replicas' gradients are averaged):

* TPU: Colab's TPU runtime is now one chip (a v5e-1), which JAX shows as one device and which
  needs no distribution; where there are several chips (a Cloud TPU VM such as a v5e-8),
  Keras's own ``keras.distribution.DataParallel`` over them under JAX, and under TensorFlow
  ``TPUStrategy`` on ``TPUClusterResolver(tpu="local")``;
* GPUs: ``MirroredStrategy`` (TensorFlow) or ``DataParallel`` (JAX) over all of them;
* CPU: the same over the logical CPU devices when there are several (how it is tested).

One device needs no distribution at all: Keras places everything on it. TensorFlow's TPU
route fails often (Colab's TPU runtimes no longer ship TensorFlow); Keras's JAX backend is
the dependable one. Every failed step of a TPU (or GPU) set-up falls back to the next
hardware and says which step failed and why; :func:`strategy` never raises for hardware.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass

import keras

from . import _checks
from .data import Dataset

__all__ = ["KINDS", "Strategy", "accelerator", "strategy"]

KINDS: tuple[str, ...] = ("auto", "tpu", "gpu", "cpu")
_FASTEST_FIRST = ("tpu", "gpu", "cpu")
# Environment variables set on Cloud TPU VMs and Colab's TPU runtimes.
_TPU_VARIABLES = ("TPU_NAME", "TPU_ACCELERATOR_TYPE", "COLAB_TPU_ADDR")
_JAX_HINT = "the JAX backend is the dependable route on TPUs: set KERAS_BACKEND=jax before Keras is imported"
_MESSAGE_CHARS = 200  # how much of an error's first line a fallback message quotes


@dataclass(frozen=True)
class Strategy:
    """The hardware a run trains on, its replicas, and the scope to build the model in.

    The global batch of :math:`r` replicas, each taking a per-replica batch of :math:`b`
    examples, is :math:`B = r b`, and the update uses the mean of the replicas' gradients,

    .. math::

        g = \\frac{1}{r} \\sum_{k=1}^{r} g_k = \\frac{1}{B} \\sum_{i=1}^{B} \\nabla_\\theta \\ell_i,

    the same gradient one device computes on the whole batch of :math:`B` examples.

    Attributes:
        kind: ``"tpu"``, ``"gpu"`` or ``"cpu"``.
        backend: the Keras backend, ``"tensorflow"`` or ``"jax"``.
        devices: the replicas' devices, e.g. ``("cpu:0", "cpu:1")``.
        native: the backend's object (a ``tf.distribute.Strategy`` or a
            ``keras.distribution.DataParallel``), ``None`` on one device.
        fallbacks: why faster hardware was passed over, one message each.
    """

    kind: str
    backend: str
    devices: tuple[str, ...]
    native: object = None
    fallbacks: tuple[str, ...] = ()

    @property
    def num_replicas(self) -> int:
        """:math:`r`, the number of replicas (devices) that share each batch."""
        return len(self.devices)

    def scope(self) -> contextlib.AbstractContextManager:
        """The context to build, compile and fit the model in (a no-op on one device).

        Under TensorFlow the model's variables are mirrored on every replica when they are
        created inside the scope; under JAX the scope also shards each batch during ``fit``,
        so keep ``fit`` (and :func:`nntrain.train`) inside it too.
        """
        return contextlib.nullcontext() if self.native is None else self.native.scope()

    def scale_batch_size(self, batch_size: int) -> int:
        """The global batch size :math:`B = r b` for a per-replica batch size :math:`b`.

        Args:
            batch_size: :math:`b`, the examples each replica takes per step.

        Returns:
            :math:`r b`.

        Example:
            >>> strategy(verbose=False).scale_batch_size(64)  # one CPU
            64
        """
        return _checks.integer("batch_size", batch_size, minimum=1) * self.num_replicas

    def trim(self, data: Dataset) -> Dataset:
        """``data`` with each split cut to a multiple of :math:`r` examples.

        With :math:`B = r b` and a split of :math:`n` examples, the last batch holds
        :math:`n \\bmod B` examples; when :math:`r` divides :math:`n` it splits evenly across
        the replicas. JAX refuses a batch that does not split evenly, and TensorFlow's
        ``MirroredStrategy`` weights the examples of an uneven one unequally, so trim first.
        At most :math:`r - 1` examples of each split are dropped; one device drops nothing.

        Args:
            data: a :class:`~nntrain.data.Dataset`.

        Returns:
            A :class:`~nntrain.data.Dataset` (``data`` itself on one device).
        """
        if not isinstance(data, Dataset):
            raise ValueError(
                f"`data` must be an nntrain Dataset (see nntrain.data.load). Received: data={data!r}"
            )
        r = self.num_replicas
        if r == 1:
            return data
        cut = {}
        for split in ("train", "val", "test"):
            for name in (f"x_{split}", f"y_{split}"):
                array = getattr(data, name)
                cut[name] = array[: len(array) - len(array) % r]
        dropped = sum(len(getattr(data, name)) - len(array) for name, array in cut.items()) // 2
        note = f"trimmed to multiples of {r} examples for {r} replicas ({dropped} dropped)"
        return dataclasses.replace(data, **cut, notes=(*data.notes, note))

    def __str__(self) -> str:
        replicas = f"{self.num_replicas} replica{'s' if self.num_replicas > 1 else ''}"
        how = type(self.native).__name__ if self.native is not None else "one device"
        line = f"nntrain.distribute: {self.kind.upper()}, {replicas} ({self.backend}, {how})"
        return line + "".join(f"; {message}" for message in self.fallbacks)


def accelerator() -> str:
    """The fastest kind of hardware present: ``"tpu"``, ``"gpu"`` or ``"cpu"``.

    A TPU counts as present when the machine says so (TPU device files ``/dev/accel*`` or
    ``/dev/vfio/<n>``, or the variables ``TPU_NAME``, ``TPU_ACCELERATOR_TYPE``,
    ``COLAB_TPU_ADDR``) or when JAX's default devices are TPUs: TensorFlow cannot see a
    TPU before it has been initialized. GPUs are the backend's own devices.

    Returns:
        ``"tpu"``, ``"gpu"`` or ``"cpu"``.

    Example:
        >>> accelerator()  # on a laptop
        'cpu'
    """
    if _tpu_hint():
        return "tpu"
    try:
        devices = keras.distribution.list_devices()
    except Exception:  # a backend that cannot list its devices has at least a CPU
        return "cpu"
    kind = devices[0].split(":")[0].lower() if devices else "cpu"
    return kind if kind in ("tpu", "gpu") else "cpu"


def strategy(kind: str = "auto", verbose: bool = True) -> Strategy:
    """Pick the hardware to train on and report the choice in one line.

    ``"auto"`` tries the fastest hardware :func:`accelerator` finds, then falls back: TPU,
    then all GPUs, then the CPU. A named ``kind`` starts there. Each step that fails
    (resolving, connecting to or initializing a TPU, creating the strategy) is reported in
    the line and the next hardware is tried; the CPU always works.

    Args:
        kind: ``"auto"``, ``"tpu"``, ``"gpu"`` or ``"cpu"`` (the CPU kind uses every
            logical CPU device, which is how this is tested on a laptop).
        verbose: print the one-line report.

    Returns:
        A :class:`Strategy`.

    Example:
        >>> st = strategy()
        nntrain.distribute: CPU, 1 replica (tensorflow, one device)
        >>> with st.scope():
        ...     model = nt.models.mlp((8, 8, 1))

    References:
        TensorFlow, "Distributed training with TensorFlow",
        https://www.tensorflow.org/guide/distributed_training;
        Keras, "Distributed training with Keras 3",
        https://keras.io/guides/distribution/;
        Goyal et al. (2017), "Accurate, large minibatch SGD",
        https://arxiv.org/abs/1706.02677 (the global batch grows with the replicas).
    """
    _checks.choice("kind", kind, KINDS)
    verbose = _checks.boolean("verbose", verbose)
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        raise ValueError(
            "nntrain.distribute supports the Keras backends 'tensorflow' and 'jax'. "
            f"Received: KERAS_BACKEND={backend!r}"
        )
    start = accelerator() if kind == "auto" else kind
    fallbacks: list[str] = []
    # The last resort, Keras's own placement on one CPU, needs no set-up that could fail.
    chosen = Strategy("cpu", backend, ("cpu:0",))
    for candidate in _FASTEST_FIRST[_FASTEST_FIRST.index(start):]:
        try:
            devices, native = _make(candidate, backend)
        except _Unavailable as reason:
            fallbacks.append(f"{reason}, falling back")
            continue
        chosen = Strategy(candidate, backend, devices, native)
        break
    chosen = dataclasses.replace(chosen, fallbacks=tuple(fallbacks))
    if verbose:
        print(chosen)
    return chosen


class _Unavailable(Exception):
    """A kind of hardware that is absent, or whose set-up failed at some step."""


@contextlib.contextmanager
def _step(kind: str, name: str, hint: str = "") -> Iterator[None]:
    """Turn any failure of one set-up step into a clear fallback message."""
    try:
        yield
    except Exception as error:
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        text = f"{type(error).__name__}: {text}"[:_MESSAGE_CHARS]
        raise _Unavailable(
            f"{kind.upper()} step `{name}` failed ({text}){'; ' + hint if hint else ''}"
        ) from error


def _make(kind: str, backend: str) -> tuple[tuple[str, ...], object]:
    """The devices of ``kind`` and the backend's object to distribute over them."""
    if kind == "tpu" and backend == "tensorflow":
        return _tensorflow_tpu()
    with _step(kind, f"keras.distribution.list_devices({kind!r})"):
        devices = tuple(keras.distribution.list_devices(kind))
    if not devices:
        raise _Unavailable(f"no {kind.upper()} found")
    if len(devices) == 1:
        return devices, None
    if backend == "jax":
        with _step(kind, "keras.distribution.DataParallel"):
            return devices, keras.distribution.DataParallel(devices=list(devices))
    import tensorflow as tf

    names = [f"/device:{kind.upper()}:{device.split(':')[1]}" for device in devices]
    with _step(kind, "tf.distribute.MirroredStrategy"):
        return devices, tf.distribute.MirroredStrategy(devices=names)


def _tensorflow_tpu() -> tuple[tuple[str, ...], object]:
    """TensorFlow's TPU set-up, one step at a time (each may fail on its own)."""
    import tensorflow as tf

    with _step("tpu", "TPUClusterResolver(tpu='local')", _JAX_HINT):
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
    with _step("tpu", "tf.config.experimental_connect_to_cluster", _JAX_HINT):
        tf.config.experimental_connect_to_cluster(resolver)
    with _step("tpu", "tf.tpu.experimental.initialize_tpu_system", _JAX_HINT):
        tf.tpu.experimental.initialize_tpu_system(resolver)
    with _step("tpu", "tf.distribute.TPUStrategy", _JAX_HINT):
        native = tf.distribute.TPUStrategy(resolver)
        replicas = int(native.num_replicas_in_sync)
    return tuple(f"tpu:{i}" for i in range(replicas)), native


def _tpu_hint() -> bool:
    """Whether the machine says it has a TPU (without initializing any framework)."""
    if any(os.environ.get(name) for name in _TPU_VARIABLES):
        return True
    if glob.glob("/dev/accel*"):  # TPU v2-v4 chips
        return True
    return any(entry.isdigit() for entry in _listdir("/dev/vfio"))  # TPU v5e and later


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
