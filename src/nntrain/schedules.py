"""Learning-rate schedules: the rate :math:`\\eta_t` as a function of the step :math:`t`.

Each schedule is a real ``keras.optimizers.schedules.LearningRateSchedule``: pass it to any
Keras optimizer as ``learning_rate=`` and the optimizer calls it with its iteration counter
before every update (the first update uses :math:`t = 0`). The rules are written with
``keras.ops`` and no Python branching on the step, so they run on the TensorFlow and JAX
backends, inside a compiled train step, and on a whole vector of steps at once (which is how
:func:`plot` draws them). Where Keras has the same rule the values agree with it (the tests
check ``ExponentialDecay``, ``CosineDecay``, ``PolynomialDecay(power=1)`` and
``CosineDecayRestarts``).

Example:
    >>> import keras
    >>> from nntrain import schedules
    >>> lr = schedules.LinearWarmup(schedules.CosineDecay(0.1, decay_steps=900), 100)
    >>> opt = keras.optimizers.SGD(learning_rate=lr)
    >>> ax = schedules.plot(lr, steps=1200)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from keras import ops

from . import _checks

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CosineDecay",
    "CosineRestarts",
    "ExponentialDecay",
    "LinearDecay",
    "LinearWarmup",
    "StepDecay",
    "plot",
]

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


def _fraction(name: str, value: Any) -> Any:
    return _checks.number(name, value, "a number in [0, 1]", lambda v: 0 <= v <= 1)


def _steps(name: str, value: object, minimum: int) -> int | float:
    """A number of steps: a whole number of at least ``minimum`` (``100.0`` is fine, 2.5 is not)."""
    accepted = "a positive whole number of steps" if minimum else "a non-negative whole number of steps"
    return _checks.number(name, value, accepted, lambda v: v >= minimum and float(v).is_integer())


class _Schedule(_LearningRateSchedule):
    """What the schedules of this module share: the step as a float tensor, and ``plot``."""

    @staticmethod
    def _float(x: Any) -> Any:
        # The backend's default float (float32): Keras's own schedules compute in it too.
        return ops.cast(x, keras.backend.floatx())

    def plot(self, steps: int, ax: Axes | None = None, label: str | None = None) -> Axes:
        """Plot this schedule over steps ``0, ..., steps - 1``; see :func:`plot`."""
        return plot(self, steps, ax=ax, label=label)


@keras.saving.register_keras_serializable(package="nntrain")
class StepDecay(_Schedule):
    """Step decay: multiply the rate by ``drop`` every ``step_size`` steps.

    .. math::

        \\eta_t = \\eta_0 \\, d^{\\lfloor t / s \\rfloor}

    with :math:`\\eta_0` = ``initial_learning_rate``, :math:`d` = ``drop`` and
    :math:`s` = ``step_size``. ResNet's schedule divides by 10 (``drop=0.1``) twice.

    Args:
        initial_learning_rate: :math:`\\eta_0 > 0`.
        drop: the factor :math:`d \\in (0, 1]` applied at each drop.
        step_size: :math:`s > 0`, the number of steps between drops.

    Returns:
        A schedule; ``schedule(t)`` is :math:`\\eta_t` as a float tensor.

    Example:
        >>> round(float(StepDecay(0.1, drop=0.5, step_size=10)(25)), 6)
        0.025

    References:
        He, Zhang, Ren and Sun (2016), Deep Residual Learning for Image Recognition,
        https://arxiv.org/abs/1512.03385
    """

    def __init__(self, initial_learning_rate: float, drop: float, step_size: int) -> None:
        super().__init__()
        self.initial_learning_rate = _checks.positive("initial_learning_rate", initial_learning_rate)
        self.drop = _checks.number("drop", drop, "a number in (0, 1]", lambda v: 0 < v <= 1)
        self.step_size = _steps("step_size", step_size, minimum=1)

    def __call__(self, step: Any) -> Any:
        t = self._float(step)
        drops = ops.floor(t / self.step_size)
        return self.initial_learning_rate * ops.power(self._float(self.drop), drops)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "drop": self.drop,
            "step_size": self.step_size,
        }


@keras.saving.register_keras_serializable(package="nntrain")
class ExponentialDecay(_Schedule):
    """Exponential decay: the rate shrinks by ``decay_rate`` every ``decay_steps`` steps.

    .. math::

        \\eta_t = \\eta_0 \\, \\gamma^{t / T}
        \\qquad \\text{or, with } \\texttt{staircase}, \\qquad
        \\eta_t = \\eta_0 \\, \\gamma^{\\lfloor t / T \\rfloor}

    with :math:`\\eta_0` = ``initial_learning_rate``, :math:`\\gamma` = ``decay_rate`` and
    :math:`T` = ``decay_steps``. Same rule as ``keras.optimizers.schedules.ExponentialDecay``.

    Args:
        initial_learning_rate: :math:`\\eta_0 > 0`.
        decay_steps: :math:`T > 0`.
        decay_rate: :math:`\\gamma > 0` (below 1 to decay).
        staircase: decay in discrete jumps every :math:`T` steps.

    Returns:
        A schedule; ``schedule(t)`` is :math:`\\eta_t` as a float tensor.

    Example:
        >>> round(float(ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)(200)), 6)
        0.025

    References:
        Goodfellow, Bengio and Courville (2016), Deep Learning, section 8.3,
        https://www.deeplearningbook.org/contents/optimization.html
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        super().__init__()
        self.initial_learning_rate = _checks.positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps("decay_steps", decay_steps, minimum=1)
        self.decay_rate = _checks.positive("decay_rate", decay_rate)
        if not isinstance(staircase, bool):
            raise ValueError(
                f"`staircase` must be True or False. Received: staircase={staircase!r}"
            )
        self.staircase = staircase

    def __call__(self, step: Any) -> Any:
        p = self._float(step) / self.decay_steps
        if self.staircase:  # a constructor flag, not a tensor: fine inside a traced step
            p = ops.floor(p)
        return self.initial_learning_rate * ops.power(self._float(self.decay_rate), p)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


