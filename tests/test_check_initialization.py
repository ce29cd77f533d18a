"""Tests of the checkers of the chapter "Weight initialization" (nntrain.check.initialization):
right answers, computed here from the rules' formulas, pass; typical wrong answers get a hint
aimed at their mistake."""

import math
import random

import numpy as np
import pytest

from nntrain import check
from nntrain.check.initialization import LEAKY_RELU_LAYER, SPARSE_K, XAVIER_SHAPE

FAN_IN, FAN_OUT = XAVIER_SHAPE
SLOPE, LEAKY_FAN_IN = LEAKY_RELU_LAYER["slope"], LEAKY_RELU_LAYER["fan_in"]


def test_exercises_are_registered():
    names = {"initialization.xavier-limit", "initialization.leaky-relu-std",
             "initialization.sparse-stddev"}
    assert names <= set(check.available())


def test_xavier_limit():
    assert XAVIER_SHAPE == (784, 256)
    right = check.exercise("initialization.xavier-limit", math.sqrt(6 / (784 + 256)))
    assert right and str(right).startswith("✔")
    assert check.exercise("initialization.xavier-limit", np.float32(0.07595545))


@pytest.mark.parametrize("answer, words", [
    (math.sqrt(2 / (784 + 256)), "standard deviation"),
    (math.sqrt(6 / 784), "n_in alone"),
    (math.sqrt(1 / 784), "1 / (3 n)"),
    (0.1, "solve for L"),
    ("0.076", "solve for L"),
    ([0.076, 0.076], "shape"),
])
def test_xavier_limit_wrong_answers_get_hints(answer, words):
    feedback = check.exercise("initialization.xavier-limit", answer)
    assert not feedback
    assert words in str(feedback)


def test_leaky_relu_std():
    assert (SLOPE, LEAKY_FAN_IN) == (0.2, 512)
    expected = math.sqrt(2 / ((1 + 0.2**2) * 512))
    assert check.exercise("initialization.leaky-relu-std", expected)
    assert not check.exercise("initialization.leaky-relu-std", expected * 1.01)


@pytest.mark.parametrize("answer, words", [
    (math.sqrt(2 / 512), "plain ReLU"),
    (2 / (1.04 * 512), "the variance"),
    (0.5, "square root"),
])
def test_leaky_relu_wrong_answers_get_hints(answer, words):
    feedback = check.exercise("initialization.leaky-relu-std", answer)
    assert not feedback
    assert words in str(feedback)


def test_sparse_stddev():
    assert SPARSE_K == 15
    assert check.exercise("initialization.sparse-stddev", math.sqrt(2 / 15))
    assert not check.exercise("initialization.sparse-stddev", math.sqrt(2 / 16))


@pytest.mark.parametrize("answer, words", [
    (1.0, "Martens"),
    (2 / 15, "the variance"),
    (math.sqrt(1 / 15), "double the variance"),
    (None, "Solve for sigma"),
])
def test_sparse_wrong_answers_get_hints(answer, words):
    feedback = check.exercise("initialization.sparse-stddev", answer)
    assert not feedback
    assert words in str(feedback)


def test_checking_leaves_python_random_alone():
    random.seed(3)
    before = random.random()
    random.seed(3)
    for name in ("initialization.xavier-limit", "initialization.leaky-relu-std",
                 "initialization.sparse-stddev"):
        check.exercise(name, 0.1)
    assert random.random() == before
