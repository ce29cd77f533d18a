"""The gradient-clinic lab's checkers accept the solutions and reject typical wrong answers."""

import numpy as np

from nntrain import check


def test_symptom():
    assert check.exercise("gradient_clinic.symptom", "B")
    assert not check.exercise("gradient_clinic.symptom", "a")


def test_sigmoid_bound():
    assert check.exercise("gradient_clinic.sigmoid_bound", 0.25**10)
    one_layer = check.exercise("gradient_clinic.sigmoid_bound", 0.25)
    assert not one_layer and "ten" in str(one_layer)
    assert not check.exercise("gradient_clinic.sigmoid_bound", 0.5**10)
    assert not check.exercise("gradient_clinic.sigmoid_bound", "small")


def test_gain():
    assert check.exercise("gradient_clinic.gain", 64 * 0.05**2 / 2)
    linear = check.exercise("gradient_clinic.gain", 64 * 0.05**2)
    assert not linear and "ReLU" in str(linear)
    assert not check.exercise("gradient_clinic.gain", 0.05)
    assert not check.exercise("gradient_clinic.gain", np.array([0.08, 0.08]))


def test_diverged():
    assert check.exercise("gradient_clinic.diverged", "c")
    assert not check.exercise("gradient_clinic.diverged", "a")