@keras.saving.register_keras_serializable(package="nntrain")
class CosineDecay(_Schedule):
    """Cosine decay from ``initial_learning_rate`` to ``alpha * initial_learning_rate``.

    .. math::

        \\eta_t = \\eta_0 \\left( \\alpha + (1 - \\alpha) \\,
        \\tfrac{1}{2} \\left(1 + \\cos \\tfrac{\\pi \\min(t, T)}{T} \\right) \\right)

    with :math:`\\eta_0` = ``initial_learning_rate``, :math:`T` = ``decay_steps`` and the
    floor :math:`\\alpha` = ``alpha`` a fraction of :math:`\\eta_0`, as in
    ``keras.optimizers.schedules.CosineDecay``. After :math:`T` steps the rate stays at
    :math:`\\alpha \\eta_0`. This is one period of SGDR without restarts (see
    :class:`CosineRestarts`); add a warm-up with :class:`LinearWarmup`.

    Args:
        initial_learning_rate: :math:`\\eta_0 > 0`.
        decay_steps: :math:`T > 0`.
        alpha: :math:`\\alpha \\in [0, 1]`.

    Returns:
        A schedule; ``schedule(t)`` is :math:`\\eta_t` as a float tensor.

    Example:
        >>> round(float(CosineDecay(0.1, decay_steps=100)(50)), 6)
        0.05

    References:
        Loshchilov and Hutter (2017), SGDR: Stochastic Gradient Descent with Warm Restarts,
        https://arxiv.org/abs/1608.03983
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0) -> None:
        super().__init__()
        self.initial_learning_rate = _checks.positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps("decay_steps", decay_steps, minimum=1)
        self.alpha = _fraction("alpha", alpha)

    def __call__(self, step: Any) -> Any:
        t = ops.minimum(self._float(step), self.decay_steps)
        cosine = 0.5 * (1.0 + ops.cos(self._float(math.pi) * (t / self.decay_steps)))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
        }


@keras.saving.register_keras_serializable(package="nntrain")
class LinearDecay(_Schedule):
    """Linear decay from ``initial_learning_rate`` to ``end_learning_rate`` in ``decay_steps``.

    .. math::

        \\eta_t = (\\eta_0 - \\eta_T) \\left(1 - \\tfrac{\\min(t, T)}{T}\\right) + \\eta_T

    with :math:`\\eta_0` = ``initial_learning_rate``, :math:`\\eta_T` = ``end_learning_rate``
    and :math:`T` = ``decay_steps``; the rate stays at :math:`\\eta_T` after :math:`T` steps.
    Equal to ``keras.optimizers.schedules.PolynomialDecay(..., power=1.0)``.

    Args:
        initial_learning_rate: :math:`\\eta_0 > 0`.
        decay_steps: :math:`T > 0`.
        end_learning_rate: :math:`\\eta_T \\ge 0`.

    Returns:
        A schedule; ``schedule(t)`` is :math:`\\eta_t` as a float tensor.

    Example:
        >>> round(float(LinearDecay(0.1, decay_steps=100, end_learning_rate=0.01)(50)), 6)
        0.055

    References:
        Goodfellow, Bengio and Courville (2016), Deep Learning, equation 8.14,
        https://www.deeplearningbook.org/contents/optimization.html
    """

    def __init__(
        self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0
    ) -> None:
        super().__init__()
        self.initial_learning_rate = _checks.positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps("decay_steps", decay_steps, minimum=1)
        self.end_learning_rate = _checks.non_negative("end_learning_rate", end_learning_rate)

    def __call__(self, step: Any) -> Any:
        p = ops.minimum(self._float(step), self.decay_steps) / self.decay_steps
        eta_0, eta_T = self.initial_learning_rate, self.end_learning_rate
        return (eta_0 - eta_T) * (1 - p) + eta_T

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
        }


@keras.saving.register_keras_serializable(package="nntrain")
class LinearWarmup(_Schedule):
    """A linear warm-up from ``initial`` to a schedule's first value, then that schedule.

    .. math::

        \\eta_t = \\begin{cases}
            \\eta_{\\text{init}} + (\\eta'_0 - \\eta_{\\text{init}}) \\, t / W & t < W \\\\
            \\eta'_{t - W} & t \\ge W
        \\end{cases}

    with :math:`\\eta'` the wrapped schedule (``schedule_or_float``; a number is a constant
    schedule), :math:`W` = ``warmup_steps`` and :math:`\\eta_{\\text{init}}` = ``initial``.

    The wrapped schedule's step is **offset** by :math:`W`: it starts at its own step 0 when
    the warm-up ends, so its whole shape is kept, shifted right (a cosine decay over
    :math:`T` steps ends at step :math:`W + T`). This is Keras's choice for
    ``CosineDecay(warmup_target=..., warmup_steps=...)``, which
    ``LinearWarmup(CosineDecay(...), ...)`` reproduces. Goyal et al. count their step-decay
    epochs from the start of training instead; to reproduce that, shorten the wrapped
    schedule's first period by :math:`W`.

    Args:
        schedule_or_float: a ``LearningRateSchedule`` (ours or Keras's) or a positive number.
        warmup_steps: :math:`W \\ge 0`; 0 means no warm-up.
        initial: :math:`\\eta_{\\text{init}} \\ge 0`, the rate at step 0.

    Returns:
        A schedule; ``schedule(t)`` is :math:`\\eta_t` as a float tensor.

    Example:
        >>> round(float(LinearWarmup(0.1, warmup_steps=10)(5)), 6)
        0.05

    References:
        Goyal et al. (2017), Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour,
        https://arxiv.org/abs/1706.02677
    """

    def __init__(
        self,
        schedule_or_float: _LearningRateSchedule | float,
        warmup_steps: int,
        initial: float = 0.0,
    ) -> None:
        super().__init__()
        if not isinstance(schedule_or_float, _LearningRateSchedule):
            _checks.number(
                "schedule_or_float", schedule_or_float,
                "a LearningRateSchedule or a positive number", lambda v: v > 0,
            )
        self.schedule_or_float = schedule_or_float
        self.warmup_steps = _steps("warmup_steps", warmup_steps, minimum=0)
        self.initial = _checks.non_negative("initial", initial)

    def _after(self, t: Any) -> Any:
        """The wrapped schedule at (offset) step ``t``."""
        if isinstance(self.schedule_or_float, _LearningRateSchedule):
            return self._float(self.schedule_or_float(t))
        return ops.full_like(t, self.schedule_or_float)

    def __call__(self, step: Any) -> Any:
        t = self._float(step)
        target = self._after(ops.zeros_like(t))
        # max(W, 1) only guards the division when W = 0; the ramp is then never selected.
        ramp = (target - self.initial) * (t / max(self.warmup_steps, 1)) + self.initial
        # Clamping at 0 keeps the unselected branch finite during the warm-up.
        decay = self._after(ops.maximum(t - self.warmup_steps, 0.0))
        return ops.where(t < self.warmup_steps, ramp, decay)

    def get_config(self) -> dict[str, Any]:
        inner = self.schedule_or_float
        if isinstance(inner, _LearningRateSchedule):
            inner = keras.saving.serialize_keras_object(inner)
        return {
            "schedule_or_float": inner,
            "warmup_steps": self.warmup_steps,
            "initial": self.initial,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LinearWarmup:
        config = dict(config)
        if isinstance(config["schedule_or_float"], dict):
            config["schedule_or_float"] = keras.saving.deserialize_keras_object(
                config["schedule_or_float"]
            )
        return cls(**config)


@keras.saving.register_keras_serializable(package="nntrain")
class CosineRestarts(_Schedule):
    """Cosine decay with warm restarts (SGDR): periods that grow by ``t_mul``.

    Period :math:`i = 0, 1, \\dots` lasts :math:`T_i = T_0 \\, t_{mul}^{\\,i}` steps and peaks at
    :math:`m_{mul}^{\\,i} \\eta_0`. With :math:`T_{cur}` the steps since the last restart,

    .. math::

        \\eta_t = \\eta_0 \\left( \\alpha + (1 - \\alpha) \\, m_{mul}^{\\,i} \\,
        \\tfrac{1}{2} \\left(1 + \\cos \\tfrac{\\pi T_{cur}}{T_i} \\right) \\right),
        \\qquad i = \\left\\lfloor \\log_{t_{mul}} \\left(1 + \\tfrac{t}{T_0} (t_{mul} - 1)
        \\right) \\right\\rfloor

    (for :math:`t_{mul} = 1`, simply :math:`i = \\lfloor t / T_0 \\rfloor`), with
    :math:`\\eta_0` = ``initial_learning_rate``, :math:`T_0` = ``first_decay_steps`` and the
    floor :math:`\\alpha` = ``alpha``, a fraction of :math:`\\eta_0`. Same rule as
    ``keras.optimizers.schedules.CosineDecayRestarts``.

    Args:
        initial_learning_rate: :math:`\\eta_0 > 0`.
        first_decay_steps: :math:`T_0 > 0`, the length of the first period.
        t_mul: :math:`t_{mul} \\ge 1`, the growth of each period's length.
        m_mul: :math:`m_{mul} > 0`, the factor on each period's peak.
        alpha: :math:`\\alpha \\in [0, 1]`.

    Returns:
        A schedule; ``schedule(t)`` is :math:`\\eta_t` as a float tensor.

    Example:
        >>> s = CosineRestarts(0.1, first_decay_steps=10)
        >>> round(float(s(10)), 6), round(float(s(30)), 6)  # restarts at 10 and 30
        (0.1, 0.1)

    References:
        Loshchilov and Hutter (2017), SGDR: Stochastic Gradient Descent with Warm Restarts,
        https://arxiv.org/abs/1608.03983
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
    ) -> None:
        super().__init__()
        self.initial_learning_rate = _checks.positive("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _steps("first_decay_steps", first_decay_steps, minimum=1)
        # t_mul < 1 would make the periods sum to a finite length, after which i is undefined.
        self.t_mul = _checks.number("t_mul", t_mul, "a number >= 1", lambda v: v >= 1)
        self.m_mul = _checks.positive("m_mul", m_mul)
        self.alpha = _fraction("alpha", alpha)

    def __call__(self, step: Any) -> Any:
        fraction = self._float(step) / self.first_decay_steps  # t / T_0
        t_mul = self._float(self.t_mul)
        if self.t_mul == 1.0:  # constructor value, not a tensor: equal periods
            i = ops.floor(fraction)
            fraction = fraction - i
        else:  # geometric periods: T_0 (1 + t_mul + ... + t_mul^(i-1)) steps before period i
            i = ops.floor(ops.log(1.0 - fraction * (1.0 - t_mul)) / ops.log(t_mul))
            start = (1.0 - ops.power(t_mul, i)) / (1.0 - t_mul)
            fraction = (fraction - start) / ops.power(t_mul, i)  # T_cur / T_i
        cosine = 0.5 * ops.power(self._float(self.m_mul), i) * (
            1.0 + ops.cos(self._float(math.pi) * fraction)
        )
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
        }


def _values(schedule: Callable[[Any], Any], steps: np.ndarray) -> np.ndarray:
    """``schedule`` at every step, computed in one vectorized call."""
    t = ops.convert_to_tensor(steps)
    try:
        values = ops.convert_to_numpy(schedule(t))
    except Exception:  # noqa: BLE001 - e.g. Keras's warm-up CosineDecay: ops.cond needs a scalar
        values = None
    if values is None or np.shape(values) != steps.shape:
        # Map the scalar rule over the steps (jax.vmap / tf.vectorized_map), still one call.
        values = ops.convert_to_numpy(ops.vectorized_map(schedule, t))
    return np.asarray(values)


def plot(
    schedule: Callable[[Any], Any],
    steps: int,
    ax: Axes | None = None,
    label: str | None = None,
) -> Axes:
    """Plot a learning-rate schedule (ours, Keras's, or any ``step -> rate`` callable).

    Args:
        schedule: a ``LearningRateSchedule``, or any callable from a step to a rate written
            with ``keras.ops`` (it is called on a vector of steps, or mapped over them).
        steps: a positive integer; the schedule is drawn at steps ``0, ..., steps - 1``,
            one point per step.
        ax: the matplotlib ``Axes`` to draw on; a new figure when ``None``.
        label: the legend entry; with a label a legend is drawn, without one the line is
            labelled with the schedule's class name and no legend is added.

    Returns:
        The ``Axes``, with one line of ``steps`` points added.

    Example:
        >>> ax = plot(CosineRestarts(0.1, first_decay_steps=100), steps=700)
        >>> len(ax.lines[-1].get_xdata())
        700
    """
    _checks.function("schedule", schedule, "a LearningRateSchedule or a callable step -> learning rate")
    _checks.integer("steps", steps, minimum=1)
    _checks.axes("ax", ax, none=True)
    import matplotlib.pyplot as plt

    t = np.arange(int(steps))
    if ax is None:
        _, ax = plt.subplots()
    ax.plot(t, _values(schedule, t), label=label or type(schedule).__name__)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"learning rate $\eta_t$")
    if label is not None:
        ax.legend()
    return ax
