r"""SGD in which every member of a sweep follows its own learning-rate schedule.

:func:`nntrain.sweep` trains many members at once with per-member hyperparameters, but a
Keras optimizer holds one learning rate (or one schedule) for all. :class:`ScheduledSGD`
adds a per-member hyperparameter ``schedule``, an index into a list of schedules, so that
one sweep compares schedules (and learning rates, and seeds) on the same batches::

    shapes = [nt.schedules.CosineDecay(1.0, 500), nt.schedules.StepDecay(1.0, 0.1, 200)]
    nt.sweep("mlp", data, optimizer=ScheduledSGD(schedules=shapes),
             learning_rates=[0.1, 0.3], hyperparameters={"schedule": [0, 1]})
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from ..optimizers import SGD
from ..optimizers._base import _check_value, _config_value, _member_column

__all__ = ["ScheduledSGD"]

_Schedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="nntrain")
class ScheduledSGD(SGD):
    r"""SGD whose rate is a learning rate times the member's own schedule.

    Member :math:`k`, with learning rate :math:`\eta_k` and schedule index :math:`i_k`,
    takes the step

    .. math::

        \theta_k \leftarrow \theta_k - \eta_k \, s_{i_k}(t) \, g_k ,

    where :math:`s_0, s_1, \dots` are ``schedules`` used as *shapes*: build them with an
    initial learning rate of 1 so that :math:`\eta_k` is the peak rate. :math:`t` is the
    optimizer's step counter (0 for the first update), as for any Keras schedule. Without
    ``schedules`` every member keeps :math:`s(t) = 1` and this is :class:`nntrain.optimizers.SGD`.

    Args:
        learning_rate: :math:`\eta`: a positive float, or one per member (a 1-D list).
        schedules: the shapes :math:`s_i`: ``keras.optimizers.schedules.LearningRateSchedule``
            instances (the course's :mod:`nntrain.schedules` or Keras's), or ``None`` for
            the constant :math:`s(t) = 1`.
        schedule: the index :math:`i` of the shape to follow: an integer in
            ``[0, len(schedules))``, or one per member. Defaults to ``0``.
        **kwargs: Keras's optimizer arguments (``clipnorm``, ``name``, ...).

    Returns:
        A ``keras.optimizers.Optimizer``.

    Example:
        >>> import nntrain as nt
        >>> opt = ScheduledSGD(learning_rate=[0.1, 0.1],
        ...                    schedules=[nt.schedules.StepDecay(1.0, 0.1, 1)], schedule=[0, 0])

    References:
        Robbins, H. & Monro, S. (1951). A stochastic approximation method. *The Annals of
        Mathematical Statistics* 22(3). https://doi.org/10.1214/aoms/1177729586
    """

    def __init__(
        self,
        learning_rate=0.01,
        schedules: Sequence[_Schedule] = (),
        schedule=0,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if isinstance(schedules, _Schedule) or not isinstance(schedules, Sequence) or not all(
            s is None or isinstance(s, _Schedule) for s in schedules
        ):
            raise ValueError(
                "`schedules` must be a list of keras.optimizers.schedules.LearningRateSchedule "
                f"instances or None (constant). Received: schedules={schedules!r}")
        self.schedules = tuple(schedules)
        count = max(len(self.schedules), 1)
        self.schedule = _check_value(
            "schedule", schedule, f"an integer index in [0, {count})",
            lambda v: (v >= 0) & (v < count) & (v == np.round(v)))
        self._count_members(schedule=self.schedule)

    def _shape(self, variable):
        """:math:`s_{i_k}(t)` in ``variable``'s dtype, broadcast along its member axis."""
        if not self.schedules:
            return ops.cast(1.0, variable.dtype)
        values = ops.stack([ops.cast(1.0 if s is None else s(self.iterations), variable.dtype)
                            for s in self.schedules])
        if not isinstance(self.schedule, np.ndarray):
            return values[int(self.schedule)]
        index = _member_column(self.schedule.astype("int32"), len(variable.shape))
        picked = ops.take(values, ops.convert_to_tensor(index))
        return ops.broadcast_to(picked, variable.shape)

    def update_step(self, gradient, variable, learning_rate):
        rate = ops.cast(learning_rate, variable.dtype) * self._shape(variable)
        super().update_step(gradient, variable, rate)

    def get_config(self) -> dict:
        config = super().get_config()
        config["schedules"] = [None if s is None else keras.saving.serialize_keras_object(s)
                               for s in self.schedules]
        config["schedule"] = _config_value(self.schedule)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> ScheduledSGD:
        config = dict(config)
        config["schedules"] = [
            keras.saving.deserialize_keras_object(s, custom_objects=custom_objects)
            if isinstance(s, dict) else s for s in config.get("schedules", ())]
        return super().from_config(config, custom_objects=custom_objects)
