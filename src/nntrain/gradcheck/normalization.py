r"""Batch and layer normalization written out in NumPy: forward, backward, moving statistics.

Both layers standardize a pre-activation and then rescale it with two learned vectors,
:math:`\gamma` (scale) and :math:`\beta` (shift); they differ only in *what* the mean and
variance are taken over. For a batch :math:`x \in \mathbb{R}^{N \times D}` (one example per
row, one unit per column):

* batch normalization (Ioffe and Szegedy, 2015) standardizes each unit :math:`j` over the
  :math:`N` examples of the batch (``axis=0``);
* layer normalization (Ba, Kiros and Hinton, 2016) standardizes each example :math:`i` over
  its :math:`D` units (``axis=1``), so an example's output never depends on the rest of the
  batch, and training and inference compute the same thing.

The backward pass of both is one compact formula (:func:`batch_norm_backward`), the same
with the roles of the axes swapped. Everything is computed in float64, so that the
functions can be checked against finite differences (:func:`nntrain.gradcheck.gradient_check`)
and against Keras's ``BatchNormalization`` and ``LayerNormalization`` layers, whose
conventions they follow: the *biased* variance (divided by :math:`m`, not :math:`m - 1`),
:math:`\epsilon = 10^{-3}` inside the square root, and moving statistics
:math:`\text{moving} \leftarrow \text{momentum} \cdot \text{moving} + (1 - \text{momentum})
\cdot \text{batch}` with a momentum of 0.99.

References:
    Ioffe and Szegedy (2015), Batch normalization: accelerating deep network training by
    reducing internal covariate shift, https://arxiv.org/abs/1502.03167; Ba, Kiros and
    Hinton (2016), Layer normalization, https://arxiv.org/abs/1607.06450
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks

__all__ = [
    "NormCache",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_inference",
    "layer_norm_backward",
    "layer_norm_forward",
    "update_moving_statistics",
]

EPSILON = 1e-3    # Keras's default for both layers (PyTorch uses 1e-5)
MOMENTUM = 0.99   # Keras's default momentum of the moving statistics (PyTorch: 1 - 0.1)


@dataclass(frozen=True)
class NormCache:
    """What a forward pass keeps for its backward pass.

    Attributes:
        x_hat: the standardized input :math:`\\hat x`, shape ``(N, D)``.
        inv_std: :math:`1 / \\sqrt{\\sigma^2 + \\epsilon}`, shape ``(D,)`` for batch
            normalization, ``(N, 1)`` for layer normalization.
        gamma: the scale :math:`\\gamma`, shape ``(D,)``.
        mean: the mean :math:`\\mu` that was subtracted (same shape as ``inv_std``).
        variance: the biased variance :math:`\\sigma^2` (same shape as ``inv_std``).
        axis: the axis the statistics were taken over: 0 (batch) or 1 (layer).
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    axis: int


