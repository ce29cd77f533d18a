"""Tests of the checkers of the chapter "Optimizers": the closed-form answers agree with the
course's optimizers run step by step, right answers pass, typical wrong ones get their hint."""

import numpy as np
import pytest

import nntrain as nt
from nntrain import check, compare, surfaces
from nntrain.check import optimizers as answers


def test_every_exercise_is_registered():
    names = {"optimizers.terminal-step", "optimizers.heavy-ball-rate", "optimizers.adam-bias"}
    assert names <= set(check.available())


# ------------------------------------------------------------------ terminal step


def test_terminal_step_is_what_momentum_settles_to():
    s = answers.TERMINAL_SETTING
    steps = compare.updates(nt.optimizers.Momentum(s["learning_rate"], momentum=s["momentum"]),
                            np.full((500, 1), s["gradient"]))
    assert answers.terminal_step() == pytest.approx(0.2)
    np.testing.assert_allclose(abs(steps[-1, 0]), answers.terminal_step(), rtol=1e-4)


@pytest.mark.parametrize("answer, words", [
    (0.01, "That is the first step"),
    (-0.2, "the size of the step, a positive number"),
    (0.5, "solve v = alpha v - eta g"),
    ("a lot", "solve v = alpha v - eta g"),
])
def test_terminal_step_hints(answer, words):
    assert check.exercise("optimizers.terminal-step", 0.2)
    feedback = check.exercise("optimizers.terminal-step", answer)
    assert not feedback and words in str(feedback)


# ------------------------------------------------------------------ heavy ball


def test_heavy_ball_rates_are_what_the_optimizers_measure():
    low, high = answers.HEAVY_BALL_EIGENVALUES
    kappa = high / low
    gd_rate, hb_rate = answers.heavy_ball_rates()
    bowl = surfaces.Quadratic(eigenvalues=(low, high), angle=30)
    gd = surfaces.descend(bowl, nt.optimizers.SGD(2 / (low + high)), steps=60)
    hb = surfaces.descend(bowl, nt.optimizers.Momentum(4 / (low**0.5 + high**0.5) ** 2,
                                                       momentum=hb_rate**2), steps=60)
    measured = []
    for path in (gd, hb):
        error = np.hypot(path["x"], path["y"]).to_numpy()  # the minimum is the origin
        measured.append((error[60] / error[20]) ** (1 / 40))
    assert gd_rate == pytest.approx((kappa - 1) / (kappa + 1))
    assert measured[0] == pytest.approx(gd_rate, abs=1e-4)
    # Polyak's parameters give a double root: the error decays like t r^t, a little slower
    assert 0 < measured[1] - hb_rate < 0.03


def test_heavy_ball_hints():
    right = answers.heavy_ball_rates()
    assert check.exercise("optimizers.heavy-ball-rate", right.tolist())
    swapped = check.exercise("optimizers.heavy-ball-rate", right[::-1])
    assert not swapped and "swapped" in str(swapped)
    squared = check.exercise("optimizers.heavy-ball-rate", right**2)
    assert not squared and "factors of the loss" in str(squared)
    wrong = check.exercise("optimizers.heavy-ball-rate", 0.5)
    assert not wrong and "shape" in str(wrong)


# ------------------------------------------------------------------ Adam without correction


def test_uncorrected_adam_matches_the_moments_computed_step_by_step():
    m = v = 0.0
    g, beta_1, beta_2 = 2.0, 0.9, 0.999
    ratios = {}
    for t in range(1, max(answers.ADAM_STEPS) + 1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        ratios[t] = m / np.sqrt(v)
    np.testing.assert_allclose(answers.adam_uncorrected_steps(), [ratios[t] for t in answers.ADAM_STEPS])
    # and the course's Adam, bias-corrected, steps exactly alpha instead
    steps = compare.updates(nt.optimizers.Adam(0.01), np.full((10, 1), g))
    np.testing.assert_allclose(steps, -0.01, rtol=1e-4)


def test_adam_bias_hints():
    right = answers.adam_uncorrected_steps()
    assert check.exercise("optimizers.adam-bias", right)
    corrected = check.exercise("optimizers.adam-bias", [1.0, 1.0])
    assert not corrected and "With bias correction" in str(corrected)
    numerators = 1 - 0.9 ** np.asarray(answers.ADAM_STEPS, dtype=float)
    first_moment = check.exercise("optimizers.adam-bias", numerators)
    assert not first_moment and "divide by sqrt(v_t)" in str(first_moment)
    assert not check.exercise("optimizers.adam-bias", [3.0, 6.0])
