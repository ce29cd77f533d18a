"""Checks for the exercises: a learner's answer in, "right" or "not yet, with a hint" out.

Each chapter or lab registers its exercises in its own module of this folder (one file per
notebook, e.g. ``check/backprop.py``), so the expected answers are computed in the
package, tested there, and never printed in the notebook a learner is working in::

    import nntrain as nt
    nt.check.exercise("backprop.chain-rule", answer)      # shows ✔ or ✘ with a hint

A checker is a function of the answer that returns :class:`Feedback`; the helpers
:func:`close` and :func:`equal` build it for numbers, arrays and choices.
"""

from ._core import Feedback, available, close, equal, exercise, register

__all__ = ["Feedback", "available", "close", "equal", "exercise", "register"]
