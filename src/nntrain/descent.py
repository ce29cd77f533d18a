"""Gradient descent and stochastic gradient descent, written out in NumPy.

The first chapter shows the algorithm itself before any framework hides it: a parameter
vector, a function that returns the loss and its gradient on a batch, and a loop.

.. math::

    \\theta_{t+1} = \\theta_t - \\eta \\, \\nabla_\\theta L_{B_t}(\\theta_t),
    \\qquad L_{B}(\\theta) = \\frac{1}{|B|} \\sum_{i \\in B} \\ell(\\theta; x_i, y_i)

Full-batch gradient descent takes :math:`B_t` to be the whole training set; mini-batch SGD
(Robbins and Monro, 1951) draws :math:`B_t` without replacement from a fresh shuffle each
epoch. Later chapters use Keras optimizers; :func:`minimize` matches
``keras.optimizers.SGD`` step for step (the chapter checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _checks

__all__ = ["DescentResult", "LossAndGrad", "linear_mse", "minimize"]

# loss_and_grad(params, x, y) -> (mean loss over the batch, gradient with params' shape)
LossAndGrad = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def linear_mse(params: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error of a linear model and its gradient.

    With :math:`\\theta = (w, b)`, :math:`\\hat y_i = x_i^\\top w + b` and residuals
    :math:`r_i = \\hat y_i - y_i`:

    .. math::

        L(\\theta) = \\frac{1}{n} \\sum_i r_i^2, \\qquad
        \\nabla_w L = \\frac{2}{n} X^\\top r, \\qquad \\nabla_b L = \\frac{2}{n} \\sum_i r_i

    This is the loss Keras calls ``"mse"``, so the gradients agree with Keras's.

    Args:
        params: the vector ``(w_1, ..., w_d, b)``, length ``d + 1``.
        x: inputs of shape ``(n, d)``.
        y: targets of shape ``(n,)``.

    Returns:
        ``(loss, gradient)``, the gradient with the shape of ``params``.

    Example:
        >>> loss, grad = linear_mse(np.zeros(2), np.array([[1.0]]), np.array([2.0]))
        >>> float(loss), grad.tolist()
        (4.0, [-4.0, -4.0])
    """
    params = _checks.array("params", params, ndim=1, finite=False)  # a diverged run's are inf
    x, y = _checks.examples(x, y)
    if x.ndim != 2 or y.ndim != 1:
        _checks.fail("x" if x.ndim != 2 else "y", "of shape (n, d)" if x.ndim != 2 else "of shape (n,)",
                     None, shown=_checks.shown(x if x.ndim != 2 else y))
    if len(params) != x.shape[1] + 1:
        _checks.fail("params", f"a vector of length d + 1 = {x.shape[1] + 1}", params,
                     shown=_checks.shown(params))
    w, b = params[:-1], params[-1]
    residual = x @ w + b - y
    n = len(y)
    grad = np.concatenate([2.0 / n * (x.T @ residual), [2.0 / n * residual.sum()]])
    return float(np.mean(residual**2)), grad


@dataclass(frozen=True)
class DescentResult:
    """What :func:`minimize` returns.

    Attributes:
        params: the parameters after the last step taken.
        path: every iterate, shape ``(steps + 1, n_params)``; row 0 is the start.
        history: one row per step: ``step``, ``epoch``, ``examples`` (examples seen so
            far: the cost in gradient evaluations of single examples) and ``loss``, the
            loss on the whole training set after the step (row 0: before any step).
        diverged_step: the first step whose loss or parameters were not finite, or ``None``.
    """

    params: np.ndarray
    path: np.ndarray
    history: pd.DataFrame
    diverged_step: int | None

    @property
    def diverged(self) -> bool:
        """True when the run stopped at a NaN or infinite loss."""
        return self.diverged_step is not None

    @property
    def final_loss(self) -> float:
        """The training loss after the last step."""
        return float(self.history["loss"].iloc[-1])


def minimize(
    loss_and_grad: LossAndGrad,
    params0: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    learning_rate: float,
    epochs: int = 1,
    batch_size: int | None = None,
    seed: int = 0,
) -> DescentResult:
    """Run full-batch gradient descent or mini-batch SGD for a number of epochs.

    .. math::

        \\theta \\leftarrow \\theta - \\eta \\, \\nabla_\\theta L_{B}(\\theta)

    Each epoch shuffles the training set with a generator seeded by ``seed`` and walks
    through it in batches of ``batch_size`` (the last batch may be smaller). A step whose
    loss or parameters are NaN or infinite stops the run and is reported in
    ``diverged_step``; it never raises.

    Args:
        loss_and_grad: ``f(params, x_batch, y_batch) -> (loss, gradient)``.
        params0: the starting parameters (not modified).
        x, y: the training set.
        learning_rate: the step size :math:`\\eta`, positive.
        epochs: passes over the training set, at least 1.
        batch_size: examples per step; ``None`` means the whole set (full-batch descent).
        seed: seed of the shuffles.

    Returns:
        A :class:`DescentResult`.

    Example:
        >>> x = np.array([[0.0], [1.0], [2.0]]); y = 2 * x[:, 0] + 1
        >>> run = minimize(linear_mse, np.zeros(2), x, y, learning_rate=0.1, epochs=500)
        >>> np.round(run.params, 3).tolist()
        [2.0, 1.0]

    References:
        Robbins and Monro (1951), A Stochastic Approximation Method,
        https://doi.org/10.1214/aoms/1177729586
    """
    _checks.function("loss_and_grad", loss_and_grad, "a callable (params, x, y) -> (loss, gradient)")
    params0 = _checks.array("params0", params0, ndim=1)
    x, y = _checks.examples(x, y)
    n = len(y)
    _checks.real("learning_rate", learning_rate, "a positive number", lambda v: v > 0)
    _checks.integer("epochs", epochs, minimum=1, accepted="an integer >= 1")
    if batch_size is None:
        batch_size = n
    if not _checks.is_int(batch_size) or not 1 <= batch_size <= n:
        _checks.fail("batch_size", f"None or an integer in [1, {n}]", batch_size)
    _checks.seed("seed", seed)

    rng = np.random.default_rng(seed)
    params = np.array(params0, dtype=np.float64)
    path = [params.copy()]
    rows = [{"step": 0, "epoch": 0, "examples": 0, "loss": loss_and_grad(params, x, y)[0]}]
    examples = 0
    diverged_step = None
    # A diverging run overflows on its way to inf: that is detected below, not warned about.
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n) if batch_size < n else np.arange(n)
            for start in range(0, n, batch_size):
                batch = order[start:start + batch_size]
                _, grad = loss_and_grad(params, x[batch], y[batch])
                params = params - learning_rate * grad
                examples += len(batch)
                loss = loss_and_grad(params, x, y)[0]
                path.append(params.copy())
                rows.append({"step": len(rows), "epoch": epoch, "examples": examples, "loss": loss})
                if not (np.isfinite(loss) and np.all(np.isfinite(params))):
                    diverged_step = len(rows) - 1
                    break
            if diverged_step is not None:
                break
    return DescentResult(params, np.array(path), pd.DataFrame(rows), diverged_step)
