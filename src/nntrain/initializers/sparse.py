"""Sparse initialization (Martens, 2010)."""

from __future__ import annotations

import math

import keras

from .. import _checks
from ._base import _check_shape, _RandomInitializer

__all__ = ["Sparse"]


@keras.saving.register_keras_serializable(package="nntrain")
class Sparse(_RandomInitializer):
    r"""Each unit gets exactly ``k`` nonzero incoming weights; the rest are zero.

    For output unit :math:`j`, choose a set :math:`S_j` of :math:`k` of its
    :math:`n_{in}` inputs uniformly at random, then

    .. math::

        W_{ij} = \begin{cases} z_{ij} \sim \mathcal{N}(0, \sigma^2) & i \in S_j \\
                                0 & i \notin S_j \end{cases}, \qquad
        \operatorname{Var}(W) = \frac{k}{n_{in}} \sigma^2

    with :math:`\sigma` = ``stddev``. Unlike a dense rule, the size of a unit's input
    does not shrink as :math:`n_{in}` grows, yet units still differ (no symmetry).
    Martens used :math:`k = 15` and unit-variance weights (the defaults here).

    A convolution kernel :math:`(k_1, \dots, k_d, c_{in}, c_{out})` is flattened to
    :math:`(k_1 \cdots k_d\, c_{in}) \times c_{out}`: each output channel gets exactly
    ``k`` nonzeros among its :math:`n_{in} = k_1 \cdots k_d\, c_{in}` inputs.

    Args:
        k: the number of nonzero incoming weights per unit, :math:`1 \le k \le n_{in}`.
        stddev: :math:`\sigma \ge 0` of the nonzero weights.
        seed: an int (same tensor on every call), a ``keras.random.SeedGenerator``
            (new values on every call) or ``None``.

    Example:
        >>> w = Sparse(k=15, seed=0)((784, 256))    # 15 nonzeros in every column

    References:
        Martens, 2010, "Deep learning via Hessian-free optimization" (ICML),
        https://www.cs.toronto.edu/~jmartens/docs/Deep_HessianFree.pdf;
        Sutskever, Martens, Dahl & Hinton, 2013, https://proceedings.mlr.press/v28/sutskever13.html
    """

    def __init__(self, k: int = 15, stddev: float = 1.0, seed=None):
        self.k = _checks.integer("k", k, minimum=1)
        self.stddev = float(_checks.non_negative("stddev", stddev))
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _check_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "`shape` must have rank 2 or more for a sparse initializer. "
                f"Received: shape={shape}"
            )
        fan_in, units = math.prod(shape[:-1]), shape[-1]
        if self.k > fan_in:
            raise ValueError(
                f"`k` must be at most the fan-in {fan_in} of a tensor of shape {shape}. "
                f"Received: k={self.k}"
            )
        ops = keras.ops
        # One draw: slice 0 holds the weights, slice 1 random scores whose ranks pick
        # the k inputs of each unit (ranks of i.i.d. continuous scores are a uniformly
        # random permutation, so the top k form a uniformly random k-subset).
        draws = keras.random.normal((2, fan_in, units), dtype=dtype, seed=self.seed)
        ranks = ops.argsort(ops.argsort(draws[1], axis=0), axis=0)
        mask = ops.cast(ranks < self.k, draws.dtype)
        return ops.reshape(self.stddev * draws[0] * mask, shape)

    def get_config(self) -> dict:
        return {"k": self.k, "stddev": self.stddev, **super().get_config()}