# ------------------------------------------------------------------------------ checks
def _array(name: str, value, ndim: int, shape: tuple | None = None) -> np.ndarray:
    """``value`` as a finite float64 array of ``ndim`` dimensions (and ``shape``); else fail."""
    accepted = (f"a finite real array of shape {shape}" if shape is not None
                else f"a finite real array of {ndim} dimension{'s' * (ndim > 1)}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _checks.fail(name, accepted, value)
    shown = f"array of shape {array.shape}" if array.ndim else None
    if array.ndim != ndim or (shape is not None and array.shape != shape) or array.size == 0:
        _checks.fail(name, accepted, value, shown=shown)
    if not np.all(np.isfinite(array)):
        _checks.fail(name, accepted, value, shown=f"{shown} holding inf or NaN")
    return array


def _inputs(x, gamma, beta, epsilon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    x = _array("x", x, 2)
    gamma = _array("gamma", gamma, 1, (x.shape[1],))
    beta = _array("beta", beta, 1, (x.shape[1],))
    epsilon = _checks.real("epsilon", epsilon, "a positive number", lambda v: v > 0)
    return x, gamma, beta, epsilon


def _cache(cache, axis: int, owner: str) -> NormCache:
    if not isinstance(cache, NormCache) or cache.axis != axis:
        _checks.fail("cache", f"the cache returned by {owner}", cache,
                     shown=type(cache).__name__ if not isinstance(cache, NormCache)
                     else f"NormCache(axis={cache.axis})")
    return cache


# ----------------------------------------------------------------------- the two passes
def _forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float,
             axis: int) -> tuple[np.ndarray, NormCache]:
    keep = axis == 1   # layer norm keeps (N, 1) statistics, to broadcast over the units
    mean = x.mean(axis=axis, keepdims=keep)
    variance = ((x - mean) ** 2).mean(axis=axis, keepdims=keep)   # biased: divided by m
    inv_std = 1.0 / np.sqrt(variance + epsilon)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, NormCache(x_hat, inv_std, gamma, mean, variance, axis)


def _backward(dout, cache: NormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dout = _array("dout", dout, 2, cache.x_hat.shape)
    x_hat, axis = cache.x_hat, cache.axis
    m = x_hat.shape[axis]                    # how many values share one mean and variance
    d_xhat = dout * cache.gamma              # the gradient reaching x_hat
    dx = cache.inv_std / m * (m * d_xhat - d_xhat.sum(axis=axis, keepdims=True)
                              - x_hat * (d_xhat * x_hat).sum(axis=axis, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def batch_norm_forward(x, gamma, beta, epsilon: float = EPSILON) -> tuple[np.ndarray, NormCache]:
    r"""Batch normalization in training mode: standardize every unit over the batch.

    For a mini-batch :math:`\mathcal{B} = \{x_1, \dots, x_m\}` of one unit's values
    (a column of ``x``, :math:`m = N`), Ioffe and Szegedy's Algorithm 1:

    .. math::

        \mu_\mathcal{B} = \frac{1}{m} \sum_{i=1}^{m} x_i, \qquad
        \sigma_\mathcal{B}^2 = \frac{1}{m} \sum_{i=1}^{m} (x_i - \mu_\mathcal{B})^2, \qquad
        \hat x_i = \frac{x_i - \mu_\mathcal{B}}{\sqrt{\sigma_\mathcal{B}^2 + \epsilon}}, \qquad
        y_i = \gamma \hat x_i + \beta .

    Args:
        x: the pre-activations, shape ``(N, D)``: ``N`` examples of ``D`` units.
        gamma: the scale :math:`\gamma`, shape ``(D,)``.
        beta: the shift :math:`\beta`, shape ``(D,)``.
        epsilon: :math:`\epsilon`, positive (Keras's default, 1e-3).

    Returns:
        ``(y, cache)``: the output, float64 of ``x``'s shape, and the :class:`NormCache`
        that :func:`batch_norm_backward` and :func:`update_moving_statistics` take.

    Example:
        >>> y, cache = batch_norm_forward(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1))
        >>> np.round(y.ravel(), 4).tolist(), cache.mean.tolist(), cache.variance.tolist()
        ([-0.9995, 0.9995], [2.0], [1.0])

    References:
        Ioffe and Szegedy (2015), https://arxiv.org/abs/1502.03167
    """
    return _forward(*_inputs(x, gamma, beta, epsilon), axis=0)


def batch_norm_backward(dout, cache: NormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The backward pass of :func:`batch_norm_forward`: the gradients of the loss
    :math:`\ell` with respect to ``x``, ``gamma`` and ``beta``.

    Every :math:`\hat x_i` depends on every :math:`x_k` of the batch through
    :math:`\mu_\mathcal{B}` and :math:`\sigma^2_\mathcal{B}`; summing the three paths of the
    chain rule (Ioffe and Szegedy's section 3) and simplifying gives, per unit,

    .. math::

        \frac{\partial \ell}{\partial \gamma} = \sum_{i=1}^{m} \frac{\partial \ell}{\partial y_i} \hat x_i,
        \qquad
        \frac{\partial \ell}{\partial \beta} = \sum_{i=1}^{m} \frac{\partial \ell}{\partial y_i},
        \qquad
        \frac{\partial \ell}{\partial x_i} = \frac{\gamma}{m \sqrt{\sigma_\mathcal{B}^2 + \epsilon}}
        \Big( m \frac{\partial \ell}{\partial y_i} - \sum_{k=1}^{m} \frac{\partial \ell}{\partial y_k}
        - \hat x_i \sum_{k=1}^{m} \frac{\partial \ell}{\partial y_k} \hat x_k \Big).

    The bracket removes from the incoming gradient its mean and its component along
    :math:`\hat x`: the two directions in which moving the batch does not change
    :math:`\hat x` at all.

    Args:
        dout: :math:`\partial \ell / \partial y`, the shape of the forward pass's ``x``.
        cache: the :class:`NormCache` :func:`batch_norm_forward` returned.

    Returns:
        ``(dx, dgamma, dbeta)``, float64, shapes ``(N, D)``, ``(D,)`` and ``(D,)``.

    Example:
        >>> x = np.array([[1.0, 0.0], [2.0, 5.0], [4.0, 1.0]])
        >>> y, cache = batch_norm_forward(x, np.ones(2), np.zeros(2))
        >>> dx, dgamma, dbeta = batch_norm_backward(np.ones_like(x), cache)
        >>> bool(np.abs(dx).max() < 1e-12), dbeta.tolist()   # a constant shift of y moves no x
        (True, [3.0, 3.0])

    References:
        Ioffe and Szegedy (2015), https://arxiv.org/abs/1502.03167
    """
    return _backward(dout, _cache(cache, 0, "batch_norm_forward"))


def layer_norm_forward(x, gamma, beta, epsilon: float = EPSILON) -> tuple[np.ndarray, NormCache]:
    r"""Layer normalization: standardize every example over its own units.

    For example :math:`i` with the :math:`H = D` summed inputs :math:`a_{i1}, \dots, a_{iH}`
    of a layer (a row of ``x``), Ba, Kiros and Hinton's equation (4), with Keras's
    :math:`\epsilon`:

    .. math::

        \mu_i = \frac{1}{H} \sum_{j=1}^{H} a_{ij}, \qquad
        \sigma_i^2 = \frac{1}{H} \sum_{j=1}^{H} (a_{ij} - \mu_i)^2, \qquad
        y_{ij} = \gamma_j \frac{a_{ij} - \mu_i}{\sqrt{\sigma_i^2 + \epsilon}} + \beta_j .

    Nothing depends on the other examples: the same function serves in training and at
    inference, and works for a batch of one.

    Args:
        x: the summed inputs, shape ``(N, D)``.
        gamma: the gain :math:`\gamma`, shape ``(D,)``.
        beta: the bias :math:`\beta`, shape ``(D,)``.
        epsilon: :math:`\epsilon`, positive (Keras's default, 1e-3).

    Returns:
        ``(y, cache)``, as for :func:`batch_norm_forward`; the cache's statistics have
        shape ``(N, 1)``.

    Example:
        >>> y, _ = layer_norm_forward(np.array([[1.0, 3.0]]), np.ones(2), np.zeros(2))
        >>> np.round(y, 4).tolist()
        [[-0.9995, 0.9995]]

    References:
        Ba, Kiros and Hinton (2016), https://arxiv.org/abs/1607.06450
    """
    return _forward(*_inputs(x, gamma, beta, epsilon), axis=1)


def layer_norm_backward(dout, cache: NormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The backward pass of :func:`layer_norm_forward`.

    The formula of :func:`batch_norm_backward` along the other axis, with the gain inside
    the sums because it now differs from term to term
    (:math:`g_{ij} = \gamma_j \, \partial \ell / \partial y_{ij}`):

    .. math::

        \frac{\partial \ell}{\partial a_{ij}} = \frac{1}{H \sqrt{\sigma_i^2 + \epsilon}}
        \Big( H g_{ij} - \sum_{k=1}^{H} g_{ik} - \hat a_{ij} \sum_{k=1}^{H} g_{ik} \hat a_{ik} \Big),
        \qquad
        \frac{\partial \ell}{\partial \gamma_j} = \sum_{i=1}^{N} \frac{\partial \ell}{\partial y_{ij}} \hat a_{ij},
        \qquad
        \frac{\partial \ell}{\partial \beta_j} = \sum_{i=1}^{N} \frac{\partial \ell}{\partial y_{ij}} .

    Args:
        dout: :math:`\partial \ell / \partial y`, the shape of the forward pass's ``x``.
        cache: the :class:`NormCache` :func:`layer_norm_forward` returned.

    Returns:
        ``(dx, dgamma, dbeta)``, float64, shapes ``(N, D)``, ``(D,)`` and ``(D,)``.

    Example:
        >>> y, cache = layer_norm_forward(np.array([[1.0, 2.0, 4.0]]), np.ones(3), np.zeros(3))
        >>> dx, _, _ = layer_norm_backward(np.ones((1, 3)), cache)
        >>> bool(np.abs(dx).max() < 1e-12)
        True

    References:
        Ba, Kiros and Hinton (2016), https://arxiv.org/abs/1607.06450
    """
    return _backward(dout, _cache(cache, 1, "layer_norm_forward"))


# ------------------------------------------------------------------------- inference
def update_moving_statistics(moving_mean, moving_variance, cache: NormCache,
                             momentum: float = MOMENTUM) -> tuple[np.ndarray, np.ndarray]:
    r"""One update of batch normalization's moving mean and variance, as Keras makes it.

    .. math::

        \mu_\text{moving} \leftarrow m\, \mu_\text{moving} + (1 - m)\, \mu_\mathcal{B}, \qquad
        \sigma^2_\text{moving} \leftarrow m\, \sigma^2_\text{moving} + (1 - m)\, \sigma^2_\mathcal{B}

    with the momentum :math:`m` and the batch's *biased* variance. (Ioffe and Szegedy average
    the unbiased :math:`\frac{m}{m - 1}\sigma^2_\mathcal{B}`; Keras, like this function, does
    not.) Keras starts from a mean of 0 and a variance of 1.

    Args:
        moving_mean: :math:`\mu_\text{moving}`, shape ``(D,)``.
        moving_variance: :math:`\sigma^2_\text{moving}`, shape ``(D,)``.
        cache: the cache of a :func:`batch_norm_forward` call on a batch of ``D`` units.
        momentum: :math:`m`, in :math:`[0, 1]` (Keras's default, 0.99).

    Returns:
        The new ``(moving_mean, moving_variance)``, float64; the inputs are not modified.

    Example:
        >>> _, cache = batch_norm_forward(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1))
        >>> update_moving_statistics(np.zeros(1), np.ones(1), cache, momentum=0.5)
        (array([1.]), array([1.]))
    """
    cache = _cache(cache, 0, "batch_norm_forward")
    shape = cache.mean.shape
    moving_mean = _array("moving_mean", moving_mean, 1, shape)
    moving_variance = _array("moving_variance", moving_variance, 1, shape)
    momentum = _checks.real("momentum", momentum, "a number in [0, 1]", lambda v: 0 <= v <= 1)
    return (momentum * moving_mean + (1 - momentum) * cache.mean,
            momentum * moving_variance + (1 - momentum) * cache.variance)


def batch_norm_inference(x, gamma, beta, moving_mean, moving_variance,
                         epsilon: float = EPSILON) -> np.ndarray:
    r"""Batch normalization at inference: standardize with the moving statistics.

    .. math::

        y = \gamma \frac{x - \mu_\text{moving}}{\sqrt{\sigma^2_\text{moving} + \epsilon}} + \beta

    Every example is now normalized by the same fixed numbers, so its output no longer
    depends on the rest of the batch (what ``training=False`` does in Keras).

    Args:
        x, gamma, beta, epsilon: as for :func:`batch_norm_forward`.
        moving_mean: :math:`\mu_\text{moving}`, shape ``(D,)``.
        moving_variance: :math:`\sigma^2_\text{moving}`, shape ``(D,)``, non-negative.

    Returns:
        The output, float64 of ``x``'s shape.

    Example:
        >>> batch_norm_inference(np.array([[2.0]]), np.ones(1), np.zeros(1), np.array([2.0]), np.ones(1))
        array([[0.]])
    """
    x, gamma, beta, epsilon = _inputs(x, gamma, beta, epsilon)
    moving_mean = _array("moving_mean", moving_mean, 1, gamma.shape)
    moving_variance = _array("moving_variance", moving_variance, 1, gamma.shape)
    if np.any(moving_variance < 0):
        _checks.fail("moving_variance", "a non-negative array", moving_variance,
                     shown=f"array with minimum {float(moving_variance.min())!r}")
    return gamma * (x - moving_mean) / np.sqrt(moving_variance + epsilon) + beta
