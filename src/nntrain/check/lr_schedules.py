"""Checks for the lab "Learning-rate range test and schedules on the CNN"."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schedules import CosineRestarts
from ._core import Feedback, equal, register

# A good rate from a range test lies below the rate of the lowest smoothed loss (where the
# loss has stopped falling) by at least this factor ...
_BELOW_MINIMUM = 2.0
# ... and by at most this factor: further down, the loss of the test had barely moved, and a
# short run at such a rate spends most of its steps creeping (Smith 2017 reads the rate a
# decade below the minimum; these bounds accept a factor 3 either side of that).
_FAR_BELOW_MINIMUM = 30.0
# The restarts exercise: first period and growth factor of the schedule, and the steps shown.
_T0, _T_MUL, _SPAN = 100, 2.0, 1000


def _lowest_rate(frame: pd.DataFrame) -> float:
    """The learning rate at the lowest finite smoothed loss of a range test's record."""
    smoothed = frame["smoothed_loss"].to_numpy(float)
    index = int(np.argmin(np.where(np.isfinite(smoothed), smoothed, np.inf)))
    return float(frame["learning_rate"].iloc[index])


@register("lr_schedules.rate")
def _rate(answer: object) -> Feedback:
    """A rate read off the learner's own range test: ``(rate, frame)``."""
    try:
        rate, frame = answer
        rate = float(rate)
        frame["learning_rate"], frame["smoothed_loss"]
    except (TypeError, ValueError, KeyError, IndexError):
        return Feedback(False, "Pass a pair (rate, finder): your rate as a number and the "
                               "DataFrame that lr_finder.range_test returned.")
    if not np.isfinite(rate) or rate <= 0:
        return Feedback(False, "A learning rate is a positive number.")
    lowest = _lowest_rate(frame)
    if rate > lowest / _BELOW_MINIMUM:
        return Feedback(False, (
            "Too high: at this rate the smoothed loss has (nearly) stopped falling, and a bit "
            "further right it blows up. Find the rate of the lowest point of the smoothed "
            "curve and back off by about a factor 10."))
    if rate < lowest / _FAR_BELOW_MINIMUM:
        return Feedback(False, (
            "Too low: at this rate the loss of the test had barely started to fall, so "
            "training would creep. Look for where the smoothed curve is still falling steeply, "
            "about a decade left of its lowest point."))
    return Feedback(True, "Well done: the loss still falls fast at this rate, safely left of "
                          "the point where it stops falling.")


def _restart_steps() -> list[int]:
    """The steps in [1, _SPAN) at which CosineRestarts(1, _T0, _T_MUL) jumps back up."""
    schedule = CosineRestarts(1.0, first_decay_steps=_T0, t_mul=_T_MUL)
    values = np.asarray(schedule(np.arange(_SPAN, dtype="float32")), dtype=float)
    return [int(t) for t in np.flatnonzero(np.diff(values) > 0) + 1]


@register("lr_schedules.restarts")
def _restarts(answer: object) -> Feedback:
    """The steps below 1000 at which warm restarts with T0 = 100, t_mul = 2 restart."""
    try:
        steps = sorted(int(s) for s in answer)
    except (TypeError, ValueError):
        return Feedback(False, "Give a list of integer steps, e.g. [100, ...].")
    return equal(steps, _restart_steps(), hint=(
        "Period i lasts T_i = T_0 * t_mul**i steps and the next period starts where the "
        "previous one ends: add up the lengths of the periods."))
