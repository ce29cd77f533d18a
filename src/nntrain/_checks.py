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

__all__ = ["array", "axes", "boolean", "choice", "examples", "fail", "frame", "function", "instance", "integer", "is_int",
           "is_real", "non_negative", "number", "positive", "real", "resolve_verbose", "seed", "sequence",
           "shown"]


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


def positive(name: str, value: object, accepted: str = "a positive number") -> int | float:
    """``value`` (an ``int`` stays an ``int``), if it is a finite number above 0; else :func:`fail`."""
    return number(name, value, accepted, lambda v: v > 0)


def non_negative(name: str, value: object, accepted: str = "a non-negative number") -> int | float:
    """``value`` (an ``int`` stays an ``int``), if it is a finite number of at least 0; else :func:`fail`."""
    return number(name, value, accepted, lambda v: v >= 0)


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


def shown(value: object) -> str:
    """A short description of ``value`` for ``Received:``: an array's shape, else its ``repr``
    (cut at 80 characters)."""
    shape = getattr(value, "shape", None)
    if shape is not None and not isinstance(value, np.generic):
        return f"<{type(value).__name__} of shape {tuple(shape)}>"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def boolean(name: str, value: object) -> bool:
    """``bool(value)``, if it is ``True`` or ``False`` (Python's or NumPy's); else :func:`fail`."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    fail(name, "True or False", value)


def seed(name: str, value: object, *, none: bool = False) -> int | None:
    """``value`` as an ``int``, if it is a non-negative integer (a random seed), or ``None``
    when ``none``; else :func:`fail`."""
    if none and value is None:
        return None
    return integer(name, value, minimum=0,
                   accepted="a non-negative integer" + (" or None" if none else ""))


def instance(name: str, value: object, types: type | tuple[type, ...], accepted: str) -> Any:
    """``value``, if it is an instance of ``types``; else :func:`fail` with ``accepted``."""
    if isinstance(value, types):
        return value
    fail(name, accepted, value, shown=shown(value))


def function(name: str, value: object, accepted: str = "a callable") -> Callable:
    """``value``, if it is callable; else :func:`fail`."""
    if callable(value):
        return value
    fail(name, accepted, value, shown=shown(value))


def array(name: str, value: object, *, ndim: int | Sequence[int] | None = None, min_size: int = 1,
          finite: bool = True, dtype: Any = float, accepted: str | None = None) -> np.ndarray:
    """``value`` as a NumPy array of ``dtype``, if it converts, has ``ndim`` dimensions (one of
    them, for a sequence), at least ``min_size`` elements and, with ``finite``, no NaN or inf;
    else :func:`fail`.

    ``accepted`` defaults to "a non-empty array of finite numbers" (with its dimensions).
    """
    dims = (ndim,) if isinstance(ndim, int) else tuple(ndim) if ndim is not None else None
    if accepted is None:
        where = "" if dims is None else " with " + " or ".join(map(str, dims)) + " dimensions"
        accepted = ("a non-empty array" if min_size else "an array") + where + (
            " of finite numbers" if finite else " of numbers")
    if isinstance(value, (str, bytes)) or value is None:
        fail(name, accepted, value, shown=shown(value))
    try:
        out = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        fail(name, accepted, value, shown=shown(value))
    if out.dtype == object:
        fail(name, accepted, value, shown=shown(value))
    if (dims is not None and out.ndim not in dims) or out.size < min_size:
        fail(name, accepted, value, shown=shown(out))
    if finite and out.dtype.kind in "fc" and not np.all(np.isfinite(out)):
        fail(name, accepted, value, shown=f"{shown(out)} holding NaN or inf")
    return out


def sequence(name: str, value: object, item: Callable[[Any], bool] | None = None, *, accepted: str,
             min_len: int = 1) -> list:
    """``list(value)``, if ``value`` is a list, tuple or other non-string sequence (or array) of
    at least ``min_len`` members, each passing ``item``; else :func:`fail` with ``accepted``."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        fail(name, accepted, value, shown=shown(value))
    try:
        members = list(value)
    except TypeError:
        fail(name, accepted, value, shown=shown(value))
    if len(members) < min_len:
        fail(name, accepted, value, shown=shown(value))
    if item is not None:
        for member in members:
            try:
                ok = item(member)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                fail(name, accepted, value, shown=shown(value))
    return members


def frame(name: str, value: object, columns: Sequence[str] = (), *, min_rows: int = 0,
          what: str = "a DataFrame") -> Any:
    """``value``, if it is a pandas DataFrame with ``columns`` and at least ``min_rows`` rows;
    else :func:`fail` naming what is missing."""
    import pandas as pd

    accepted = what + (f" with the columns {list(columns)}" if columns else "") + (
        f" and at least {min_rows} row{'s' if min_rows > 1 else ''}" if min_rows else "")
    if not isinstance(value, pd.DataFrame):
        fail(name, accepted, value, shown=shown(value))
    missing = [c for c in columns if c not in value.columns]
    if missing or len(value) < min_rows:
        fail(name, accepted, value,
             shown=f"<DataFrame of {len(value)} rows with columns {list(value.columns)}>")
    return value


def axes(name: str, value: object, *, none: bool = False) -> Any:
    """``value``, if it is a matplotlib Axes (or ``None`` when ``none``); else :func:`fail`."""
    if none and value is None:
        return None
    from matplotlib.axes import Axes

    return instance(name, value, Axes, "a matplotlib Axes" + (" or None" if none else ""))


def examples(x: object, y: object = None, *, names: tuple[str, str] = ("x", "y"),
             finite: bool = True) -> Any:
    """``np.asarray(x)`` (and ``np.asarray(y)``), if ``x`` is a non-empty array of numbers with
    one or more dimensions (``finite``: no NaN or inf) and ``y`` one with one row per row of
    ``x``; else :func:`fail`. Returns ``x`` or ``(x, y)``, their dtypes kept."""
    xa = array(names[0], x, finite=finite)
    if xa.ndim < 1:
        fail(names[0], "a non-empty array of examples", x, shown=shown(xa))
    if y is None:
        return np.asarray(x)
    ya = array(names[1], y, finite=finite)
    if ya.ndim < 1 or len(ya) != len(xa):
        fail(names[1], f"an array with one row per example of `{names[0]}` ({len(xa)})", y,
             shown=shown(ya))
    return np.asarray(x), np.asarray(y)
