"""Deterministic initializers: every weight gets the same value."""

from __future__ import annotations

import keras

from .. import _checks

__all__ = ["Constant", "Zeros"]


@keras.saving.register_keras_serializable(package="nntrain")
class Constant(keras.initializers.Initializer):
    r"""Every weight equals ``value``.

    .. math::

        W_{ij} = c, \qquad \mathbb{E}[W] = c, \qquad \operatorname{Var}(W) = 0.

    All units of a layer then compute the same function and receive the same gradient,
    so gradient descent never tells them apart (the *symmetry* problem): a constant is a
    fine bias but a poor kernel.

    Args:
        value: the constant :math:`c`, a finite real number.

    Example:
        >>> w = Constant(0.1)((2, 3))     # a 2x3 tensor of 0.1

    References:
        Goodfellow, Bengio & Courville, 2016, *Deep Learning*, section 8.4,
        https://www.deeplearningbook.org/contents/optimization.html
    """

    def __init__(self, value: float = 0.0):
        self.value = _checks.real("value", value)

    def __call__(self, shape, dtype=None):
        return keras.ops.full(shape, self.value, dtype=keras.backend.standardize_dtype(dtype))

    def get_config(self) -> dict:
        return {"value": self.value}


@keras.saving.register_keras_serializable(package="nntrain")
class Zeros(Constant):
    r"""Every weight is zero: :math:`W_{ij} = 0`.

    The usual bias initializer. As a kernel it keeps every hidden unit identical (and,
    with ReLU or tanh, every gradient of the weights below zero), so the network stays
    at its starting point.

    Example:
        >>> b = Zeros()((16,))

    References:
        Goodfellow, Bengio & Courville, 2016, *Deep Learning*, section 8.4,
        https://www.deeplearningbook.org/contents/optimization.html
    """

    def __init__(self):
        super().__init__(value=0.0)

    def get_config(self) -> dict:
        return {}
