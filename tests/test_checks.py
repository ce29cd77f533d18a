"""nntrain._checks: the package's one set of argument checks, and that it is the only one."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from nntrain import _checks

SRC = Path(__file__).resolve().parents[1] / "src" / "nntrain"


def test_every_error_names_the_argument_what_it_may_be_and_what_it_was():
    with pytest.raises(ValueError) as info:
        _checks.integer("epochs", 2.5, minimum=1)
    assert str(info.value) == "`epochs` must be a positive integer. Received: epochs=2.5"
    with pytest.raises(ValueError, match=r"^`seed` of a Profile must be a non-negative integer\. Received: seed=-1$"):
        _checks.fail("seed", "a non-negative integer", -1, owner="a Profile")
    with pytest.raises(ValueError, match=r"Received: x_train=<empty array>$"):
        _checks.fail("x_train", "an array holding at least one example", None, shown="<empty array>")


@pytest.mark.parametrize("value", [True, 1.0, "3", None, np.float32(2)])
def test_integer_refuses_what_is_not_an_integer(value):
    with pytest.raises(ValueError, match="`n` must be an integer"):
        _checks.integer("n", value)


def test_integer_takes_numpy_integers_and_applies_the_minimum():
    assert _checks.integer("n", np.int64(3), minimum=1) == 3 and type(_checks.integer("n", np.int64(3))) is int
    assert _checks.integer("n", 0, minimum=0) == 0
    with pytest.raises(ValueError, match=r"`n` must be a non-negative integer\. Received: n=-1"):
        _checks.integer("n", -1, minimum=0)
    with pytest.raises(ValueError, match=r"`n` must be an integer >= 2\. Received: n=1"):
        _checks.integer("n", 1, minimum=2)
    with pytest.raises(ValueError, match=r"`k` must be an integer of at least 3\. Received: k=2"):
        _checks.integer("k", 2, minimum=3, accepted="an integer of at least 3")


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, True, "0.1", None, [0.1]])
def test_real_refuses_non_finite_and_non_numbers(value):
    with pytest.raises(ValueError, match="`rate` must be a positive number"):
        _checks.real("rate", value, "a positive number", lambda v: v > 0)


def test_number_keeps_an_int_an_int_and_unwraps_numpy_scalars():
    assert type(_checks.number("steps", 10, "a positive number", lambda v: v > 0)) is int
    value = _checks.number("rate", np.float32(0.5), "a positive number")
    assert type(value) is float and value == 0.5
    assert type(_checks.real("rate", 3)) is float
    with pytest.raises(ValueError, match=r"`drop` must be a number in \(0, 1\]\. Received: drop=0"):
        _checks.number("drop", 0, "a number in (0, 1]", lambda v: 0 < v <= 1)


def test_choice_lists_the_choices():
    assert _checks.choice("mode", "fan_in", ("fan_in", "fan_out")) == "fan_in"
    with pytest.raises(ValueError, match=r"`mode` must be one of \['fan_in', 'fan_out'\]\. Received: mode='fan'"):
        _checks.choice("mode", "fan", ("fan_in", "fan_out"))
    with pytest.raises(ValueError, match="Received: mode=\\[1\\]"):
        _checks.choice("mode", [1], {"fan_in"})  # unhashable: an error, not a TypeError


def test_verbose_is_auto_or_one_of_the_levels():
    assert _checks.resolve_verbose("auto", (0, 1), lambda: True) == 1
    assert _checks.resolve_verbose("auto", (0, 1, 2), lambda: False) == 0
    assert _checks.resolve_verbose(2, (0, 1, 2), lambda: True) == 2
    with pytest.raises(ValueError, match=r"^`verbose` must be 'auto', 0 or 1\. Received: verbose=2$"):
        _checks.resolve_verbose(2, (0, 1), lambda: True)
    with pytest.raises(ValueError, match=r"must be 'auto', 0, 1 or 2\. Received: verbose=True"):
        _checks.resolve_verbose(True, (0, 1, 2), lambda: True)


def test_no_module_writes_its_own_integer_check():
    """An integer check's message comes from _checks.integer, not from a copy of it."""
    copy = re.compile(r"raise ValueError\(\s*f?\"`[^`]+` must be (a positive integer|a non-negative integer|"
                      r"an integer >= \d+)\. Received")
    copies = [f"{path.relative_to(SRC)}:{text[:match.start()].count(chr(10)) + 1}"
              for path in sorted(SRC.rglob("*.py")) if path.name != "_checks.py"
              for text in [path.read_text()] for match in copy.finditer(text)]
    assert not copies, f"integer checks written by hand (use nntrain._checks.integer): {copies}"
    defined = [f"{path.relative_to(SRC)}" for path in sorted(SRC.rglob("*.py"))
               if re.search(r"^def _resolve_verbose\(", path.read_text(), re.M)]
    assert not defined, f"a second _resolve_verbose: {defined}"


