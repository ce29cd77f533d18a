"""RMSProp: divide the gradient by a moving root mean square of recent gradients."""

from __future__ import annotations

import keras
from keras import ops

from ._base import _along_members, _config_value, _Optimizer, _positive, _unit_interval

__all__ = ["RMSProp"]


@keras.saving.register_keras_serializable(package="nntrain")
class RMSProp(_Optimizer):
    r"""RMSProp: scale each parameter's step by a moving RMS of its recent gradients.

    Like AdaGrad, each parameter gets its own rate, but the squared gradients are
    averaged with exponential decay :math:`\rho` (``rho``) instead of summed, so old
    gradients are forgotten and the rate does not shrink towards zero. With
    :math:`s` (``s``, zero at the start) the running mean of :math:`g^2`:

    .. math::

        s &\leftarrow \rho\, s + (1 - \rho)\, g^2 \\
        \theta &\leftarrow \theta - \frac{\eta\, g}{\sqrt{s + \epsilon}}

    The step is about :math:`\eta` times :math:`g / \mathrm{RMS}(g)`, of order
    :math:`\eta` whatever the scale of the gradient. This matches
    ``keras.optimizers.RMSprop`` with its defaults (``momentum=0``, ``centered=False``),
    :math:`\epsilon` under the root as there.

    Args:
        learning_rate: :math:`\eta > 0` (``lr``): a float, a
            ``keras.optimizers.schedules.LearningRateSchedule``, or a 1-D list with one
            rate per member. Defaults to ``0.001``.
        rho: :math:`\rho \in [0, 1)`, the decay of the moving average, or one value per
            member. Defaults to ``0.9``.
        epsilon: :math:`\epsilon > 0`, or one value per member. Defaults to ``1e-7``.
        **kwargs: Keras's optimizer arguments (``clipnorm``, ``global_clipnorm``,
            ``weight_decay``, ``name``, ...).

    Returns:
        A ``keras.optimizers.Optimizer`` to pass to ``model.compile``.

    Example:
        >>> import keras
        >>> import nntrain as nt
        >>> w = keras.Variable([1.0])
        >>> opt = nt.optimizers.RMSProp(learning_rate=0.1, rho=0.75)
        >>> opt.apply([keras.ops.convert_to_tensor([3.0])], [w])
        >>> keras.ops.convert_to_numpy(w)  # 1 - 0.1 * 3 / sqrt(0.25 * 9): a step of 2 * lr
        array([0.8], dtype=float32)

    References:
        Hinton, G., Srivastava, N. & Swersky, K. (2012). Neural networks for machine
        learning, lecture 6e: rmsprop. Coursera.
        https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf
    """

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _unit_interval("rho", rho)
        self.epsilon = _positive("epsilon", epsilon)
        self._count_members(rho=self.rho, epsilon=self.epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._mean_squares = self.add_optimizer_variables(var_list, "mean_square")

    def update_step(self, gradient, variable, learning_rate):
        g = ops.cast(gradient, variable.dtype)
        lr = self._lr(learning_rate, variable)
        rho = _along_members(self.rho, variable)
        one_minus_rho = _along_members(1 - self.rho, variable)  # 1 - rho in float64
        epsilon = _along_members(self.epsilon, variable)
        s = self._mean_squares[self._get_variable_index(variable)]
        self.assign(s, ops.add(ops.multiply(rho, s), ops.multiply(one_minus_rho, ops.square(g))))
        self.assign_sub(
            variable, ops.divide(ops.multiply(lr, g), ops.sqrt(ops.add(s, epsilon)))
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config["rho"] = _config_value(self.rho)
        config["epsilon"] = _config_value(self.epsilon)
        return config
