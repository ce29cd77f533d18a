"""Plain (stochastic) gradient descent."""

from __future__ import annotations

import keras
from keras import ops

from ._base import _Optimizer

__all__ = ["SGD"]


@keras.saving.register_keras_serializable(package="nntrain")
class SGD(_Optimizer):
    r"""Gradient descent: step against the gradient, scaled by the learning rate.

    Each step moves every parameter :math:`\theta` (``variable``) against its gradient
    :math:`g` (``g``) by the learning rate :math:`\eta` (``lr``):

    .. math::

        \theta \leftarrow \theta - \eta\, g

    With mini-batch gradients this is stochastic gradient descent (Robbins & Monro, 1951).
    It matches ``keras.optimizers.SGD()`` (``momentum=0``).

    Args:
        learning_rate: :math:`\eta > 0`: a float, a
            ``keras.optimizers.schedules.LearningRateSchedule``, or a 1-D list with one
            rate per member (variables then carry a leading member axis). Defaults to
            ``0.01`` (as Keras).
        **kwargs: Keras's optimizer arguments (``clipnorm``, ``clipvalue``,
            ``global_clipnorm``, ``weight_decay``, ``use_ema``, ``name``, ...).

    Returns:
        A ``keras.optimizers.Optimizer`` to pass to ``model.compile``.

    Example:
        >>> import keras
        >>> import nntrain as nt
        >>> w = keras.Variable([1.0, -2.0])
        >>> opt = nt.optimizers.SGD(learning_rate=0.1)
        >>> opt.apply([keras.ops.convert_to_tensor([1.0, 1.0])], [w])
        >>> keras.ops.convert_to_numpy(w)
        array([ 0.9, -2.1], dtype=float32)

    References:
        Robbins, H. & Monro, S. (1951). A stochastic approximation method. *The Annals
        of Mathematical Statistics* 22(3). https://doi.org/10.1214/aoms/1177729586
    """

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        g = ops.cast(gradient, variable.dtype)
        lr = self._lr(learning_rate, variable)
        self.assign_sub(variable, ops.multiply(g, lr))
