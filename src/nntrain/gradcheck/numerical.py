"""Finite-difference gradients, the relative error, and the gradient check table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from .. import _checks

__all__ = ["gradient_check", "numerical_gradient", "relative_error"]

_METHODS = ("central", "forward")


def _partials(f: Callable[[np.ndarray], float], theta: np.ndarray, indices: Iterable[int],
              epsilon: float, method: str) -> np.ndarray:
    """Finite-difference estimates of df/dtheta_i for the flat ``indices`` of ``theta``."""
    x = np.array(theta, dtype=np.float64)  # a copy: the caller's array is never touched
    flat = x.reshape(-1)
    f0 = float(f(x)) if method == "forward" else None
    out = []
    for i in indices:
        old = flat[i]
        flat[i] = old + epsilon
        up = float(f(x))
        flat[i] = old - epsilon if method == "central" else old
        down = float(f(x)) if method == "central" else f0
        flat[i] = old
        out.append((up - down) / (2 * epsilon if method == "central" else epsilon))
    return np.array(out)


def _check_step(epsilon: float, method: str) -> None:
    _checks.real("epsilon", epsilon, "a positive number", lambda v: v > 0)
    _checks.choice("method", method, _METHODS)


def numerical_gradient(f: Callable[[np.ndarray], float], theta: np.ndarray, *,
                       epsilon: float = 1e-6, method: str = "central") -> np.ndarray:
    """The gradient of ``f`` at ``theta`` by finite differences, one coordinate at a time.

    .. math::

        \\text{central: } \\frac{f(\\theta + \\epsilon e_i) - f(\\theta - \\epsilon e_i)}{2\\epsilon}
        \\quad (2P \\text{ calls}), \\qquad
        \\text{forward: } \\frac{f(\\theta + \\epsilon e_i) - f(\\theta)}{\\epsilon}
        \\quad (P + 1 \\text{ calls})

    Central differences are exact for quadratics; their error is :math:`O(\\epsilon^2)`
    against :math:`O(\\epsilon)` for forward differences, plus a rounding error of order
    :math:`u |f| / \\epsilon` (:math:`u \\approx 10^{-16}` in float64) for both. Compute in
    float64: in float32 (:math:`u \\approx 10^{-7}`) the rounding error swamps the estimate.

    Args:
        f: the function, called with an array of ``theta``'s shape (float64); returns a number.
        theta: the point, any shape; it is copied, never modified.
        epsilon: the step :math:`\\epsilon`, positive.
        method: ``"central"`` or ``"forward"``.

    Returns:
        The gradient, float64, with ``theta``'s shape.

    Example:
        >>> g = numerical_gradient(lambda t: float(np.sum(t**3)), np.array([1.0, 2.0]))
        >>> np.round(g, 6).tolist()
        [3.0, 12.0]
    """
    _checks.function("f", f, "a callable theta -> float")
    _check_step(epsilon, method)
    theta = _checks.array("theta", theta, dtype=np.float64)
    return _partials(f, theta, range(theta.size), epsilon, method).reshape(theta.shape)


def relative_error(analytic: np.ndarray, numerical: np.ndarray) -> float:
    """The relative error between two gradients, as gradient checks report it.

    .. math::

        e = \\frac{\\lVert g_a - g_n \\rVert_2}{\\lVert g_a \\rVert_2 + \\lVert g_n \\rVert_2}
        \\in [0, 1]

    Unlike the absolute error it does not depend on the scale of the loss, and unlike an
    entry-by-entry ratio it stays defined where both gradients are 0 (it is 0 when both
    are 0 everywhere). With central differences in float64, a correct gradient of a smooth
    function gives :math:`e \\lesssim 10^{-7}`; :math:`e > 10^{-3}` almost always means a bug.

    Args:
        analytic: the gradient under test, :math:`g_a`.
        numerical: the reference, :math:`g_n`, of the same shape.

    Returns:
        :math:`e` as a float.

    Example:
        >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
        0.0
        >>> round(relative_error(np.array([1.0]), np.array([2.0])), 4)   # a factor 2 wrong
        0.3333
    """
    # NaN or inf in a gradient is a finding (the error is then NaN), not a bad argument; an
    # empty pair (an empty group of parameters) agrees trivially.
    a = _checks.array("analytic", analytic, dtype=np.float64, min_size=0, finite=False)
    n = _checks.array("numerical", numerical, dtype=np.float64, min_size=0, finite=False)
    if a.shape != n.shape:
        _checks.fail("numerical", f"an array of the shape of `analytic` {a.shape}", numerical,
                     shown=_checks.shown(n))
    scale = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - n) / scale)


def gradient_check(f: Callable[[np.ndarray], float], grad: np.ndarray, theta: np.ndarray, *,
                   groups: Mapping[str, slice] | None = None, epsilon: float = 1e-6,
                   method: str = "central", sample: int | None = None, seed: int = 0,
                   tolerance: float = 1e-6) -> pd.DataFrame:
    """Compare an analytic gradient with central differences, group by group.

    For each group of parameters (a layer's weights, its biases) and for all of them
    together, the table reports :func:`relative_error` between ``grad`` and the numerical
    gradient of ``f``, the largest absolute difference and whether the error is below
    ``tolerance``. A bug in one layer's backward pass shows up as a large error in that
    layer's rows only.

    Args:
        f: the loss as a function of the flat parameter vector.
        grad: the analytic gradient at ``theta`` (flat, same length).
        theta: the flat parameter vector.
        groups: ``{name: slice of theta}``, e.g. :meth:`TwoLayerNet.groups`; ``None`` checks
            the vector as one group.
        epsilon: the finite-difference step.
        method: ``"central"`` or ``"forward"`` (see :func:`numerical_gradient`).
        sample: check only this many coordinates per group, drawn at random (large models);
            ``None`` checks every one.
        seed: seed of that draw.
        tolerance: the largest relative error that passes.

    Returns:
        A DataFrame indexed by group (plus ``"all"``), with columns ``size``, ``checked``,
        ``relative error``, ``max abs difference`` and ``passes``.

    Example:
        >>> f = lambda t: float(np.sum(t**2))
        >>> table = gradient_check(f, 2 * np.arange(3.0), np.arange(3.0))
        >>> bool(table.loc["all", "passes"])
        True
    """
    _checks.function("f", f, "a callable theta -> float")
    _check_step(epsilon, method)
    _checks.real("tolerance", tolerance, "a positive number", lambda v: v > 0)
    _checks.seed("seed", seed)
    theta = _checks.array("theta", theta, ndim=1, dtype=np.float64, accepted="a flat vector of finite numbers")
    grad = _checks.array("grad", grad, dtype=np.float64, finite=False)
    if grad.shape != theta.shape:
        _checks.fail("grad", f"an array of the shape of `theta` {theta.shape}", grad, shown=_checks.shown(grad))
    if groups is not None and not (isinstance(groups, Mapping)
                                   and all(isinstance(p, slice) for p in groups.values())):
        _checks.fail("groups", "None or a mapping {name: slice of theta}", groups, shown=_checks.shown(groups))
    if sample is not None:
        _checks.integer("sample", sample, minimum=1, accepted="None or a positive integer")
    groups = dict(groups) if groups is not None else {"all": slice(0, theta.size)}
    rng = np.random.default_rng(seed)
    rows, every_a, every_n = {}, [], []
    for name, part in groups.items():
        idx = np.arange(theta.size)[part]
        size = idx.size
        if sample is not None and sample < idx.size:
            idx = np.sort(rng.choice(idx, sample, replace=False))
        a, n = grad[idx], _partials(f, theta, idx, epsilon, method)
        rows[name] = _check_row(a, n, size, tolerance)
        every_a.append(a)
        every_n.append(n)
    if "all" not in rows:
        rows["all"] = _check_row(np.concatenate(every_a), np.concatenate(every_n), theta.size,
                                 tolerance)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("parameters")


def _check_row(a: np.ndarray, n: np.ndarray, size: int, tolerance: float) -> dict:
    error = relative_error(a, n)
    return {"size": size, "checked": a.size, "relative error": error,
            "max abs difference": float(np.max(np.abs(a - n), initial=0.0)),
            "passes": error <= tolerance}