def _inputs_refused_once_accepted():
    import nntrain as nt
    from nntrain import training

    f = lambda t: float(np.sum(t**2))  # noqa: E731
    theta = np.arange(3.0)
    digits = nt.data.load("digits", profile="smoke")
    return {
        "an infinite rate": lambda: nt.schedules.StepDecay(math.inf, drop=0.5, step_size=10),
        "a NaN alpha": lambda: nt.schedules.CosineDecay(0.1, decay_steps=100, alpha=math.nan),
        "an infinite epsilon": lambda: nt.gradcheck.gradient_check(f, 2 * theta, theta, epsilon=math.inf),
        "a NaN tolerance": lambda: nt.gradcheck.gradient_check(f, 2 * theta, theta, tolerance=math.nan),
        "a negative batch size": lambda: training.epoch_batches(digits, -1, seed=0, epochs=range(1, 2)),
    }


@pytest.mark.parametrize("case", ["an infinite rate", "a NaN alpha", "an infinite epsilon",
                                  "a NaN tolerance", "a negative batch size"])
def test_inputs_that_were_silently_accepted_are_refused_by_name(case):
    with pytest.raises(ValueError, match="Received: "):
        _inputs_refused_once_accepted()[case]()


def test_boolean_and_seed():
    assert _checks.boolean("flag", np.bool_(True)) is True
    with pytest.raises(ValueError, match=r"^`flag` must be True or False\. Received: flag='yes'$"):
        _checks.boolean("flag", "yes")
    assert _checks.seed("seed", np.int64(3)) == 3 and _checks.seed("seed", None, none=True) is None
    with pytest.raises(ValueError, match=r"^`seed` must be a non-negative integer\. Received: seed=2\.5$"):
        _checks.seed("seed", 2.5)
    with pytest.raises(ValueError, match=r"non-negative integer or None\. Received: seed=-1$"):
        _checks.seed("seed", -1, none=True)


@pytest.mark.parametrize("value, shown", [
    ("abc", "'abc'"), (object, "<class 'object'>"), (np.zeros((0, 2)), "<ndarray of shape (0, 2)>"),
    ([[1.0, math.nan]], "<ndarray of shape (1, 2)> holding NaN or inf"), (np.ones(3), "<ndarray of shape (3,)>"),
])
def test_array_refuses_text_empty_non_finite_and_wrong_dimensions(value, shown):
    with pytest.raises(ValueError, match=r"^`x` must be .*\. Received: x=" + re.escape(shown) + "$"):
        _checks.array("x", value, ndim=2)


def test_array_examples_sequence_and_frame():
    import pandas as pd

    assert _checks.array("x", [[1, 2]], ndim=2).dtype == np.float64
    x, y = _checks.examples(np.ones((3, 2), "float32"), np.arange(3))
    assert x.dtype == np.float32 and y.dtype.kind == "i"  # dtypes kept
    with pytest.raises(ValueError, match=r"^`y` must be an array with one row per example of `x` \(3\)\. "
                                         r"Received: y=<ndarray of shape \(2,\)>$"):
        _checks.examples(np.ones((3, 2)), np.ones(2))
    assert _checks.sequence("rates", (0.1, 0.2), lambda v: v > 0, accepted="positive rates") == [0.1, 0.2]
    for bad in ("0.1", [], [0.1, -1.0], 0.1):
        with pytest.raises(ValueError, match=r"^`rates` must be positive rates\. Received: rates="):
            _checks.sequence("rates", bad, lambda v: v > 0, accepted="positive rates")
    frame = pd.DataFrame({"a": [1]})
    assert _checks.frame("t", frame, ["a"], min_rows=1) is frame
    with pytest.raises(ValueError, match=r"^`t` must be a DataFrame with the columns \['b'\]\. "
                                         r"Received: t=<DataFrame of 1 rows with columns \['a'\]>$"):
        _checks.frame("t", frame, ["b"])
