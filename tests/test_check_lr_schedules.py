"""The learning-rate schedules lab's checkers accept the solutions and reject wrong answers."""

import numpy as np
import pandas as pd

from nntrain import check


def _frame() -> pd.DataFrame:
    """A range-test record whose smoothed loss is lowest at the rate 0.5."""
    rates = np.geomspace(1e-3, 5.0, 50)
    smoothed = 2.0 + (np.log10(rates) - np.log10(0.5)) ** 2
    return pd.DataFrame({"step": np.arange(50), "learning_rate": rates, "loss": smoothed,
                         "smoothed_loss": smoothed})


def test_rate_accepts_a_decade_below_the_minimum():
    frame = _frame()
    lowest = frame.loc[frame["smoothed_loss"].idxmin(), "learning_rate"]
    assert abs(lowest - 0.5) < 0.05
    assert check.exercise("lr_schedules.rate", (lowest / 10, frame))
    assert check.exercise("lr_schedules.rate", (lowest / 2.5, frame))
    assert check.exercise("lr_schedules.rate", (lowest / 25, frame))


def test_rate_rejects_the_minimum_and_tiny_rates_with_hints():
    frame = _frame()
    lowest = frame.loc[frame["smoothed_loss"].idxmin(), "learning_rate"]
    high = check.exercise("lr_schedules.rate", (lowest, frame))
    assert not high and "Too high" in str(high)
    low = check.exercise("lr_schedules.rate", (lowest / 100, frame))
    assert not low and "Too low" in str(low)
    assert not check.exercise("lr_schedules.rate", (-0.1, frame))
    assert not check.exercise("lr_schedules.rate", 0.05)  # no frame
    assert not check.exercise("lr_schedules.rate", (0.05, "frame"))


def test_rate_ignores_a_non_finite_tail():
    frame = _frame()
    frame.loc[45:, "smoothed_loss"] = np.inf
    assert check.exercise("lr_schedules.rate", (0.05, frame))


def test_restarts():
    assert check.exercise("lr_schedules.restarts", [100, 300, 700])
    assert check.exercise("lr_schedules.restarts", (700, 100, 300))
    wrong = check.exercise("lr_schedules.restarts", [100, 200, 400, 800])
    assert not wrong and "T_0" in str(wrong)
    assert not check.exercise("lr_schedules.restarts", "100")
    assert not check.exercise("lr_schedules.restarts", None)
