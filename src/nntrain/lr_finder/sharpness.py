r"""The sharpness of a loss: the largest eigenvalue of its Hessian, by power iteration.

On a quadratic, gradient descent is stable exactly when :math:`\eta < 2/\lambda_{\max}`.
A network's loss is not a quadratic, but near any point it is approximately one, with the
Hessian :math:`H = \nabla^2 L(\theta)` as its curvature; :func:`sharpness` measures that
curvature's largest eigenvalue without ever forming :math:`H`.
"""

from __future__ import annotations

import keras
import numpy as np

from .. import _checks
from ..diagnostics import gradients

__all__ = ["sharpness"]


def _flat(arrays) -> np.ndarray:
    return np.concatenate([np.ravel(a).astype(np.float64) for a in arrays])


def _assign(variables, start: list[np.ndarray], direction: np.ndarray, scale: float) -> None:
    """Set ``variables`` to ``start + scale * direction`` (``direction`` flat)."""
    offset = 0
    for variable, value in zip(variables, start):
        size = value.size
        step = direction[offset:offset + size].reshape(value.shape)
        variable.assign((value + scale * step).astype(value.dtype))
        offset += size


def sharpness(
    model: keras.Model,
    x,
    y,
    iterations: int = 20,
    epsilon: float = 1e-3,
    seed: int = 0,
    loss=None,
) -> float:
    r"""The largest-magnitude eigenvalue :math:`\lambda_{\max}` of the loss's Hessian.

    Power iteration on Hessian-vector products, each one a central difference of two
    gradients (:func:`nntrain.diagnostics.gradients`, so it runs on every backend):

    .. math::

        H v \approx \frac{\nabla L(\theta + \epsilon v) - \nabla L(\theta - \epsilon v)}{2 \epsilon},
        \qquad v_{k+1} = \frac{H v_k}{\lVert H v_k \rVert}, \qquad
        \lambda_{\max} \approx v_k^\top H v_k ,

    starting from a random unit vector :math:`v_0` (``seed``). The error of the difference
    is :math:`O(\epsilon^2)`; the iteration converges at the rate
    :math:`|\lambda_2 / \lambda_1|^k` of the two largest eigenvalues, so a few tens of
    iterations give the leading digits. The model's weights are restored afterwards.

    Args:
        model: a built Keras model.
        x, y: the batch on which the loss is measured.
        iterations: the number of Hessian-vector products, at least 1.
        epsilon: :math:`\epsilon > 0`, the length of the difference step in weight space.
        seed: seed of the starting vector.
        loss: the loss, as for :func:`nntrain.diagnostics.gradients` (``None``: the
            model's compiled loss, else one chosen from ``y``).

    Returns:
        The Rayleigh quotient :math:`v^\top H v` of the last iterate (a float; negative
        if the dominant curvature is negative).

    Example:
        >>> lam = sharpness(model, data.x_train[:256], data.y_train[:256])
        >>> 2 / lam          # the largest stable rate of the local quadratic model

    References:
        Cohen, J. M., Kaur, S., Li, Y., Kolter, J. Z. & Talwalkar, A. (2021). Gradient
        descent on neural networks typically occurs at the edge of stability. *ICLR*.
        https://arxiv.org/abs/2103.00065
    """
    _checks.instance("model", model, keras.Model, "a built Keras model")
    x, y = _checks.examples(x, y)
    _checks.integer("iterations", iterations, minimum=1, accepted="an integer >= 1")
    _checks.real("epsilon", epsilon, "a positive number", lambda v: v > 0)
    _checks.seed("seed", seed)
    variables = model.trainable_variables
    start = [keras.ops.convert_to_numpy(v) for v in variables]
    direction = np.random.default_rng(seed).standard_normal(sum(a.size for a in start))
    direction /= np.linalg.norm(direction)
    value = 0.0
    try:
        for _ in range(int(iterations)):
            _assign(variables, start, direction, epsilon)
            plus = _flat(gradients(model, x, y, loss).values())
            _assign(variables, start, direction, -epsilon)
            minus = _flat(gradients(model, x, y, loss).values())
            product = (plus - minus) / (2 * epsilon)
            value = float(direction @ product)
            norm = np.linalg.norm(product)
            if not np.isfinite(norm) or norm == 0:
                break
            direction = product / norm
    finally:
        _assign(variables, start, direction, 0.0)
    return value
