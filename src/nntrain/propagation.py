r"""Signal propagation through depth: what an initializer does before any training step.

A plain deep network of ``depth`` equal layers, with zero biases (the usual start),

.. math::

    z_l = h_{l-1} W_l, \qquad h_l = \phi(z_l), \qquad l = 1, \dots, L,

is run forward on a real batch :math:`h_0 = x` (flattened) and backward from a random
gradient :math:`\partial \ell / \partial h_L = r`, :math:`r_{ij} \sim \mathcal{N}(0, 1)`,
the setting of the variance arguments of Glorot & Bengio (2010) and He et al. (2015).
Every kernel :math:`W_l` is drawn by the initializer under study, with its own seed. The
backward pass is written out, so that it reads like the equations:

.. math::

    \delta_l = \frac{\partial \ell}{\partial z_l} = \left(\delta_{l+1} W_{l+1}^\top\right)
    \odot \phi'(z_l), \qquad
    \frac{\partial \ell}{\partial W_l} = \frac{1}{B} h_{l-1}^\top \delta_l

(with :math:`\delta_{L+1} W_{L+1}^\top` read as :math:`r`, and :math:`B` the batch size).

* :func:`propagate`: per-layer variances of :math:`z_l`, :math:`h_l`, :math:`\delta_l` and
  :math:`\partial \ell / \partial W_l` (Glorot & Bengio's and He et al.'s quantities);
* :func:`histograms`: per-layer histograms of the activations :math:`h_l` and the
  back-propagated gradients :math:`\delta_l` (Glorot & Bengio's figures 6 and 7);
* :func:`jacobian_singular_values`: the singular values of the input-output Jacobian
  :math:`J = \partial h_L / \partial h_0` (Saxe et al., 2014; Pennington et al., 2017).

Each returns a tidy ``pandas.DataFrame``. Float32 throughout, as in training: a signal
that explodes past float32's range (about :math:`3.4 \times 10^{38}`) shows up as
``inf`` or ``NaN``, as it would in a real network.

Example:
    >>> import nntrain as nt
    >>> data = nt.load("mnist")
    >>> nt.propagation.propagate(data.x_train[:256], "he_normal", "relu", depth=30)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd

from . import _checks
from . import initializers as _initializers
from ._checks import is_int as _is_int

__all__ = ["histograms", "jacobian_singular_values", "propagate"]

InitLike = str | keras.initializers.Initializer

# Activations that mix the units of a layer: phi'(z) is then a matrix, not a vector.
_NOT_ELEMENTWISE = ("softmax", "log_softmax")
# The two signals `histograms` reports.
SIGNALS = ("activation", "gradient")
# `histograms` bins each signal over the central 99.8% of its values pooled over the
# layers (quantiles 0.1% and 99.9%), so that a few extreme values do not flatten the rest.
_TAIL = 0.001


@dataclass(frozen=True)
class _Pass:
    """One forward and backward pass: per-layer lists, index 0 is layer 1."""

    x: np.ndarray
    kernels: list
    z: list
    h: list
    delta: list
    derivative: list
    weight_gradient: list
    input_gradient: np.ndarray


def propagate(
    x,
    init: InitLike = "he_normal",
    activation: str | Callable = "relu",
    depth: int = 10,
    width: int = 256,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Per-layer forward and backward variances of a freshly initialized deep network.

    For each layer :math:`l` (and :math:`l = 0`, the input), over all examples and units:

    .. math::

        \operatorname{Var}(z_l) \approx n_{l-1} \operatorname{Var}(W_l)\,
            \mathbb{E}[h_{l-1}^2], \qquad
        \operatorname{Var}(\delta_l) \approx n_{l+1} \operatorname{Var}(W_{l+1})\,
            \mathbb{E}[\phi'(z_l)^2]\, \operatorname{Var}(\delta_{l+1})

    (the variance argument; :math:`n_l` is the width of layer :math:`l`). A rule that
    keeps the products of the factors near 1 keeps both signals at the same scale through
    depth.

    Args:
        x: a batch of real inputs, shape ``(B, ...)``; each example is flattened.
        init: the initializer of every kernel, a name of :mod:`nntrain.initializers` or an
            instance (cloned with each layer's own seed when it takes one).
        activation: :math:`\phi`, an elementwise Keras activation name or callable.
        depth: the number of layers :math:`L`, at least 1.
        width: the units per layer, at least 1.
        seed: seeds the kernels (layer :math:`l` gets its own seed derived from
            ``(seed, l)``) and the random top gradient :math:`r`.

    Returns:
        One row per layer ``layer`` = 0 (the input), 1, ..., ``depth`` with columns
        ``preactivation_var`` (:math:`\operatorname{Var}(z_l)`; ``NaN`` for the input),
        ``activation_mean`` and ``activation_var`` (of :math:`h_l`), ``gradient_var``
        (:math:`\operatorname{Var}(\delta_l)`, per example; for the input, of
        :math:`\partial \ell / \partial h_0`) and ``weight_gradient_var``
        (:math:`\operatorname{Var}(\partial \ell / \partial W_l)`; ``NaN`` for the input).

    Example:
        >>> frame = propagate(x[:256], "xavier_normal", "relu", depth=30)
        >>> frame.preactivation_var.iloc[-1] / frame.preactivation_var.iloc[1]   # ~ 2**-29

    References:
        Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html;
        He, Zhang, Ren & Sun, 2015, https://arxiv.org/abs/1502.01852
    """
    run = _run(x, init, activation, depth, width, seed)
    rows = [{"layer": 0, "preactivation_var": np.nan,
             "activation_mean": float(np.mean(run.x, dtype=np.float64)),
             "activation_var": _var(run.x), "weight_gradient_var": np.nan,
             "gradient_var": _var(run.input_gradient)}]
    for l in range(depth):
        rows.append({
            "layer": l + 1, "preactivation_var": _var(run.z[l]),
            "activation_mean": float(np.mean(run.h[l], dtype=np.float64)),
            "activation_var": _var(run.h[l]),
            "weight_gradient_var": _var(run.weight_gradient[l]),
            "gradient_var": _var(run.delta[l]),
        })
    columns = ["layer", "preactivation_var", "activation_mean", "activation_var",
               "gradient_var", "weight_gradient_var"]
    return pd.DataFrame(rows, columns=columns).astype({"layer": int})


