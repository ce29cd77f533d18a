r"""Shared machinery of the from-scratch optimizers: argument checks and per-member values.

Every optimizer in this folder subclasses :class:`_Optimizer`, which adds two things to
``keras.optimizers.Optimizer``:

* **Validation.** Hyperparameters are checked once, in ``__init__``, and a bad one raises
  ``ValueError`` naming the argument, the accepted values and ``Received: name=value``.
* **Members.** Any scalar hyperparameter may instead be a 1-D list with one value per
  *member*: the sweep engine trains :math:`K` models at once as one Keras model whose
  variables all carry a leading member axis of length :math:`K`. A vector value
  :math:`(c_1, \dots, c_K)` is reshaped to :math:`(K, 1, \dots, 1)` and broadcast along
  that axis, so member :math:`k` is updated exactly as if it had its own optimizer with
  the scalar :math:`c_k`.

Keras's base class keeps the learning rate in one scalar variable (``optimizer.learning_rate``,
read and set by callbacks such as ``ReduceLROnPlateau``). A vector learning rate therefore
lives in the subclass as a constant, and the base class holds a scalar *multiplier*, 1.0
unless a callback changes it: the rate used for member :math:`k` is
``optimizer.learning_rate`` times the :math:`k`-th value given.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import ops

__all__: list[str] = []  # private module: the optimizers are exported by the package

# What a hyperparameter is after validation: one float, or one float per member.
_Value = float | np.ndarray


def _check_value(
    name: str, value, accepted: str, is_valid: Callable[[np.ndarray], np.ndarray]
) -> _Value:
    """Return ``value`` as a float, or as a 1-D float64 array (one value per member).

    ``is_valid`` maps an array of candidate values to an array of booleans; ``accepted``
    describes the valid scalars in words for the error message.
    """
    message = (
        f"`{name}` must be {accepted}, or a 1-D list of such values (one per member). "
        f"Received: {name}={value}"
    )
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(message)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if array.ndim > 1 or array.size == 0:
        raise ValueError(message)
    if not (np.all(np.isfinite(array)) and np.all(is_valid(array))):
        raise ValueError(message)
    if array.ndim == 0:
        return float(array)
    return array


def _positive(name: str, value) -> _Value:
    """A value > 0 (``epsilon``)."""
    return _check_value(name, value, "a positive float", lambda x: x > 0)


def _non_negative(name: str, value) -> _Value:
    """A value >= 0 (``initial_accumulator_value``)."""
    return _check_value(name, value, "a non-negative float", lambda x: x >= 0)


def _unit_interval(name: str, value) -> _Value:
    """A decay rate in [0, 1) (``momentum``, ``rho``, ``beta_1``, ``beta_2``)."""
    return _check_value(name, value, "a float in [0, 1)", lambda x: (x >= 0) & (x < 1))


def _learning_rate(value) -> float | np.ndarray | keras.optimizers.schedules.LearningRateSchedule:
    """A positive float, a per-member vector of them, or a Keras schedule."""
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        return value
    return _check_value(
        "learning_rate",
        value,
        "a positive float or a `keras.optimizers.schedules.LearningRateSchedule`",
        lambda x: x > 0,
    )


def _config_value(value: _Value) -> float | list[float]:
    """A hyperparameter as it goes into ``get_config``: a float, or a list of floats."""
    return value.tolist() if isinstance(value, np.ndarray) else value


def _member_column(value: np.ndarray, rank: int) -> np.ndarray:
    """A per-member vector of length K reshaped to (K, 1, ..., 1), of the given rank."""
    return np.reshape(value, (len(value),) + (1,) * (rank - 1))


def _along_members(value: _Value, variable) -> object:
    r"""``value`` as a tensor of ``variable``'s dtype that broadcasts against ``variable``.

    A scalar stays a scalar. A vector of length :math:`K` is reshaped to
    :math:`(K, 1, \dots, 1)`, one value per slice of the leading (member) axis, and
    broadcast to the variable's full shape: under TensorFlow, Keras 3's ``ops.add``
    mistakes a :math:`(K, 1, \dots, 1)` operand for a bias on the *last* axis whenever
    :math:`K` equals the last (or second) dimension (it calls ``tf.nn.bias_add``), so a
    full-shape operand is the one that every ``keras.ops`` function broadcasts right.
    """
    if isinstance(value, (int, float, np.number)):
        # From the Python value straight to the variable's dtype: casting it would first
        # make a float32 tensor under TensorFlow, so that in float64 `1 - rho` would be
        # 0.10000000149 instead of 0.1 (Keras's own optimizers keep it exact).
        return ops.convert_to_tensor(value, dtype=variable.dtype)
    if not isinstance(value, np.ndarray):
        return ops.cast(value, variable.dtype)
    column = _member_column(value, len(variable.shape))
    return ops.broadcast_to(ops.convert_to_tensor(column, dtype=variable.dtype), variable.shape)


class _Optimizer(keras.optimizers.Optimizer):
    """Base of the nntrain optimizers: validated hyperparameters, per-member vectors.

    Subclasses call ``super().__init__(learning_rate, **kwargs)``, validate their own
    hyperparameters with the helpers above, then call ``self._count_members(...)`` with
    every hyperparameter, so that vectors of different lengths are caught at once.
    In ``update_step`` they use ``self._lr(learning_rate, variable)`` and
    ``_along_members(value, variable)``.
    """

    def __init__(self, learning_rate, **kwargs):
        learning_rate = _learning_rate(learning_rate)
        per_member = isinstance(learning_rate, np.ndarray)
        if per_member and kwargs.get("weight_decay") is not None:
            # Keras applies weight decay outside update_step with the scalar
            # `optimizer.learning_rate`, which cannot be broadcast per member.
            raise ValueError(
                "`weight_decay` must be None when `learning_rate` is a per-member "
                "vector. Received: weight_decay="
                f"{kwargs['weight_decay']}, learning_rate={learning_rate.tolist()}"
            )
        # With a vector, the base class holds the scalar multiplier 1.0 (see module doc).
        super().__init__(learning_rate=1.0 if per_member else learning_rate, **kwargs)
        self._member_learning_rate = learning_rate if per_member else None
        # K, the member count: the length of the vector hyperparameters, None if none is.
        self._members = len(learning_rate) if per_member else None

    def _count_members(self, **values: _Value) -> None:
        """Record the member count K shared by all vector hyperparameters."""
        values = {"learning_rate": self._member_learning_rate, **values}
        lengths = {n: len(v) for n, v in values.items() if isinstance(v, np.ndarray)}
        if len(set(lengths.values())) > 1:
            received = ", ".join(f"{n}={values[n].tolist()}" for n in lengths)
            raise ValueError(
                "Per-member hyperparameters must all have the same length (the number "
                f"of members). Received: {received}"
            )
        self._members = next(iter(lengths.values()), None)

    def build(self, variables):
        if self._members is not None:
            for variable in variables:
                if len(variable.shape) == 0 or variable.shape[0] != self._members:
                    raise ValueError(
                        f"With per-member hyperparameters for {self._members} members, "
                        f"every variable must have a leading axis of length "
                        f"{self._members}. Received: variable {variable.path!r} with "
                        f"shape={tuple(variable.shape)}"
                    )
        super().build(variables)

    def _lr(self, learning_rate, variable):
        """The learning rate for ``variable``: scalar, or one value per member."""
        lr = ops.cast(learning_rate, variable.dtype)
        if self._member_learning_rate is None:
            return lr
        return lr * _along_members(self._member_learning_rate, variable)

    def get_config(self) -> dict:
        config = super().get_config()
        if self._member_learning_rate is not None:
            # The base class reported its scalar multiplier; report the rates in use.
            multiplier = float(config["learning_rate"])
            config["learning_rate"] = (multiplier * self._member_learning_rate).tolist()
        return config
