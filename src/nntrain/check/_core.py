"""The registry of exercise checkers and the feedback they give."""

from __future__ import annotations

import html
import importlib
import pkgutil
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import _checks

__all__ = ["Feedback", "available", "close", "equal", "exercise", "register"]

Checker = Callable[[object], "Feedback"]
_REGISTRY: dict[str, Checker] = {}


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``correct`` and a message (the hint when wrong).

    It is truthy when the answer is right, prints as one line, and renders as a coloured
    line in a notebook.
    """

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return ("✔ Correct. " if self.correct else "✘ Not yet. ") + self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#009E73" if self.correct else "#D55E00"  # Okabe-Ito green / vermillion
        return f'<p style="color:{colour};font-weight:600">{html.escape(str(self))}</p>'


def register(name: str) -> Callable[[Checker], Checker]:
    """Register ``checker(answer) -> Feedback`` under ``name`` (``"<notebook>.<exercise>"``).

    Example:
        >>> @register("demo.two")
        ... def _two(answer):
        ...     return close(answer, 2.0, hint="1 + 1")
        >>> bool(exercise("demo.two", 2))
        True
    """
    if not isinstance(name, str) or "." not in name:
        raise ValueError(
            f"`name` must be a string '<notebook>.<exercise>'. Received: name={name!r}")

    def decorate(checker: Checker) -> Checker:
        _REGISTRY[name] = checker
        return checker

    return decorate


def available() -> list[str]:
    """The names of every registered exercise."""
    _load_all()
    return sorted(_REGISTRY)


def exercise(name: str, answer: object) -> Feedback:
    """Check ``answer`` to the exercise ``name`` and return the :class:`Feedback`.

    An answer of the wrong kind (a string where a number is due, a wrong shape) or no answer
    at all (``None``, what a student copy of a lab starts with) is a wrong answer with a hint,
    not an error; only an unknown exercise name raises.

    Args:
        name: the exercise, ``"<notebook>.<exercise>"``; see :func:`available`.
        answer: the learner's answer.

    Returns:
        The :class:`Feedback`.
    """
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(
            f"`name` must be one of {sorted(_REGISTRY)}. Received: name={name!r}")
    return _REGISTRY[name](answer)


def close(answer: object, expected: object, *, hint: str, rtol: float = 1e-4,
          atol: float = 1e-8) -> Feedback:
    """Right when ``answer`` equals ``expected`` within tolerance, in value and shape.

    Args:
        answer: a number or array-like.
        expected: the right value (number or array-like).
        hint: what to say when the answer is wrong.
        rtol: relative tolerance, as in :func:`numpy.allclose`.
        atol: absolute tolerance.

    Returns:
        The :class:`Feedback`.
    """
    rtol = _checks.non_negative("rtol", rtol)
    atol = _checks.non_negative("atol", atol)
    expected = np.asarray(expected, dtype=float)
    if answer is None:  # a student copy's stub (`answer = None`), not yet replaced
        return Feedback(False, f"There is no answer yet (it is None). {hint}")
    try:
        value = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return Feedback(False, f"The answer should be a number or an array of numbers, not "
                               f"{type(answer).__name__}. {hint}")
    if value.shape != expected.shape:
        return Feedback(False, f"The answer has shape {value.shape}; the exercise asks for shape "
                               f"{expected.shape}. {hint}")
    if not np.all(np.isfinite(value)):
        return Feedback(False, f"The answer contains NaN or inf. {hint}")
    if np.allclose(value, expected, rtol=rtol, atol=atol):
        return Feedback(True, "Well done.")
    return Feedback(False, hint)


def equal(answer: object, expected: object, *, hint: str) -> Feedback:
    """Right when ``answer == expected`` (choices, strings, integers); strings compare
    case- and space-insensitively."""
    def norm(x):
        return " ".join(x.lower().split()) if isinstance(x, str) else x

    try:
        right = bool(norm(answer) == norm(expected))
    except (TypeError, ValueError):
        right = False
    return Feedback(True, "Well done.") if right else Feedback(False, hint)


def _load_all() -> None:
    """Import every checker module of this folder, so their exercises are registered."""
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__package__}.{info.name}")