def histograms(
    x,
    init: InitLike = "he_normal",
    activation: str | Callable = "relu",
    depth: int = 5,
    width: int = 256,
    seed: int = 0,
    bins: int = 60,
) -> pd.DataFrame:
    r"""Normalized histograms of each layer's activations and back-propagated gradients.

    For each signal, :math:`h_l` (``"activation"``) and :math:`\delta_l = \partial \ell /
    \partial z_l` (``"gradient"``), the values of every layer are binned on one common
    grid, from the 0.1% to the 99.9% quantile of the values pooled over the layers, so
    that the layers can be compared: a layer whose signal has shrunk shows as a spike
    at 0. ``fraction`` is the share of the layer's values in the bin (values outside the
    grid are counted in no bin):

    .. math::

        \text{fraction}_{l,k} = \frac{\#\{v \in \text{layer } l : v \in [a_k, a_{k+1})\}}
        {\#\{v \in \text{layer } l\}}

    Args:
        x, init, activation, depth, width, seed: as for :func:`propagate`.
        bins: the number of bins of each grid, at least 1.

    Returns:
        A frame with columns ``signal``, ``layer`` (1 ... ``depth``), ``left``, ``right``,
        ``center`` and ``fraction``, ``bins`` rows per signal and layer.

    Example:
        >>> frame = histograms(x[:256], "xavier_uniform", "tanh", depth=5)
        >>> frame.query("signal == 'activation' and layer == 5").plot("center", "fraction")

    References:
        Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html (figures 6, 7)
    """
    _checks.integer("bins", bins, minimum=1)
    run = _run(x, init, activation, depth, width, seed)
    frames = []
    for signal, values in zip(SIGNALS, (run.h, run.delta)):
        flat = [np.asarray(v, np.float64).ravel() for v in values]
        pooled = np.concatenate(flat)
        pooled = pooled[np.isfinite(pooled)]
        lo, hi = np.quantile(pooled, [_TAIL, 1 - _TAIL]) if pooled.size else (-1.0, 1.0)
        if not hi > lo:  # every value equal (zero initialization): one bin around it
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)
        for layer, v in enumerate(flat, start=1):
            counts, _ = np.histogram(v[np.isfinite(v)], bins=edges)
            frames.append(pd.DataFrame({
                "signal": signal, "layer": layer, "left": edges[:-1], "right": edges[1:],
                "center": (edges[:-1] + edges[1:]) / 2, "fraction": counts / v.size}))
    return pd.concat(frames, ignore_index=True)


