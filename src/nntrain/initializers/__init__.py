r"""Weight initializers, as real Keras initializers, with the rule each one follows.

- ``zeros``, ``constant``: :math:`W = c` (fine for biases; kernels stay symmetric).
- ``random_normal``, ``random_uniform``: a fixed scale, whatever the layer's size.
- ``variance_scaling``: :math:`\operatorname{Var}(W) = s / n`, and its presets
  ``xavier_uniform``/``xavier_normal`` (:math:`2 / (n_{in} + n_{out})`, Glorot & Bengio
  2010), ``he_uniform``/``he_normal`` (:math:`2 / n_{in}`, He et al. 2015) and
  ``lecun_uniform``/``lecun_normal`` (:math:`1 / n_{in}`, LeCun et al. 1998).
- ``orthogonal``: :math:`W^\top W = g^2 I` (Saxe et al. 2014).
- ``sparse``: exactly :math:`k` nonzero incoming weights per unit (Martens 2010).
- ``weight_selection`` and :func:`select_weights`: a sub-tensor of a larger model's
  weights (Xu et al. 2024).

Aliases for :func:`get`: ``glorot_uniform``, ``glorot_normal``, ``kaiming_uniform``,
``kaiming_normal``, ``zero``, and ``random``, which is ``random_normal`` with its
defaults (:math:`\mathcal{N}(0, 0.05^2)`, Keras's default).

Every "normal" here is an untruncated normal, so the variance is exactly the rule's
(``VarianceScaling(distribution="truncated_normal")`` gives Keras's rescaled truncated
normal, also with the exact variance).

Example:
    >>> import nntrain as nt
    >>> layer = keras.layers.Dense(16, kernel_initializer=nt.initializers.get("he_normal", seed=1))
"""

from __future__ import annotations

import inspect

import keras

from ._base import compute_fans
from .constant import Constant, Zeros
from .fixed_scale import RandomNormal, RandomUniform
from .orthogonal import Orthogonal
from .sparse import Sparse
from .variance_scaling import (
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    VarianceScaling,
    XavierNormal,
    XavierUniform,
)
from .weight_selection import WeightSelection, select_weights

__all__ = [
    "Constant",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "Sparse",
    "VarianceScaling",
    "WeightSelection",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "available",
    "compute_fans",
    "get",
    "select_weights",
]

_BY_NAME = {
    "zeros": Zeros,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "variance_scaling": VarianceScaling,
    "xavier_uniform": XavierUniform,
    "xavier_normal": XavierNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "sparse": Sparse,
    "weight_selection": WeightSelection,
}
_ALIASES = {
    "zero": "zeros",
    "glorot_uniform": "xavier_uniform",
    "glorot_normal": "xavier_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
    "random": "random_normal",
}
# Config dicts may also name a class ("HeNormal") or its registered name ("nntrain>HeNormal").
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}


def available() -> list[str]:
    """The canonical names :func:`get` accepts (aliases not included), sorted."""
    return sorted(_BY_NAME)


def _lookup(name: object):
    if not isinstance(name, str):
        return None
    name = name.removeprefix("nntrain>")
    return _BY_NAME.get(_ALIASES.get(name, name)) or _BY_CLASS_NAME.get(name)


def _construct(cls, kwargs: dict) -> keras.initializers.Initializer:
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as error:
        raise ValueError(
            f"`kwargs` must match {cls.__name__}{inspect.signature(cls)} ({error}). "
            f"Received: kwargs={kwargs}"
        ) from None
    return cls(**kwargs)


def get(identifier, **kwargs) -> keras.initializers.Initializer:
    """An initializer from a name, a config dict, a class or an instance.

    Args:
        identifier: a name from :func:`available` or an alias (``"glorot_uniform"``,
            ``"glorot_normal"``, ``"kaiming_uniform"``, ``"kaiming_normal"``, ``"zero"``,
            ``"random"``); an initializer class; an ``Initializer`` instance (returned as
            is); or a config dict, either ``{"class_name": name, "config": {...}}`` or
            the output of ``keras.saving.serialize_keras_object`` (Keras's own
            initializers included).
        **kwargs: constructor arguments, only with a name or a class, e.g. ``seed=1``.

    Returns:
        A ``keras.initializers.Initializer``.

    Example:
        >>> tuple(get("kaiming_normal", seed=0)((784, 256)).shape)
        (784, 256)
    """
    if isinstance(identifier, keras.initializers.Initializer) or isinstance(identifier, dict):
        if kwargs:
            raise ValueError(
                "`kwargs` can only be given with a name or a class, not with an instance "
                f"or a config dict. Received: kwargs={kwargs}"
            )
    if isinstance(identifier, keras.initializers.Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _lookup(identifier)
        if cls is None:
            raise ValueError(
                f"`identifier` must be one of {available()} or an alias in "
                f"{sorted(_ALIASES)}. Received: identifier={identifier!r}"
            )
        return _construct(cls, kwargs)
    if inspect.isclass(identifier) and issubclass(identifier, keras.initializers.Initializer):
        return _construct(identifier, kwargs)
    if isinstance(identifier, dict):
        module = identifier.get("module")
        cls = None
        if module is None or str(module).startswith("nntrain"):
            cls = _lookup(identifier.get("registered_name") or identifier.get("class_name"))
        if cls is not None:
            return cls.from_config(dict(identifier.get("config") or {}))
        try:
            obj = keras.saving.deserialize_keras_object(identifier)
        except (TypeError, ValueError) as error:
            obj = error
        if isinstance(obj, keras.initializers.Initializer):
            return obj
        raise ValueError(
            "`identifier` as a dict must be the config of an initializer (see "
            f"`available()`). Received: identifier={identifier!r}"
        )
    raise ValueError(
        "`identifier` must be a name, a config dict, an Initializer class or instance. "
        f"Received: identifier={identifier!r}"
    )
