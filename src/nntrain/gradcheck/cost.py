"""What a gradient costs: central differences against backpropagation, counted and timed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from .. import _checks
from .network import TwoLayerNet
from .numerical import numerical_gradient, relative_error

__all__ = ["cost_comparison"]

_TIMED_S = 0.01  # seconds each timing measurement lasts at least (short calls are repeated)
_LONG_S = 0.1  # a single call this long is timed once: it averages its own noise


class _Counted:
    """Wraps a function and counts its calls."""

    def __init__(self, fn: Callable) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


def _best_time(fn: Callable[[], object], repeats: int, once: float | None = None) -> float:
    """Seconds per call of ``fn``: the best of ``repeats`` measurements of at least
    ``_TIMED_S`` each. ``once`` is the duration of a call already made; a call longer than
    ``_LONG_S`` is not repeated."""
    if once is None:
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
    if once >= _LONG_S:
        return once
    number = max(1, int(np.ceil(_TIMED_S / max(once, 1e-9))))
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return float(best)


def cost_comparison(x: np.ndarray, y: np.ndarray, hidden_sizes: Iterable[int], *,
                    hidden_activation: str = "sigmoid", output_activation: str = "linear",
                    epsilon: float = 1e-6, repeats: int = 5, seed: int = 0) -> pd.DataFrame:
    """Measure the cost of a gradient by central differences and by backpropagation.

    For each hidden width :math:`m`, a :class:`TwoLayerNet` with :math:`P` parameters gets
    its gradient on the batch ``(x, y)`` both ways. The calls are counted (central
    differences evaluate the loss :math:`2P` times; backpropagation runs one forward and one
    backward pass, whatever :math:`P`) and timed with :func:`time.perf_counter` (best of
    ``repeats`` for calls shorter than 0.1 s). The two gradients are compared too.

    Args:
        x, y: the batch.
        hidden_sizes: the widths :math:`m` to measure, e.g. ``[2, 8, 32]``.
        hidden_activation, output_activation: as in :class:`TwoLayerNet`.
        epsilon: the finite-difference step.
        repeats: timing repeats for short calls, at least 1.
        seed: seed of the initial parameters.

    Returns:
        One row per width: ``hidden units``, ``parameters``, ``loss evaluations
        (differences)``, ``forward passes (backprop)``, ``backward passes (backprop)``,
        ``differences s``, ``backprop s``, ``forward s`` (one forward pass alone),
        ``time ratio`` (differences / backprop), ``backprop / forward`` and
        ``relative error`` between the two gradients.

    Example:
        >>> x, y = np.ones((4, 3)), np.zeros(4)
        >>> table = cost_comparison(x, y, [1, 2], repeats=1)
        >>> table["loss evaluations (differences)"].tolist() == [2 * 6, 2 * 11]
        True
    """
    _checks.integer("repeats", repeats, minimum=1)
    _checks.seed("seed", seed)
    hidden_sizes = _checks.sequence("hidden_sizes", hidden_sizes, lambda m: _checks.is_int(m) and m >= 1,
                                    accepted="a non-empty list of positive integers")
    x, y = _checks.examples(x, y)
    x = x.astype(np.float64).reshape(len(x), -1)
    y = y.astype(np.float64)
    n_out = 1 if y.ndim == 1 else y.shape[1]
    rows = []
    for m in hidden_sizes:
        net = TwoLayerNet(x.shape[1], m, n_out, hidden_activation, output_activation)
        theta = net.init(seed)
        loss = _Counted(lambda t, net=net: net.loss(t, x, y))
        forward, backward = _Counted(net.forward), _Counted(net.backward)
        start = time.perf_counter()
        numerical = numerical_gradient(loss, theta, epsilon=epsilon)
        once = time.perf_counter() - start
        analytic = backward(theta, forward(theta, x)[1], y)
        # The calls of one gradient each way, counted before the timing repeats them.
        counts = {"loss evaluations (differences)": loss.calls,
                  "forward passes (backprop)": forward.calls,
                  "backward passes (backprop)": backward.calls}
        seconds = {
            "differences s": _best_time(
                lambda: numerical_gradient(loss, theta, epsilon=epsilon), repeats, once),
            "backprop s": _best_time(lambda: backward(theta, forward(theta, x)[1], y), repeats),
            "forward s": _best_time(lambda: forward(theta, x), repeats),
        }
        rows.append({"hidden units": m, "parameters": net.n_params, **counts, **seconds,
                     "relative error": relative_error(analytic, numerical)})
    table = pd.DataFrame(rows)
    table["time ratio"] = table["differences s"] / table["backprop s"]
    table["backprop / forward"] = table["backprop s"] / table["forward s"]
    return table
