"""Tests of nntrain.check.learning_rate: each expected answer, confirmed independently."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import nntrain as nt
from nntrain import surfaces
from nntrain.check import learning_rate as lr_check


def _check(name, answer):
    return nt.check.exercise(f"learning_rate.{name}", answer)


def test_the_thresholds_are_those_gradient_descent_shows():
    stable, fastest = lr_check.thresholds()
    # H = [[3, 1], [1, 3]] is diag(2, 4) rotated by -45 degrees
    bowl = surfaces.Quadratic(eigenvalues=(2.0, 4.0), angle=-45.0)
    np.testing.assert_allclose(bowl.matrix, lr_check.HESSIAN, atol=1e-12)
    assert stable == pytest.approx(bowl.stability_threshold())
    assert fastest == pytest.approx(bowl.optimal_learning_rate())
    # just below the threshold the error shrinks, just above it grows (exact recursion)
    matrix, error = np.asarray(lr_check.HESSIAN), np.array([1.0, -0.5])
    for rate, shrinks in ((0.98 * stable, True), (1.02 * stable, False)):
        after = np.linalg.matrix_power(np.eye(2) - rate * matrix, 400) @ error
        assert (np.linalg.norm(after) < np.linalg.norm(error)) == shrinks


def test_the_thresholds_checker_accepts_and_explains():
    assert _check("thresholds", [0.5, 1 / 3])
    assert not _check("thresholds", [0.5, 0.3])
    assert "diagonal" in str(_check("thresholds", [2 / 3, 0.5]))
    assert "oscillate" in str(_check("thresholds", [0.25, 1 / 3]))
    assert "shape" in str(_check("thresholds", 0.5))


def test_the_saddle_escape_time_matches_the_linearized_recursion():
    s = lr_check.SADDLE_SETTING
    y, steps = s["y0"], 0
    while y < s["y_end"]:
        y *= 1 + s["learning_rate"]
        steps += 1
    assert lr_check.saddle_escape() == pytest.approx(steps, abs=1.0)
    assert _check("saddle-escape", round(lr_check.saddle_escape()))
    assert _check("saddle-escape", steps)
    shortcut = math.log(s["y_end"] / s["y0"]) / s["learning_rate"]
    assert "keep the logarithm" in str(_check("saddle-escape", shortcut))
    assert not _check("saddle-escape", 2 * steps)


def test_the_warmup_cosine_value_matches_keras():
    s = lr_check.WARMUP_SETTING
    keras_schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=s["total_steps"] - s["warmup_steps"], warmup_target=s["peak"],
        warmup_steps=s["warmup_steps"])
    expected = float(keras.ops.convert_to_numpy(keras_schedule(s["step"])))
    assert lr_check.warmup_cosine() == pytest.approx(expected, rel=1e-5)
    assert lr_check.warmup_cosine() == pytest.approx(0.05, rel=1e-5)  # halfway down the cosine
    assert _check("warmup-cosine", 0.05)
    unshifted = s["peak"] * 0.5 * (1 + math.cos(math.pi * s["step"] / s["total_steps"]))
    assert "shifts it" in str(_check("warmup-cosine", unshifted))
    assert not _check("warmup-cosine", "0.05 per step")


def test_the_batch_that_replaces_a_decay_keeps_the_noise_scale():
    s = lr_check.BATCH_SETTING
    decayed = s["learning_rate"] / s["drop"] / s["batch_size"]
    assert s["learning_rate"] / lr_check.batch_instead() == pytest.approx(decayed)
    assert _check("batch-instead", 1280)
    assert "larger batch" in str(_check("batch-instead", 12.8))
    assert not _check("batch-instead", 256)
