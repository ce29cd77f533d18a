"""Random initializers whose scale is given explicitly, whatever the layer's size."""

from __future__ import annotations

import keras

from .. import _checks
from ._base import _RandomInitializer

__all__ = ["RandomNormal", "RandomUniform"]


@keras.saving.register_keras_serializable(package="nntrain")
class RandomNormal(_RandomInitializer):
    r"""Independent Gaussian weights with a fixed mean and standard deviation.

    .. math::

        W_{ij} \sim \mathcal{N}(\mu, \sigma^2), \qquad
        \mathbb{E}[W] = \mu, \qquad \operatorname{Var}(W) = \sigma^2

    with :math:`\mu` = ``mean`` and :math:`\sigma` = ``stddev``. The scale ignores the
    layer's fan-in, so the variance of the activations grows or shrinks by a factor
    :math:`n_{in} \sigma^2` per layer: the problem the variance-scaling rules solve.

    Args:
        mean: :math:`\mu`, a finite real number.
        stddev: :math:`\sigma \ge 0` (default 0.05, Keras's default).
        seed: an int (same tensor on every call), a ``keras.random.SeedGenerator``
            (new values on every call) or ``None``.

    Example:
        >>> w = RandomNormal(stddev=0.01, seed=0)((784, 256))

    References:
        LeCun, Bottou, Orr & Mueller, 1998, "Efficient BackProp", section 4.6,
        https://link.springer.com/chapter/10.1007/3-540-49430-8_2
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed=None):
        self.mean = _checks.real("mean", mean)
        self.stddev = float(_checks.non_negative("stddev", stddev))
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return keras.random.normal(
            shape, mean=self.mean, stddev=self.stddev, dtype=dtype, seed=self.seed
        )

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@keras.saving.register_keras_serializable(package="nntrain")
class RandomUniform(_RandomInitializer):
    r"""Independent uniform weights on :math:`[a, b)`.

    .. math::

        W_{ij} \sim \mathcal{U}(a, b), \qquad
        \mathbb{E}[W] = \frac{a + b}{2}, \qquad
        \operatorname{Var}(W) = \frac{(b - a)^2}{12}

    with :math:`a` = ``minval`` and :math:`b` = ``maxval``.

    Args:
        minval: :math:`a`, the lower bound (default -0.05, Keras's default).
        maxval: :math:`b > a`, the upper bound (default 0.05).
        seed: an int, a ``keras.random.SeedGenerator`` or ``None`` (see
            :class:`RandomNormal`).

    Example:
        >>> w = RandomUniform(-0.1, 0.1, seed=0)((784, 256))

    References:
        LeCun, Bottou, Orr & Mueller, 1998, "Efficient BackProp", section 4.6,
        https://link.springer.com/chapter/10.1007/3-540-49430-8_2
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed=None):
        self.minval = _checks.real("minval", minval)
        self.maxval = _checks.real("maxval", maxval)
        if not self.maxval > self.minval:
            raise ValueError(
                "`maxval` must be greater than `minval`. "
                f"Received: minval={minval!r}, maxval={maxval!r}"
            )
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return keras.random.uniform(
            shape, minval=self.minval, maxval=self.maxval, dtype=dtype, seed=self.seed
        )

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}
