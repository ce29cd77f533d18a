"""Tests of nntrain.tasks: the adding problem's definition, its statistics and its errors."""

import numpy as np
import pytest

import nntrain as nt
from nntrain import tasks


def test_adding_sequences_follow_the_definition():
    x, y = tasks.adding_sequences(2000, 20, np.random.default_rng(0))
    assert x.shape == (2000, 20, 2) and y.shape == (2000,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= 0 and values.max() <= 1
    # exactly two markers, one in each half
    np.testing.assert_array_equal(markers.sum(axis=1), 2)
    np.testing.assert_array_equal(markers[:, :10].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, 10:].sum(axis=1), 1)
    # the target is the sum of the marked values
    np.testing.assert_allclose(y, (values * markers).sum(axis=1), rtol=1e-6)


def test_marker_positions_cover_both_halves_uniformly():
    x, _ = tasks.adding_sequences(20000, 10, np.random.default_rng(1))
    counts = x[..., 1].sum(axis=0)
    # each of the 5 positions of a half gets 1/5 of the 20,000 markers: 4,000 +- 3 sd (~60)
    np.testing.assert_allclose(counts, 4000, atol=200)


def test_target_statistics_match_the_baseline():
    _, y = tasks.adding_sequences(40000, 30, np.random.default_rng(2))
    # the sum of two U(0, 1): mean 1, variance 1/6; the standard error of the variance is ~0.001
    assert abs(y.mean() - 1.0) < 0.01
    assert abs(y.var() - tasks.ADDING_BASELINE_MSE) < 0.005
    assert tasks.ADDING_BASELINE_MSE == pytest.approx(1 / 6)


def test_adding_problem_is_a_seeded_regression_dataset():
    a = tasks.adding_problem(25, sizes=(300, 50, 40), seed=3)
    b = tasks.adding_problem(25, sizes=(300, 50, 40), seed=3)
    c = tasks.adding_problem(25, sizes=(300, 50, 40), seed=4)
    assert isinstance(a, nt.Dataset)
    assert a.task == "regression" and a.num_classes is None
    assert a.input_shape == (25, 2)
    assert (len(a.x_train), len(a.x_val), len(a.x_test)) == (300, 50, 40)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    # the splits are different draws
    assert not np.array_equal(a.x_train[:40], a.x_test)
    assert not a.synthetic and "adding problem" in a.source and "seed 3" in a.source


def test_sizes_default_to_the_profile():
    data = tasks.adding_problem(10, profile="smoke")
    cfg = nt.get_profile("smoke")
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (cfg.n_train, cfg.n_val, cfg.n_test)
    full = tasks.adding_problem(4, profile="full")
    assert len(full.x_train) == 20000


def test_a_model_that_adds_reaches_zero_error_and_a_constant_the_baseline():
    data = tasks.adding_problem(12, sizes=(50, 50, 5000), seed=0)
    values, markers = data.x_test[..., 0], data.x_test[..., 1]
    assert np.mean(((values * markers).sum(axis=1) - data.y_test) ** 2) < 1e-10
    assert abs(np.mean((1.0 - data.y_test) ** 2) - tasks.ADDING_BASELINE_MSE) < 0.01


@pytest.mark.parametrize("kwargs, match", [
    ({"timesteps": 1}, r"`timesteps` must be an integer >= 2\. Received: timesteps=1"),
    ({"timesteps": 2.5}, r"Received: timesteps=2.5"),
    ({"sizes": (10, 10)}, r"`sizes` must be three positive integers.*Received: sizes=\(10, 10\)"),
    ({"sizes": (10, 0, 10)}, r"Received: sizes=\(10, 0, 10\)"),
    ({"sizes": "abc"}, r"Received: sizes='abc'"),
    ({"seed": -1}, r"`seed` must be a non-negative integer\. Received: seed=-1"),
    ({"sizes": None, "profile": "huge"}, r"must be one of"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tasks.adding_problem(**{"sizes": (10, 10, 10), **kwargs})


def test_adding_sequences_bad_arguments_raise():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"`num` must be a positive integer\. Received: num=0"):
        tasks.adding_sequences(0, 10, rng)
    with pytest.raises(ValueError, match=r"`rng` must be a numpy.random.Generator\. Received: rng=0"):
        tasks.adding_sequences(5, 10, 0)
