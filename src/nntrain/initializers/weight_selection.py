"""Weight selection: initialize a small model with a subset of a larger one's weights."""

from __future__ import annotations

import keras
import numpy as np

from .. import _checks
from ._base import _check_shape

__all__ = ["WeightSelection", "select_weights"]

METHODS = ("uniform", "first")


def _indices(n_large: int, n_small: int, method: str) -> np.ndarray:
    """Which of ``n_large`` positions along one axis the small tensor keeps.

    ``"uniform"`` rounds with NumPy (halves to even): 3 of 8 gives [0, 4, 7].
    """
    if method == "first":
        return np.arange(n_small)
    return np.round(np.linspace(0, n_large - 1, n_small)).astype("int64")


def _select(source, shape: tuple[int, ...], method: str, where: str) -> np.ndarray:
    """The sub-tensor of ``source`` with ``shape``, chosen along every axis by ``method``.

    Done in NumPy: weight selection runs once, eagerly, on concrete weights.
    """
    source = np.asarray(keras.ops.convert_to_numpy(source))
    if source.ndim != len(shape) or any(s > b for s, b in zip(shape, source.shape)):
        raise ValueError(
            f"{where}: the small tensor must have the same rank as the large one and no "
            f"dimension larger. Received: large_shape={source.shape}, small_shape={shape}"
        )
    return source[np.ix_(*(_indices(b, s, method) for b, s in zip(source.shape, shape)))]


def select_weights(
    large_model: keras.Model, small_model: keras.Model, method: str = "uniform"
) -> keras.Model:
    r"""Copy a sub-tensor of every weight of ``large_model`` into ``small_model``, in place.

    Layers are paired in order; each pair must have the same number of weights, of the
    same ranks, and no dimension of the small weight may exceed the large one's. For a
    weight :math:`W^{L}` of shape :math:`(d^L_1, \dots, d^L_r)` and its small
    counterpart of shape :math:`(d^S_1, \dots, d^S_r)`:

    .. math::

        W^{S}_{j_1 \dots j_r} = W^{L}_{\iota_1(j_1) \dots \iota_r(j_r)}, \qquad
        \iota_a(j) = \begin{cases}
            \operatorname{round}\!\left(j \, \frac{d^L_a - 1}{d^S_a - 1}\right)
                & \text{method = uniform (evenly spaced)} \\
            j & \text{method = first (leading)} \end{cases}

    The same indices are used for a unit's incoming and outgoing weights (they depend
    only on the sizes), so the selected neurons stay connected as in the large model:
    the paper's *consistency*. Every weight is checked before anything is copied.

    Args:
        large_model: a built ``keras.Model``, the source (usually pretrained).
        small_model: a built ``keras.Model`` of the same architecture, narrower.
        method: ``"uniform"`` (``round(linspace)`` indices) or ``"first"``.

    Returns:
        ``small_model``, whose weights now hold the selected values.

    Example:
        >>> big = keras.Sequential([keras.Input((20,)), keras.layers.Dense(256),
        ...                         keras.layers.Dense(10)])
        >>> small = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64),
        ...                           keras.layers.Dense(10)])
        >>> small = select_weights(big, small)
        >>> # small's first kernel: big's columns 0, 4, 8, ..., 255 (64 evenly spaced)

    References:
        Xu, Liu, Zhuang, Bao, Darrell & Liu, 2024, "Initializing Models with Larger
        Ones", https://arxiv.org/abs/2311.18823
    """
    method = _checks.choice("method", method, METHODS)
    for name, model in (("large_model", large_model), ("small_model", small_model)):
        if not isinstance(model, keras.Model) or not model.weights:
            raise ValueError(
                f"`{name}` must be a built keras.Model with weights. Received: {name}={model!r}"
            )
    large_layers, small_layers = large_model.layers, small_model.layers
    if len(large_layers) != len(small_layers):
        raise ValueError(
            "`large_model` and `small_model` must have the same number of layers. "
            f"Received: {len(large_layers)} layers in large_model and "
            f"{len(small_layers)} in small_model"
        )
    selected = []
    for index, (big, small) in enumerate(zip(large_layers, small_layers)):
        where = f"layer {index} ('{big.name}' in large_model, '{small.name}' in small_model)"
        if len(big.weights) != len(small.weights):
            raise ValueError(
                f"{where}: both layers must have the same number of weights. Received: "
                f"large_shapes={[tuple(w.shape) for w in big.weights]}, "
                f"small_shapes={[tuple(w.shape) for w in small.weights]}"
            )
        for w_big, w_small in zip(big.weights, small.weights):
            shape = tuple(w_small.shape)
            values = _select(w_big, shape, method, f"{where}, weight '{w_small.name}'")
            selected.append((w_small, values))
    for variable, values in selected:
        variable.assign(values.astype(variable.dtype))
    return small_model


@keras.saving.register_keras_serializable(package="nntrain")
class WeightSelection(keras.initializers.Initializer):
    r"""Initialize one tensor with a sub-tensor of a larger ``source`` tensor.

    The single-tensor form of :func:`select_weights`: along every axis :math:`a` keep
    the indices :math:`\iota_a(j) = \operatorname{round}(j (d^L_a - 1) / (d^S_a - 1))`
    (``"uniform"``) or :math:`\iota_a(j) = j` (``"first"``).

    Args:
        source: the large tensor (NumPy array or backend tensor), e.g. a pretrained kernel.
        method: ``"uniform"`` or ``"first"``.

    Example:
        >>> big_kernel = np.random.default_rng(0).normal(size=(784, 1024))
        >>> layer = keras.layers.Dense(256, kernel_initializer=WeightSelection(big_kernel))

    References:
        Xu, Liu, Zhuang, Bao, Darrell & Liu, 2024, "Initializing Models with Larger
        Ones", https://arxiv.org/abs/2311.18823
    """

    def __init__(self, source, method: str = "uniform"):
        self.source = np.asarray(keras.ops.convert_to_numpy(source))
        self.method = _checks.choice("method", method, METHODS)

    def __call__(self, shape, dtype=None):
        where = "WeightSelection `shape`"
        values = _select(self.source, _check_shape(shape), self.method, where)
        return keras.ops.convert_to_tensor(values, dtype=keras.backend.standardize_dtype(dtype))

    def get_config(self) -> dict:
        return {"source": keras.saving.serialize_keras_object(self.source), "method": self.method}

    @classmethod
    def from_config(cls, config: dict) -> WeightSelection:
        config = dict(config)
        config["source"] = keras.saving.deserialize_keras_object(config["source"])
        return cls(**config)
