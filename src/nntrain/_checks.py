"""Argument checks shared by the package's modules (below floor 1: it imports nothing of nntrain).

Every check raises the same kind of error, built in one place (:func:`fail`)::

    ValueError: `name` must be <what is accepted>. Received: name=<the value>

so that a bad argument is always named, together with what it may be and what it was.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

__all__ = ["choice", "fail", "integer", "is_int", "is_real", "number", "real", "resolve_verbose"]


def fail(name: str, accepted: str, value: object, *, shown: str | None = None,
         owner: str | None = None) -> NoReturn:
    """Raise the package's ValueError for argument ``name``.

    Args:
        name: the argument, as the caller spelled it.
        accepted: what it may be, in words ("a positive integer").
        value: what it was; shown with ``repr`` unless ``shown`` is given (for values whose
            repr would be long, such as arrays).
        owner: what ``name`` belongs to, for a field of a record ("a Profile": "`seed` of a
            Profile must be ...").
    """
    received = shown if shown is not None else repr(value)
    where = f" of {owner}" if owner else ""
    raise ValueError(f"`{name}`{where} must be {accepted}. Received: {name}={received}")


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's), and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """Whether ``value`` is a finite real number (Python's or NumPy's), and not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def integer(name: str, value: object, *, minimum: int | None = None, accepted: str | None = None) -> int:
    """``value`` as an ``int``, if it is an integer of at least ``minimum``; else :func:`fail`.

    ``accepted`` defaults to "a positive integer" (``minimum=1``), "a non-negative integer"
    (``minimum=0``), "an integer >= m" or "an integer".
    """
    if is_int(value) and (minimum is None or value >= minimum):
        return int(value)
    if accepted is None:
        accepted = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}")
    fail(name, accepted, value)


def number(name: str, value: object, accepted: str, test: Callable[[Any], bool] | None = None) -> int | float:
    """``value`` as the Python number it is (an ``int`` stays an ``int``), if it is a finite
    real number passing ``test``; else :func:`fail` with ``accepted``."""
    if is_real(value) and (test is None or test(value)):
        return value.item() if isinstance(value, np.generic) else value
    fail(name, accepted, value)


def real(name: str, value: object, accepted: str = "a finite real number",
         test: Callable[[Any], bool] | None = None) -> float:
    """``float(value)``, if ``value`` is a finite real number passing ``test``; else :func:`fail`."""
    return float(number(name, value, accepted, test))


def choice(name: str, value: object, choices: Sequence[object]) -> Any:
    """``value``, if it is one of ``choices``; else :func:`fail` listing them."""
    try:
        if value in choices:
            return value
    except TypeError:  # an unhashable value compared with a set of choices
        pass
    fail(name, f"one of {list(choices)}", value)


def resolve_verbose(verbose: object, levels: Sequence[int], interactive: Callable[[], bool]) -> int:
    """Keras's ``verbose``: ``"auto"`` (1 at a live kernel or terminal, else 0) or one of ``levels``."""
    if isinstance(verbose, str) and verbose == "auto":
        return 1 if interactive() else 0
    if is_int(verbose) and verbose in levels:
        return int(verbose)
    fail("verbose", "'auto', " + ", ".join(map(str, levels[:-1])) + f" or {levels[-1]}", verbose)