def jacobian_singular_values(
    x,
    init: InitLike = "orthogonal",
    activation: str | Callable = "linear",
    depth: int = 10,
    width: int = 256,
    seed: int = 0,
    examples: int = 4,
) -> pd.DataFrame:
    r"""Singular values of the input-output Jacobian at each of the first ``examples`` inputs.

    .. math::

        J = \frac{\partial h_L}{\partial h_0}
          = D_L W_L^\top D_{L-1} W_{L-1}^\top \cdots D_1 W_1^\top, \qquad
        D_l = \operatorname{diag}(\phi'(z_l))

    a :math:`n_L \times n_0` matrix per example. Its singular values say how much the
    network stretches or shrinks a small change of its input in each direction, and the
    same values govern the backward pass (:math:`J^\top` maps gradients down). When they
    all sit near 1 the network is *dynamically isometric* (Saxe et al., 2014; Pennington
    et al., 2017): a deep linear network with orthogonal kernels is exactly so.

    Args:
        x, init, activation, depth, width, seed: as for :func:`propagate`.
        examples: the number of inputs (the first rows of ``x``) at which to take
            :math:`J`, between 1 and the batch size.

    Returns:
        A frame with columns ``example``, ``rank`` (1 is the largest) and
        ``singular_value``, :math:`\min(n_0, n_L)` rows per example.

    Example:
        >>> sv = jacobian_singular_values(x[:4], "orthogonal", "linear", depth=30)
        >>> sv.singular_value.min(), sv.singular_value.max()     # both ~ 1

    References:
        Saxe, McClelland & Ganguli, 2014, https://arxiv.org/abs/1312.6120;
        Pennington, Schoenholz & Ganguli, 2017, https://arxiv.org/abs/1711.04735
    """
    run = _run(x, init, activation, depth, width, seed)
    if not (_is_int(examples) and 1 <= examples <= len(run.x)):
        _checks.fail("examples", f"an integer from 1 to the batch size {len(run.x)}", examples)
    ops = keras.ops
    # J, built from the top: (examples, n_L, n_L) -> ... -> (examples, n_L, n_0)
    product = None
    for l in reversed(range(depth)):
        d = ops.convert_to_tensor(run.derivative[l][:examples])  # phi'(z_l), (examples, n_l)
        w_t = ops.convert_to_tensor(run.kernels[l].T)  # W_l^T, (n_l, n_{l-1})
        product = d[:, :, None] * w_t[None] if product is None else (product * d[:, None, :]) @ w_t
    # Keras's SVD (the backend's LAPACK), in float64 where the backend allows it
    jacobians = ops.convert_to_tensor(ops.convert_to_numpy(product).astype(np.float64))
    values = ops.convert_to_numpy(ops.svd(jacobians, compute_uv=False))  # descending
    count = values.shape[1]
    return pd.DataFrame({"example": np.repeat(np.arange(examples), count),
                         "rank": np.tile(np.arange(1, count + 1), examples),
                         "singular_value": values.ravel()})


# ----------------------------------------------------------------------------- helpers


