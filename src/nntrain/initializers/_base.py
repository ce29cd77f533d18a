"""What every initializer here shares: fan computation, seed handling, argument checks."""

from __future__ import annotations

import math
import random as _python_random
from collections.abc import Sequence

import keras

from .._checks import is_int as _is_int

__all__ = ["compute_fans"]

# Keras draws the seed of an unseeded initializer the same way: one integer from Python's
# `random` in [1, 10**9], so `nt.setup()` (which seeds Python) makes it reproducible too.
_MAX_DEFAULT_SEED = 10**9


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    r"""Number of input and output units (fan-in, fan-out) of a weight tensor.

    Dense kernels have shape :math:`(n_{in}, n_{out})`. Convolution kernels use Keras's
    channels-last layout :math:`(k_1, \dots, k_d, c_{in}, c_{out})`; each output unit then
    sees :math:`k_1 \cdots k_d \, c_{in}` inputs:

    .. math::

        n_{in} = c_{in} \prod_{i=1}^{d} k_i, \qquad n_{out} = c_{out} \prod_{i=1}^{d} k_i.

    A bias (rank 1) has :math:`n_{in} = n_{out} = ` its length and a scalar has
    :math:`n_{in} = n_{out} = 1`, as in Keras.

    Args:
        shape: the tensor's shape, a sequence of non-negative integers.

    Returns:
        ``(fan_in, fan_out)`` as Python integers.

    Example:
        >>> compute_fans((3, 3, 64, 128))
        (576, 1152)

    References:
        Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html
    """
    shape = _check_shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field_size = math.prod(shape[:-2])  # 1 for a dense kernel
    return shape[-2] * receptive_field_size, shape[-1] * receptive_field_size


def _check_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """The shape as a tuple of Python ints, or a ValueError naming `shape`."""
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(_is_int(d) and d >= 0 for d in dims):
        raise ValueError(
            "`shape` must be a sequence of non-negative integers. " f"Received: shape={shape!r}"
        )
    return tuple(int(d) for d in dims)


class _RandomInitializer(keras.initializers.Initializer):
    """Seed handling shared by the random initializers, the way Keras's own do it.

    ``seed`` is an int (every call returns the same tensor), a
    ``keras.random.SeedGenerator`` (every call advances it: new values each time) or
    ``None`` (an int is drawn once from Python's ``random``).
    """

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = _python_random.randint(1, _MAX_DEFAULT_SEED)
        elif isinstance(seed, dict):  # a serialized SeedGenerator
            seed = keras.saving.deserialize_keras_object(seed)
        if not (_is_int(seed) or isinstance(seed, keras.random.SeedGenerator)):
            raise ValueError(
                "`seed` must be an integer, a `keras.random.SeedGenerator` or None. "
                f"Received: seed={self._init_seed!r}"
            )
        self.seed = int(seed) if _is_int(seed) else seed

    def get_config(self) -> dict:
        return {"seed": keras.saving.serialize_keras_object(self._init_seed)}
