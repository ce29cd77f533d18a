"""Checks for the lab "Gradient health clinic"."""

from __future__ import annotations

import numpy as np

from ._core import Feedback, close, equal, register

__all__: list[str] = []  # checkers only: they are reached through nntrain.check.exercise

_DEPTH = 10  # hidden layers of the lab's deep network
_WIDTH = 64  # units per hidden layer, the fan-in of every hidden layer but the first
_STD = 0.05  # standard deviation of the broken network's weights (Keras's RandomNormal default)
_SIGMOID_SLOPE = 0.25  # the largest value of sigmoid'(z) = s(1 - s), reached at z = 0


def _is_number(answer: object, value: float) -> bool:
    """Whether ``answer`` is one number close to ``value`` (a typical wrong answer)."""
    try:
        return bool(np.size(answer) == 1 and np.isclose(float(np.asarray(answer, dtype=float)), value))
    except (TypeError, ValueError):
        return False


@register("gradient_clinic.symptom")
def _symptom(answer: object) -> Feedback:
    """What the gradient-norm table of the broken network shows (a letter)."""
    return equal(answer, "b", hint=(
        "Compare the gradient norm of hidden_1 with that of the output layer: does it grow or "
        "shrink as the gradient travels back towards the input, and by how many orders of "
        "magnitude?"))


@register("gradient_clinic.sigmoid_bound")
def _sigmoid_bound(answer: object) -> Feedback:
    """The largest possible product of the ten sigmoid derivatives a gradient crosses."""
    if _is_number(answer, _SIGMOID_SLOPE):
        return Feedback(False, "0.25 is the bound for one layer; the gradient crosses ten "
                               "sigmoids on its way back to hidden_1. Multiply.")
    return close(answer, _SIGMOID_SLOPE ** _DEPTH, rtol=1e-3, hint=(
        "sigmoid'(z) = s(z)(1 - s(z)) is largest at z = 0, where s = 1/2. Each layer multiplies "
        "the gradient by at most that, and there are ten layers."))


@register("gradient_clinic.gain")
def _gain(answer: object) -> Feedback:
    """The factor by which one ReLU layer of N(0, 0.05^2) weights with fan-in 64 scales the
    second moment of the signal: fan_in * std^2 / 2."""
    gain = _WIDTH * _STD**2 / 2
    if _is_number(answer, 2 * gain):
        return Feedback(False, "Close: that is the factor of a linear layer. ReLU zeroes half "
                               "of a symmetric input, which halves the second moment.")
    return close(answer, gain, rtol=0.01, hint=(
        "Each pre-activation is a sum of fan_in products w * a, so its variance is "
        "fan_in * Var(w) * E[a^2]; ReLU then keeps half of it. Var(w) is 0.05 squared."))


@register("gradient_clinic.diverged")
def _diverged(answer: object) -> Feedback:
    """Which change cures the divergence of the He-initialized ReLU network at lr = 1 (a letter)."""
    return equal(answer, "c", hint=(
        "The network now passes signals and gradients of the right size; what is still too "
        "large is the step the optimizer takes with them."))
