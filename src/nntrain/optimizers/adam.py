"""Adam: momentum and RMSProp, with bias correction."""

from __future__ import annotations

import keras
from keras import ops

from ._base import _along_members, _config_value, _Optimizer, _positive, _unit_interval

__all__ = ["Adam"]


@keras.saving.register_keras_serializable(package="nntrain")
class Adam(_Optimizer):
    r"""Adam: a moving mean of gradients divided by a moving RMS, both bias-corrected.

    Adam keeps two exponential moving averages per parameter, started at zero: the
    first moment :math:`m` (``m``, decay :math:`\beta_1`, ``beta_1``) and the second
    raw moment :math:`v` (``v``, decay :math:`\beta_2`, ``beta_2``) of the gradient
    :math:`g`. Because both start at zero they are biased towards zero early on, by the
    factors :math:`1 - \beta_1^t` and :math:`1 - \beta_2^t` at step :math:`t` (``t``,
    counted from 1). Algorithm 1 of Kingma & Ba divides the bias out of each moment,
    with step size :math:`\alpha` (``lr``):

    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
        \hat m &= m / (1 - \beta_1^t), \qquad \hat v = v / (1 - \beta_2^t) \\
        \theta &\leftarrow \theta - \alpha\, \hat m / (\sqrt{\hat v} + \epsilon)

    Keras, and this class, use the arrangement the paper gives just before its
    Section 2.1: fold both corrections into the step size :math:`\alpha_t`
    (``alpha_t``) and add a constant :math:`\hat\epsilon` (``epsilon``) to the
    *uncorrected* :math:`\sqrt{v}`:

    .. math::

        m &\leftarrow m + (1 - \beta_1)(g - m) \\
        v &\leftarrow v + (1 - \beta_2)(g^2 - v) \\
        \alpha_t &= \alpha\, \sqrt{1 - \beta_2^t} \,/\, (1 - \beta_1^t) \\
        \theta &\leftarrow \theta - \alpha_t\, m / (\sqrt{v} + \hat\epsilon)

    Substituting :math:`\hat m` and :math:`\hat v` into Algorithm 1's last line gives
    :math:`\alpha_t\, m / (\sqrt{v} + \epsilon\sqrt{1 - \beta_2^t})`: the two agree
    exactly when :math:`\hat\epsilon = \epsilon \sqrt{1 - \beta_2^t}`. With a constant
    :math:`\hat\epsilon` the first steps are damped a little more (at :math:`t = 1`,
    :math:`\beta_2 = 0.999`, it acts like :math:`\epsilon \approx 32\,\hat\epsilon`);
    otherwise the forms are the same, and this one saves two divisions per parameter.
    As :math:`m / \sqrt{v}` is of order one, every parameter moves by about
    :math:`\alpha` per step, whatever the scale of its gradient.

    Args:
        learning_rate: :math:`\alpha > 0`: a float, a
            ``keras.optimizers.schedules.LearningRateSchedule``, or a 1-D list with one
            rate per member. Defaults to ``0.001``.
        beta_1: :math:`\beta_1 \in [0, 1)`, or one value per member. Defaults to ``0.9``.
        beta_2: :math:`\beta_2 \in [0, 1)`, or one value per member. Defaults to
            ``0.999``.
        epsilon: :math:`\hat\epsilon > 0` (the paper's :math:`\hat\epsilon`, as in
            Keras), or one value per member. Defaults to ``1e-7`` (as Keras).
        **kwargs: Keras's optimizer arguments (``clipnorm``, ``global_clipnorm``,
            ``weight_decay``, ``name``, ...).

    Returns:
        A ``keras.optimizers.Optimizer`` to pass to ``model.compile``.

    Example:
        >>> import keras
        >>> import nntrain as nt
        >>> w = keras.Variable([1.0, 1.0])
        >>> opt = nt.optimizers.Adam(learning_rate=0.1)
        >>> opt.apply([keras.ops.convert_to_tensor([1e-2, 1e2])], [w])
        >>> keras.ops.convert_to_numpy(w).round(4)  # first step: lr * sign(g), any scale
        array([0.9, 0.9], dtype=float32)

    References:
        Kingma, D. P. & Ba, J. (2015). Adam: A method for stochastic optimization.
        *ICLR*. https://arxiv.org/abs/1412.6980
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _unit_interval("beta_1", beta_1)
        self.beta_2 = _unit_interval("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)
        self._count_members(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._v = self.add_optimizer_variables(var_list, ["m", "v"])

    def update_step(self, gradient, variable, learning_rate):
        g = ops.cast(gradient, variable.dtype)
        lr = self._lr(learning_rate, variable)
        beta_1 = _along_members(self.beta_1, variable)
        beta_2 = _along_members(self.beta_2, variable)
        one_minus_beta_1 = _along_members(1 - self.beta_1, variable)  # in float64
        one_minus_beta_2 = _along_members(1 - self.beta_2, variable)
        epsilon = _along_members(self.epsilon, variable)
        t = ops.cast(self.iterations + 1, variable.dtype)
        m = self._m[self._get_variable_index(variable)]
        v = self._v[self._get_variable_index(variable)]

        alpha_t = lr * ops.sqrt(1 - ops.power(beta_2, t)) / (1 - ops.power(beta_1, t))
        self.assign_add(m, ops.multiply(ops.subtract(g, m), one_minus_beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(g), v), one_minus_beta_2))
        self.assign_sub(variable, ops.divide(ops.multiply(m, alpha_t), ops.sqrt(v) + epsilon))

    def get_config(self) -> dict:
        config = super().get_config()
        config["beta_1"] = _config_value(self.beta_1)
        config["beta_2"] = _config_value(self.beta_2)
        config["epsilon"] = _config_value(self.epsilon)
        return config
