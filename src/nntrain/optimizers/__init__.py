"""From-scratch Keras optimizers: SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam.

Each class is a real ``keras.optimizers.Optimizer`` (it overrides only ``build``,
``update_step`` and ``get_config``) and matches its Keras built-in step for step:

=============  ===============================================
nntrain        Keras built-in
=============  ===============================================
``SGD``        ``keras.optimizers.SGD()``
``Momentum``   ``keras.optimizers.SGD(momentum=0.9)``
``Nesterov``   ``keras.optimizers.SGD(momentum=0.9, nesterov=True)``
``AdaGrad``    ``keras.optimizers.Adagrad()``
``RMSProp``    ``keras.optimizers.RMSprop()``
``Adam``       ``keras.optimizers.Adam()``
=============  ===============================================

Every hyperparameter may also be a 1-D list with one value per *member*, for models
whose variables stack several members along their leading axis (see ``nntrain.sweeps``).

Example:
    >>> import nntrain as nt
    >>> nt.optimizers.available()
    ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam']
    >>> opt = nt.optimizers.get("adam", learning_rate=1e-2)
"""

from __future__ import annotations

import keras

from .. import _checks

from .adagrad import AdaGrad
from .adam import Adam
from .momentum import Momentum
from .nesterov import Nesterov
from .rmsprop import RMSProp
from .sgd import SGD

__all__ = [
    "SGD",
    "AdaGrad",
    "Adam",
    "Momentum",
    "Nesterov",
    "RMSProp",
    "available",
    "get",
]

# Lower-case names, in the order the course introduces them.
_BY_NAME: dict[str, type[keras.optimizers.Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def available() -> list[str]:
    """The names :func:`get` accepts, in the order the course introduces them.

    Returns:
        A list of lower-case names, e.g. ``["sgd", ..., "adam"]``.
    """
    return list(_BY_NAME)


def get(
    name_or_optimizer: str | keras.optimizers.Optimizer, **kwargs
) -> keras.optimizers.Optimizer:
    """An optimizer from its name (case-insensitive) and hyperparameters.

    Args:
        name_or_optimizer: one of :func:`available` (``"adam"``, ``"Adam"``, ...), or an
            optimizer instance, returned as it is (then ``kwargs`` must be empty).
        **kwargs: hyperparameters for the class, e.g. ``learning_rate=0.1``.

    Returns:
        A new optimizer, or the one passed in.

    Example:
        >>> import nntrain as nt
        >>> nt.optimizers.get("Momentum", momentum=0.5).momentum
        0.5
    """
    if isinstance(name_or_optimizer, keras.optimizers.Optimizer):
        if kwargs:
            raise ValueError(
                "Hyperparameters can only be given with an optimizer's name, not with "
                f"an optimizer instance. Received: name_or_optimizer={name_or_optimizer}, "
                f"kwargs={kwargs}"
            )
        return name_or_optimizer
    if isinstance(name_or_optimizer, str) and name_or_optimizer.lower() in _BY_NAME:
        return _BY_NAME[name_or_optimizer.lower()](**kwargs)
    _checks.fail("name_or_optimizer", f"one of {available()} or a `keras.optimizers.Optimizer`",
                 name_or_optimizer)


def _resolve(optimizer: object, name: str = "optimizer") -> keras.optimizers.Optimizer:
    """:func:`get` for an argument called ``name``: an instance as it is, a name made."""
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _BY_NAME:
        return _BY_NAME[optimizer.lower()]()
    _checks.fail(name, f"one of {available()} or a `keras.optimizers.Optimizer`", optimizer)