def _run(x, init, activation, depth, width, seed) -> _Pass:
    """The forward and backward pass, after checking every argument."""
    x = _check_x(x)
    for name, value in (("depth", depth), ("width", width)):
        _checks.integer(name, value, minimum=1)
    _checks.integer("seed", seed, minimum=0)
    phi = _activation(activation)
    shapes = [(x.shape[1] if l == 0 else width, width) for l in range(depth)]
    kernels = [np.asarray(keras.ops.convert_to_numpy(_layer_init(init, seed, l + 1)(s, "float32")))
               for l, s in enumerate(shapes)]
    ops = keras.ops
    h, zs, hs, derivatives = ops.convert_to_tensor(x), [], [], []
    for w in kernels:  # forward: z_l = h_{l-1} W_l, h_l = phi(z_l)
        z = ops.matmul(h, ops.convert_to_tensor(w))
        h = phi(z)
        zs.append(z)
        hs.append(h)
        derivatives.append(_derivative(phi, z))
    top = np.random.default_rng([seed, depth]).standard_normal((len(x), width)).astype("float32")
    g, deltas, weight_grads = ops.convert_to_tensor(top), [None] * depth, [None] * depth
    for l in reversed(range(depth)):  # backward: delta_l = (delta_{l+1} W_{l+1}^T) * phi'(z_l)
        deltas[l] = g * derivatives[l]
        h_in = ops.convert_to_tensor(x) if l == 0 else hs[l - 1]
        weight_grads[l] = ops.matmul(ops.transpose(h_in), deltas[l]) / len(x)
        g = ops.matmul(deltas[l], ops.convert_to_tensor(kernels[l].T))

    def to_np(values):
        return [ops.convert_to_numpy(v) for v in values]

    return _Pass(x, kernels, to_np(zs), to_np(hs), to_np(deltas), to_np(derivatives),
                 to_np(weight_grads), ops.convert_to_numpy(g))


def _layer_init(init: InitLike, seed: int, layer: int) -> keras.initializers.Initializer:
    """The initializer of one layer, with its own seed when it takes one."""
    # 31 bits: a seed every backend accepts as a plain int
    layer_seed = int(np.random.SeedSequence([seed, layer]).generate_state(1)[0] >> 1)
    if isinstance(init, str):
        if _initializers._lookup(init) is None:
            _checks.fail("init", f"an initializer name, one of {_initializers.available()}, or a "
                         "keras.initializers.Initializer", init)
        instance = _initializers.get(init)
        return _initializers.get(init, seed=layer_seed) if "seed" in instance.get_config() else instance
    if isinstance(init, keras.initializers.Initializer):
        config = init.get_config()
        if "seed" in config:
            config["seed"] = layer_seed
        return type(init).from_config(config)
    _checks.fail("init", "an initializer name or a keras.initializers.Initializer", init)


def _activation(activation) -> Callable:
    if isinstance(activation, str) and activation in _NOT_ELEMENTWISE:
        _checks.fail("activation", f"elementwise, not one of {list(_NOT_ELEMENTWISE)}", activation)
    try:
        return keras.activations.get(activation)
    except (ValueError, TypeError):
        _checks.fail("activation", "an elementwise Keras activation name such as 'relu', 'tanh', "
                     "'sigmoid', 'linear', or a callable", activation)


def _derivative(phi: Callable, z):
    r""":math:`\phi'(z)`, elementwise, by the active backend's automatic differentiation."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(z)
            total = tf.reduce_sum(phi(z))
        grad = tape.gradient(total, z)
        return tf.zeros_like(z) if grad is None else grad  # a constant phi has no path to z
    if backend == "jax":
        import jax

        return jax.grad(lambda v: jax.numpy.sum(phi(v)))(z)
    raise NotImplementedError(f"nntrain.propagation differentiates under the TensorFlow and JAX "
                              f"backends; the active backend is {backend!r}.")


def _check_x(x) -> np.ndarray:
    accepted = "a non-empty batch of finite numeric inputs, shape (B, ...)"
    array = _checks.array("x", x, dtype=np.float32, accepted=accepted) if _numeric(x) else None
    if array is None or array.ndim < 2 or len(array) == 0 or array[0].size == 0:
        _checks.fail("x", accepted, x, shown=_checks.shown(x if array is None else array))
    return array.reshape(len(array), -1)


def _numeric(x) -> bool:
    try:
        return np.issubdtype(np.asarray(x).dtype, np.number)
    except (TypeError, ValueError):
        return False


def _var(values) -> float:
    # a signal that overflowed float32 holds inf: its variance is inf or NaN, without a warning
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.var(np.asarray(values), dtype=np.float64))
