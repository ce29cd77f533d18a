"""AdaGrad: per-parameter learning rates from the sum of squared gradients."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ._base import (
    _along_members,
    _config_value,
    _member_column,
    _non_negative,
    _Optimizer,
    _positive,
)

__all__ = ["AdaGrad"]


@keras.saving.register_keras_serializable(package="nntrain")
class AdaGrad(_Optimizer):
    r"""AdaGrad: divide each parameter's step by the root of its summed squared gradients.

    Every parameter gets its own learning rate. An accumulator :math:`G` (``G``) adds up
    the squared gradients :math:`g^2` (element-wise), starting from
    :math:`G_0` (``initial_accumulator_value``); the step is :math:`\eta` (``lr``)
    divided by :math:`\sqrt{G}`:

    .. math::

        G &\leftarrow G + g^2 \\
        \theta &\leftarrow \theta - \frac{\eta\, g}{\sqrt{G + \epsilon}}

    Parameters with large or frequent gradients slow down; rarely updated ones (e.g.
    embeddings of rare words) keep large steps. As :math:`G` only grows, every rate
    decays roughly like :math:`1/\sqrt{t}`, which can stop training too early on deep
    networks (RMSProp and Adam replace the sum by a moving average). Duchi et al. write
    :math:`\eta g / (\delta + \sqrt{G})` with :math:`G_0 = 0`; Keras (and this class)
    puts :math:`\epsilon` (``epsilon``) under the root and starts at :math:`G_0 = 0.1`,
    so that the first steps are not :math:`\eta\, \mathrm{sign}(g)`.

    Args:
        learning_rate: :math:`\eta > 0`: a float, a
            ``keras.optimizers.schedules.LearningRateSchedule``, or a 1-D list with one
            rate per member. Defaults to ``0.001`` (as Keras; AdaGrad often wants more).
        initial_accumulator_value: :math:`G_0 \ge 0`, or one value per member. Defaults
            to ``0.1`` (as Keras).
        epsilon: :math:`\epsilon > 0`, or one value per member. Defaults to ``1e-7``.
        **kwargs: Keras's optimizer arguments (``clipnorm``, ``global_clipnorm``,
            ``weight_decay``, ``name``, ...).

    Returns:
        A ``keras.optimizers.Optimizer`` to pass to ``model.compile``.

    Example:
        >>> import keras
        >>> import nntrain as nt
        >>> w = keras.Variable([1.0])
        >>> opt = nt.optimizers.AdaGrad(learning_rate=0.5, initial_accumulator_value=0.0)
        >>> opt.apply([keras.ops.convert_to_tensor([2.0])], [w])
        >>> keras.ops.convert_to_numpy(w)  # 1 - 0.5 * 2 / sqrt(4)
        array([0.5], dtype=float32)

    References:
        Duchi, J., Hazan, E. & Singer, Y. (2011). Adaptive subgradient methods for
        online learning and stochastic optimization. *JMLR* 12.
        https://www.jmlr.org/papers/v12/duchi11a.html
    """

    def __init__(
        self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = _non_negative(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.epsilon = _positive("epsilon", epsilon)
        self._count_members(
            initial_accumulator_value=self.initial_accumulator_value,
            epsilon=self.epsilon,
        )

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        G_0 = self.initial_accumulator_value
        if isinstance(G_0, np.ndarray):  # one G_0 per member, along the leading axis

            def initializer(shape, dtype=None):
                column = _member_column(G_0, len(shape))
                return ops.cast(np.broadcast_to(column, shape), dtype)

        else:
            initializer = keras.initializers.Constant(G_0)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=initializer
        )

    def update_step(self, gradient, variable, learning_rate):
        g = ops.cast(gradient, variable.dtype)
        lr = self._lr(learning_rate, variable)
        epsilon = _along_members(self.epsilon, variable)
        G = self._accumulators[self._get_variable_index(variable)]
        self.assign_add(G, ops.square(g))
        self.assign_sub(
            variable, ops.divide(ops.multiply(lr, g), ops.sqrt(ops.add(G, epsilon)))
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config["initial_accumulator_value"] = _config_value(self.initial_accumulator_value)
        config["epsilon"] = _config_value(self.epsilon)
        return config
