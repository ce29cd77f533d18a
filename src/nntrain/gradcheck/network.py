"""The chapter's two-layer network, forward and backward pass written out in NumPy."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .. import _checks

__all__ = ["ACTIVATIONS", "TwoLayerNet"]

# name -> (f(z), f'(z) computed from z and a = f(z)). ReLU's derivative at 0 is taken as 0,
# as TensorFlow does.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (expit, lambda z, a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "linear": (lambda z: z, lambda z, a: np.ones_like(z)),
}


@dataclass(frozen=True)
class TwoLayerNet:
    """A two-layer network with a squared loss, forward and backward written out in NumPy.

    On a batch :math:`X \\in \\mathbb{R}^{n \\times d}` (one example per row) with targets
    :math:`Y \\in \\mathbb{R}^{n \\times k}`, weights stored as Keras stores them, inputs by
    outputs (:math:`W_1 \\in \\mathbb{R}^{d \\times m}`, :math:`W_2 \\in \\mathbb{R}^{m \\times k}`):

    .. math::

        Z_1 = X W_1 + b_1, \\quad A_1 = \\sigma_1(Z_1), \\quad
        Z_2 = A_1 W_2 + b_2, \\quad A_2 = \\sigma_2(Z_2), \\quad
        C = \\frac{1}{n} \\sum_{i=1}^{n} \\sum_{j=1}^{k} (A_{2,ij} - Y_{ij})^2

    and the backward pass, with :math:`\\Delta_l = \\partial C / \\partial Z_l`:

    .. math::

        \\Delta_2 = \\tfrac{2}{n} (A_2 - Y) \\odot \\sigma_2'(Z_2), \\quad
        \\frac{\\partial C}{\\partial W_2} = A_1^\\top \\Delta_2, \\quad
        \\frac{\\partial C}{\\partial b_2} = \\mathbf{1}^\\top \\Delta_2,

        \\Delta_1 = (\\Delta_2 W_2^\\top) \\odot \\sigma_1'(Z_1), \\quad
        \\frac{\\partial C}{\\partial W_1} = X^\\top \\Delta_1, \\quad
        \\frac{\\partial C}{\\partial b_1} = \\mathbf{1}^\\top \\Delta_1 .

    The parameters travel as one flat float64 vector ``theta`` (``W1, b1, W2, b2`` in that
    order), so :meth:`loss_and_grad` plugs into :func:`nntrain.descent.minimize` and
    :func:`numerical_gradient` unchanged.

    Args:
        n_in: inputs per example, :math:`d`.
        n_hidden: hidden units, :math:`m`.
        n_out: outputs, :math:`k`.
        hidden_activation: :math:`\\sigma_1`, a name in :data:`ACTIVATIONS`.
        output_activation: :math:`\\sigma_2`, a name in :data:`ACTIVATIONS` (``"linear"``
            for regression).

    Example:
        >>> net = TwoLayerNet(3, 4, 1)
        >>> theta = net.init(seed=0)
        >>> x, y = np.ones((5, 3)), np.zeros(5)
        >>> loss, grad = net.loss_and_grad(theta, x, y)
        >>> grad.shape == theta.shape == (net.n_params,) == (21,)
        True

    References:
        Rumelhart, Hinton and Williams (1986), https://doi.org/10.1038/323533a0
    """

    n_in: int
    n_hidden: int
    n_out: int
    hidden_activation: str = "sigmoid"
    output_activation: str = "sigmoid"

    def __post_init__(self) -> None:
        for name in ("n_in", "n_hidden", "n_out"):
            value = getattr(self, name)
            _checks.integer(name, value, minimum=1)
        for name in ("hidden_activation", "output_activation"):
            _checks.choice(name, getattr(self, name), sorted(ACTIVATIONS))

    @functools.cached_property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """``{"W1": (d, m), "b1": (m,), "W2": (m, k), "b2": (k,)}``."""
        d, m, k = self.n_in, self.n_hidden, self.n_out
        return {"W1": (d, m), "b1": (m,), "W2": (m, k), "b2": (k,)}

    @functools.cached_property
    def n_params(self) -> int:
        """The number of parameters, :math:`P = dm + m + mk + k`."""
        return sum(int(np.prod(s)) for s in self.shapes.values())

    def groups(self) -> dict[str, slice]:
        """Where each parameter array sits in ``theta``: ``{name: slice}``."""
        return dict(self._groups)

    @functools.cached_property
    def _groups(self) -> dict[str, slice]:
        sizes = [int(np.prod(s)) for s in self.shapes.values()]
        ends = np.cumsum(sizes)
        return {name: slice(int(end - size), int(end))
                for name, size, end in zip(self.shapes, sizes, ends)}

    def init(self, seed: int = 0) -> np.ndarray:
        """Weights drawn from :math:`\\mathcal{N}(0, 1/\\text{fan-in})` (LeCun et al., 1998),
        biases 0; returned as the flat vector ``theta``."""
        rng = np.random.default_rng(_checks.seed("seed", seed))
        parts = [rng.normal(0.0, 1.0 / np.sqrt(s[0]), s) if len(s) == 2 else np.zeros(s)
                 for s in self.shapes.values()]
        return np.concatenate([p.reshape(-1) for p in parts])

    def unflatten(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """The named arrays ``W1, b1, W2, b2`` (views of ``theta``, not copies)."""
        theta = np.asarray(theta)
        if theta.shape != (self.n_params,):
            raise ValueError(f"`theta` must be a flat vector of {self.n_params} parameters. "
                             f"Received: theta.shape={theta.shape}")
        return {name: theta[part].reshape(self.shapes[name])
                for name, part in self._groups.items()}

    def forward(self, theta: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The outputs :math:`A_2`, shape ``(n, k)``, and the cache the backward pass needs."""
        p, (f1, _), (f2, _) = self.unflatten(theta), *self._activations()
        x = self._inputs(x)
        z1 = x @ p["W1"] + p["b1"]
        a1 = f1(z1)
        z2 = a1 @ p["W2"] + p["b2"]
        a2 = f2(z2)
        return a2, {"x": x, "z1": z1, "a1": a1, "z2": z2, "a2": a2}

    def loss(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        """The squared loss :math:`C`: summed over outputs, averaged over examples."""
        return self._squared_loss(self.forward(theta, x)[0], y)

    def backward(self, theta: np.ndarray, cache: dict[str, np.ndarray], y: np.ndarray) -> np.ndarray:
        """The flat gradient :math:`\\partial C / \\partial \\theta` from a forward ``cache``."""
        p, (_, d1), (_, d2) = self.unflatten(theta), *self._activations()
        a2, n = cache["a2"], len(cache["a2"])
        delta2 = 2.0 / n * (a2 - self._targets(y, n)) * d2(cache["z2"], a2)
        delta1 = (delta2 @ p["W2"].T) * d1(cache["z1"], cache["a1"])
        grads = [cache["x"].T @ delta1, delta1.sum(0), cache["a1"].T @ delta2, delta2.sum(0)]
        return np.concatenate([g.reshape(-1) for g in grads])

    def loss_and_grad(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """``(C, dC/dtheta)``: one forward and one backward pass (a
        :data:`nntrain.descent.LossAndGrad`)."""
        a2, cache = self.forward(theta, x)
        return self._squared_loss(a2, y), self.backward(theta, cache, y)

    def _squared_loss(self, a2: np.ndarray, y: np.ndarray) -> float:
        return float(np.sum((a2 - self._targets(y, len(a2))) ** 2) / len(a2))

    def _activations(self) -> tuple[tuple[Callable, Callable], tuple[Callable, Callable]]:
        return ACTIVATIONS[self.hidden_activation], ACTIVATIONS[self.output_activation]

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        x = x.reshape(len(x), -1)  # images (n, h, w, c) become rows of pixels
        if x.shape[1] != self.n_in:
            raise ValueError(f"`x` must hold {self.n_in} features per example. "
                             f"Received: x.shape={x.shape}")
        return x

    def _targets(self, y: np.ndarray, n: int) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if y.size != n * self.n_out:
            raise ValueError(f"`y` must hold {self.n_out} target(s) for each of the {n} "
                             f"examples. Received: y.shape={y.shape}")
        return y.reshape(n, self.n_out)
