"""Orthogonal initialization (Saxe et al., 2014)."""

from __future__ import annotations

import math

import keras

from .. import _checks
from ._base import _check_shape, _RandomInitializer

__all__ = ["Orthogonal"]


@keras.saving.register_keras_serializable(package="nntrain")
class Orthogonal(_RandomInitializer):
    r"""A (scaled) random orthogonal matrix, uniform over the orthogonal group.

    Draw :math:`A \in \mathbb{R}^{m \times n}` (:math:`m \ge n`) with i.i.d.
    :math:`\mathcal{N}(0, 1)` entries, factor :math:`A = QR` and fix the signs:

    .. math::

        Q \leftarrow Q \, \operatorname{diag}(\operatorname{sign}(\operatorname{diag}(R))),
        \qquad W = g \, Q, \qquad W^\top W = g^2 I_n

    with :math:`g` = ``gain``. Without the sign correction the QR routine's sign
    convention biases :math:`Q`; with it, :math:`Q` is Haar-distributed (Mezzadri, 2007).
    A wide matrix (:math:`m < n`) is the transpose of a tall one, so its rows are
    orthonormal: :math:`W W^\top = g^2 I_m`. Every singular value of :math:`W` equals
    :math:`g`, so a deep linear network keeps the norm of its signal and gradients.

    A convolution kernel :math:`(k_1, \dots, k_d, c_{in}, c_{out})` is flattened to the
    matrix :math:`(k_1 \cdots k_d\, c_{in}) \times c_{out}` (all axes but the last), made
    orthogonal, and reshaped back.

    Args:
        gain: :math:`g > 0`, the multiplicative factor.
        seed: an int (same tensor on every call), a ``keras.random.SeedGenerator``
            (new values on every call) or ``None``.

    Example:
        >>> w = Orthogonal(gain=1.0, seed=0)((256, 128))   # w.T @ w == I

    References:
        Saxe, McClelland & Ganguli, 2014, https://arxiv.org/abs/1312.6120;
        Mezzadri, 2007, "How to generate random matrices from the classical compact
        groups", https://arxiv.org/abs/math-ph/0609050
    """

    def __init__(self, gain: float = 1.0, seed=None):
        self.gain = float(_checks.positive("gain", gain))
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _check_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "`shape` must have rank 2 or more for an orthogonal initializer. "
                f"Received: shape={shape}"
            )
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        tall = (max(num_rows, num_cols), min(num_rows, num_cols))
        a = keras.random.normal(tall, dtype=dtype, seed=self.seed)
        q, r = keras.ops.qr(a)
        q = q * keras.ops.sign(keras.ops.diagonal(r))  # scales column j by sign(R_jj)
        if num_rows < num_cols:
            q = keras.ops.transpose(q)
        return self.gain * keras.ops.reshape(q, shape)

    def get_config(self) -> dict:
        return {"gain": self.gain, **super().get_config()}
