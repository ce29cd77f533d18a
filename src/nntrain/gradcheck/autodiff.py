"""Automatic differentiation in float64 under JAX, for checks against hand-written gradients.

TensorFlow differentiates float64 tensors as they come (``tf.GradientTape``). JAX keeps
every array in float32 unless 64-bit mode is on; :func:`jax_float64` turns it on for a
block only, so that the Keras models of the rest of a notebook are untouched. Colab's TPU
runtimes ship JAX without TensorFlow, which is where the labs use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["jax_float64"]


@contextlib.contextmanager
def jax_float64() -> Iterator[None]:
    """A block in which JAX computes in float64 (its 64-bit mode, restored on exit).

    Example:
        >>> with jax_float64():
        ...     grads = jax.grad(loss)(params)  # float64 params give float64 grads
    """
    import jax

    if hasattr(jax, "enable_x64"):  # JAX 0.8 and later
        switch = jax.enable_x64(True)
    else:  # earlier releases (Colab's TPU runtime had 0.7)
        from jax.experimental import enable_x64

        switch = enable_x64()
    with switch:
        yield
