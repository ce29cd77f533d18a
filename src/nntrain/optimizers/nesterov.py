"""Gradient descent with Nesterov momentum."""

from __future__ import annotations

import keras
from keras import ops

from ._base import _along_members
from .momentum import Momentum

__all__ = ["Nesterov"]


@keras.saving.register_keras_serializable(package="nntrain")
class Nesterov(Momentum):
    r"""Nesterov momentum: momentum whose gradient is taken after the coasting step.

    Sutskever et al. (2013) write Nesterov's accelerated gradient as momentum whose
    gradient is evaluated at the *look-ahead* point :math:`\theta_t + \alpha v_t`, where
    the velocity is about to carry the parameters anyway:

    .. math::

        v_{t+1} &= \alpha\, v_t - \eta\, \nabla f(\theta_t + \alpha v_t) \\
        \theta_{t+1} &= \theta_t + v_{t+1}

    A training loop has only the gradient at the parameters it stores. So store the
    look-ahead point instead: substitute :math:`\phi_t = \theta_t + \alpha v_t`. Then
    :math:`g_t = \nabla f(\phi_t)` is the ordinary gradient at the stored point, and

    .. math::

        \phi_{t+1} = \theta_{t+1} + \alpha v_{t+1}
                   = \underbrace{\theta_t + \alpha v_t}_{\phi_t}
                     + \underbrace{v_{t+1} - \alpha v_t}_{-\eta g_t}
                     + \alpha v_{t+1}
                   = \phi_t + \alpha v_{t+1} - \eta\, g_t .

    Renaming :math:`\phi` back to :math:`\theta` (``variable``) gives the rule this class
    (and ``keras.optimizers.SGD(momentum=alpha, nesterov=True)``) implements, which needs
    only :math:`g` (``g``) at the stored parameters:

    .. math::

        v &\leftarrow \alpha\, v - \eta\, g \\
        \theta &\leftarrow \theta + \alpha\, v - \eta\, g

    Compared with :class:`Momentum`, the step applies the *new* velocity once more,
    scaled by :math:`\alpha`, plus the fresh gradient step: it corrects course a step
    earlier. The two sequences differ only by :math:`\alpha v_t`, which vanishes as the
    method converges, so both reach the same minimum.

    Args:
        learning_rate: :math:`\eta > 0` (``lr``): a float, a
            ``keras.optimizers.schedules.LearningRateSchedule``, or a 1-D list with one
            rate per member. Defaults to ``0.01``.
        momentum: :math:`\alpha \in [0, 1)` (``alpha``), or a 1-D list with one value per
            member. Defaults to ``0.9``.
        **kwargs: Keras's optimizer arguments (``clipnorm``, ``global_clipnorm``,
            ``weight_decay``, ``name``, ...).

    Returns:
        A ``keras.optimizers.Optimizer`` to pass to ``model.compile``.

    Example:
        >>> import keras
        >>> import nntrain as nt
        >>> w = keras.Variable([1.0])
        >>> opt = nt.optimizers.Nesterov(learning_rate=0.1, momentum=0.9)
        >>> opt.apply([keras.ops.ones((1,))], [w])
        >>> keras.ops.convert_to_numpy(w)  # 1 + 0.9 * (-0.1) - 0.1
        array([0.81], dtype=float32)

    References:
        Nesterov, Y. (1983). A method for solving the convex programming problem with
        convergence rate O(1/k^2). *Soviet Mathematics Doklady* 27.

        Sutskever, I., Martens, J., Dahl, G. & Hinton, G. (2013). On the importance of
        initialization and momentum in deep learning. *ICML*.
        https://proceedings.mlr.press/v28/sutskever13.html
    """

    def update_step(self, gradient, variable, learning_rate):
        g = ops.cast(gradient, variable.dtype)
        lr = self._lr(learning_rate, variable)
        alpha = _along_members(self.momentum, variable)
        v = self._velocities[self._get_variable_index(variable)]
        self.assign(v, ops.subtract(ops.multiply(v, alpha), ops.multiply(g, lr)))
        self.assign_add(
            variable, ops.subtract(ops.multiply(v, alpha), ops.multiply(g, lr))
        )
