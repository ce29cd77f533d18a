"""Checks for the exercises of the chapter "Optimizers".

The expected answers follow from the update rules in closed form; the tests of this module
(``tests/test_check_optimizers.py``) confirm each against the course's own optimizers
(:mod:`nntrain.optimizers`) run step by step. A few typical wrong answers get a hint aimed
at their mistake.
"""

from __future__ import annotations

import math

import numpy as np

from ._core import Feedback, close, register

__all__ = ["ADAM_STEPS", "HEAVY_BALL_EIGENVALUES", "TERMINAL_SETTING"]

# The exercise "optimizers.terminal-step": momentum fed the same gradient at every step.
TERMINAL_SETTING = {"learning_rate": 0.02, "momentum": 0.95, "gradient": 0.5}
# The exercise "optimizers.heavy-ball-rate": the curvatures of the chapter's quadratic bowl.
HEAVY_BALL_EIGENVALUES = (1.0, 50.0)
# The exercise "optimizers.adam-bias": Adam without bias correction at these steps t.
ADAM_STEPS = (1, 10)
# Adam's default decay rates (Kingma & Ba, 2015), which the exercise uses.
_BETA_1, _BETA_2 = 0.9, 0.999


def terminal_step() -> float:
    r"""The size of momentum's step once the velocity has settled: :math:`\eta g / (1 - \alpha)`."""
    s = TERMINAL_SETTING
    return s["learning_rate"] * s["gradient"] / (1 - s["momentum"])


@register("optimizers.terminal-step")
def _terminal_step(answer: object) -> Feedback:
    """The size of the settled momentum step for the setting of :data:`TERMINAL_SETTING`."""
    s = TERMINAL_SETTING
    feedback = close(answer, terminal_step(), hint=(
        "At the fixed point the velocity no longer changes: solve v = alpha v - eta g for v, "
        "and give the size |v| of the step."))
    if feedback:
        return feedback
    value = _float(answer)
    first = s["learning_rate"] * s["gradient"]
    if value is not None and math.isclose(abs(value), first, rel_tol=1e-3):
        return Feedback(False, "That is the first step, when the velocity starts from zero. "
                               "Each later step adds alpha times the previous one: sum the "
                               "geometric series.")
    if value is not None and math.isclose(value, -terminal_step(), rel_tol=1e-4):
        return Feedback(False, "That is the velocity itself, pointing downhill; the exercise "
                               "asks for the size of the step, a positive number.")
    return feedback


def heavy_ball_rates() -> np.ndarray:
    r"""Per-step error factors on a quadratic of condition number :math:`\kappa`.

    ``[(kappa - 1) / (kappa + 1), (sqrt(kappa) - 1) / (sqrt(kappa) + 1)]``: gradient
    descent at its best constant rate, and momentum at Polyak's best rate and momentum.
    """
    low, high = HEAVY_BALL_EIGENVALUES
    kappa = high / low
    return np.array([(kappa - 1) / (kappa + 1), (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)])


@register("optimizers.heavy-ball-rate")
def _heavy_ball_rate(answer: object) -> Feedback:
    """``[gradient descent's factor, heavy ball's factor]`` for :data:`HEAVY_BALL_EIGENVALUES`."""
    expected = heavy_ball_rates()
    feedback = close(answer, expected, rtol=1e-3, hint=(
        "Give [gradient descent's factor, momentum's factor] as two numbers below 1, with "
        "kappa = lambda_max / lambda_min: (kappa - 1)/(kappa + 1) and "
        "(sqrt(kappa) - 1)/(sqrt(kappa) + 1)."))
    if feedback:
        return feedback
    value = _floats(answer)
    if value is not None and value.shape == (2,):
        if np.allclose(value, expected[::-1], rtol=1e-3):
            return Feedback(False, "The two numbers are swapped: momentum's factor is the "
                                   "smaller one (faster), gradient descent's the larger.")
        if np.allclose(value, expected**2, rtol=1e-3):
            return Feedback(False, "Those are the factors of the loss, which is quadratic in "
                                   "the error; give the factors of the error itself.")
    return feedback


def adam_uncorrected_steps() -> np.ndarray:
    r"""Adam's step without bias correction, in units of :math:`\alpha`, for a constant gradient.

    With :math:`m_t = (1 - \beta_1^t) g` and :math:`v_t = (1 - \beta_2^t) g^2`, the step
    :math:`\alpha\, m_t / \sqrt{v_t}` is :math:`\alpha (1 - \beta_1^t) / \sqrt{1 - \beta_2^t}`.
    """
    t = np.asarray(ADAM_STEPS, dtype=float)
    return (1 - _BETA_1**t) / np.sqrt(1 - _BETA_2**t)


@register("optimizers.adam-bias")
def _adam_bias(answer: object) -> Feedback:
    """Adam's uncorrected step / alpha at the steps of :data:`ADAM_STEPS`, constant gradient."""
    expected = adam_uncorrected_steps()
    feedback = close(answer, expected, rtol=1e-3, hint=(
        "For a constant gradient g, m_t = (1 - beta_1^t) g and v_t = (1 - beta_2^t) g^2 "
        "(sum the geometric series); the uncorrected step is alpha m_t / sqrt(v_t)."))
    if feedback:
        return feedback
    value = _floats(answer)
    if value is not None and value.shape == expected.shape:
        if np.allclose(value, 1.0, rtol=1e-3):
            return Feedback(False, "With bias correction every step is exactly alpha; the "
                                   "exercise asks for the step without it.")
        numerators = 1 - _BETA_1 ** np.asarray(ADAM_STEPS, dtype=float)
        if np.allclose(value, numerators, rtol=1e-3):
            return Feedback(False, "That is m_t / g alone; divide by sqrt(v_t) / |g| too.")
    return feedback


def _float(answer: object) -> float | None:
    value = _floats(answer)
    return float(value) if value is not None and value.shape == () else None


def _floats(answer: object) -> np.ndarray | None:
    try:
        value = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None
    return value if np.all(np.isfinite(value)) else None
