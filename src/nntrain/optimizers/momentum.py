"""Gradient descent with (heavy-ball) momentum."""

from __future__ import annotations

import keras
from keras import ops

from ._base import _along_members, _config_value, _Optimizer, _unit_interval

__all__ = ["Momentum"]


@keras.saving.register_keras_serializable(package="nntrain")
class Momentum(_Optimizer):
    r"""Momentum: a velocity accumulates past gradients and moves the parameters.

    A velocity :math:`v` (``v``, zero at the start) keeps a decaying sum of past steps;
    the momentum :math:`\alpha` (``alpha``) sets how much of it survives each step:

    .. math::

        v &\leftarrow \alpha\, v - \eta\, g \\
        \theta &\leftarrow \theta + v

    On a steady slope the step grows to :math:`\eta g / (1 - \alpha)` (10x for
    :math:`\alpha = 0.9`); across a narrow valley the alternating gradients cancel in
    :math:`v`, damping the zig-zag of plain gradient descent. With :math:`\alpha = 0` it is
    :class:`SGD`. This is Keras's arrangement, ``keras.optimizers.SGD(momentum=alpha)``.

    Args:
        learning_rate: :math:`\eta > 0` (``lr``): a float, a
            ``keras.optimizers.schedules.LearningRateSchedule``, or a 1-D list with one
            rate per member. Defaults to ``0.01``.
        momentum: :math:`\alpha \in [0, 1)`, or a 1-D list with one value per member.
            Defaults to ``0.9``.
        **kwargs: Keras's optimizer arguments (``clipnorm``, ``global_clipnorm``,
            ``weight_decay``, ``name``, ...).

    Returns:
        A ``keras.optimizers.Optimizer`` to pass to ``model.compile``.

    Example:
        >>> import keras
        >>> import nntrain as nt
        >>> w = keras.Variable([1.0])
        >>> opt = nt.optimizers.Momentum(learning_rate=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.apply([keras.ops.ones((1,))], [w])
        >>> keras.ops.convert_to_numpy(w)  # steps 0.1, then 0.9 * 0.1 + 0.1
        array([0.71], dtype=float32)

    References:
        Polyak, B. T. (1964). Some methods of speeding up the convergence of iteration
        methods. *USSR Computational Mathematics and Mathematical Physics* 4(5).
        https://doi.org/10.1016/0041-5553(64)90137-5

        Sutskever, I., Martens, J., Dahl, G. & Hinton, G. (2013). On the importance of
        initialization and momentum in deep learning. *ICML*.
        https://proceedings.mlr.press/v28/sutskever13.html
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = _unit_interval("momentum", momentum)
        self._count_members(momentum=self.momentum)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        g = ops.cast(gradient, variable.dtype)
        lr = self._lr(learning_rate, variable)
        alpha = _along_members(self.momentum, variable)
        v = self._velocities[self._get_variable_index(variable)]
        self.assign(v, ops.subtract(ops.multiply(v, alpha), ops.multiply(g, lr)))
        self.assign_add(variable, v)

    def get_config(self) -> dict:
        config = super().get_config()
        config["momentum"] = _config_value(self.momentum)
        return config
