"""Tests of the checkers of the chapter "Backpropagation" (nntrain.check.backprop): right
answers, computed here independently, pass; typical wrong answers get a hint aimed at them."""

import math

import numpy as np
import pytest

from nntrain import check
from nntrain.check.backprop import CHAIN_RULE_POINT, EVALUATIONS_SIZES, HIDDEN_WEIGHT_POINT


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


def _hidden_gradients():
    """[dC/dw2, dC/db2, dC/dw1, dC/db1] from the chapter's closed-form chain rule."""
    p = HIDDEN_WEIGHT_POINT
    a1 = _sigmoid(p["w1"] * p["x"] + p["b1"])
    a2 = _sigmoid(p["w2"] * a1 + p["b2"])
    delta2 = 2 * (a2 - p["y"]) * a2 * (1 - a2)
    delta1 = p["w2"] * delta2 * a1 * (1 - a1)
    return np.array([a1 * delta2, delta2, p["x"] * delta1, delta1])


def test_exercises_are_registered():
    assert {"backprop.chain-rule", "backprop.hidden-weight", "backprop.evaluations"} <= set(check.available())


def test_chain_rule_accepts_the_two_paths_summed():
    a, b = CHAIN_RULE_POINT["a"], CHAIN_RULE_POINT["b"]
    assert (a, b) == (-1.0, 3.0)
    right = check.exercise("backprop.chain-rule", [b + 1, (b + 1) + (a + b)])
    assert right and str(right).startswith("✔")
    assert check.exercise("backprop.chain-rule", np.array([4.0, 6.0]))


@pytest.mark.parametrize("answer, words", [
    ([4.0, 4.0], "through c = a + b only"),
    ([4.0, 2.0], "through d = b + 1 only"),
    ([6.0, 4.0], "every path"),
    ([4.0], "shape (1,)"),
    ("four and six", "not str"),
])
def test_chain_rule_hints(answer, words):
    feedback = check.exercise("backprop.chain-rule", answer)
    assert not feedback and words in str(feedback)


def test_hidden_weight_accepts_the_closed_form_gradients():
    expected = _hidden_gradients()
    assert check.exercise("backprop.hidden-weight", expected)
    assert check.exercise("backprop.hidden-weight", expected * (1 + 1e-6))
    assert check.exercise("backprop.hidden-weight", list(expected))


@pytest.mark.parametrize("mistake, words", [
    (lambda g: g / 2, "half the right value"),
    (lambda g: np.r_[g[:2], g[2:] * 1.3], "The last layer is right"),
    (lambda g: g[::-1], "from the loss backwards"),
    (lambda g: g[:3], "shape (3,)"),
    (lambda g: np.r_[g[:3], np.nan], "NaN"),
])
def test_hidden_weight_hints(mistake, words):
    feedback = check.exercise("backprop.hidden-weight", mistake(_hidden_gradients()))
    assert not feedback and words in str(feedback)


def test_evaluations():
    d, m, k = EVALUATIONS_SIZES
    n_params = d * m + m + m * k + k
    assert n_params == 25_450
    assert check.exercise("backprop.evaluations", 50_900)
    assert check.exercise("backprop.evaluations", np.int64(50_900))
    assert "number of parameters" in str(check.exercise("backprop.evaluations", n_params))
    assert "forward differences" in str(check.exercise("backprop.evaluations", n_params + 1))
    for wrong in (2, 2 * 784 * 32, "50900 evaluations", None):
        feedback = check.exercise("backprop.evaluations", wrong)
        assert not feedback and "Count the parameters" in str(feedback)
