"""Tests of nntrain.surfaces: exact derivatives, exact thresholds, paths and bad input."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
from keras import ops

import nntrain as nt
from nntrain import surfaces

SURFACES = [
    surfaces.Quadratic(eigenvalues=(1.0, 10.0), angle=30.0, center=(0.5, -0.25)),
    surfaces.Rosenbrock(),
    surfaces.Saddle(),
    surfaces.Beale(),
]
IDS = [type(s).__name__ for s in SURFACES]


def _points(surface, n=7, seed=0):
    """n random points inside the surface's plotting window (float64)."""
    rng = np.random.default_rng(seed)
    low = np.array([surface.xlim[0], surface.ylim[0]])
    high = np.array([surface.xlim[1], surface.ylim[1]])
    return low + (high - low) * rng.random((n, 2)) * 0.8 + 0.1 * (high - low)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_gradient_matches_central_differences(surface):
    theta = _points(surface)
    h = 1e-6  # central-difference step: error O(h^2), rounding O(eps / h) ~ 1e-10 relative
    numeric = np.stack(
        [
            (surface.value(theta + h * e) - surface.value(theta - h * e)) / (2 * h)
            for e in np.eye(2)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(surface.gradient(theta), numeric, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_hessian_matches_differences_of_the_gradient(surface):
    theta = _points(surface)
    h = 1e-6
    columns = [
        (surface.gradient(theta + h * e) - surface.gradient(theta - h * e)) / (2 * h)
        for e in np.eye(2)
    ]
    numeric = np.stack(columns, axis=-1)
    hessian = surface.hessian(theta)
    assert hessian.shape == (7, 2, 2)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(hessian, np.swapaxes(hessian, -1, -2))


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_backend_tensors_agree_with_numpy_and_autodiff(surface):
    theta = _points(surface).astype("float32")
    value = surface.value(ops.convert_to_tensor(theta))
    assert not isinstance(value, np.ndarray)  # a backend tensor goes in, one comes out
    np.testing.assert_allclose(ops.convert_to_numpy(value), surface.value(theta), rtol=1e-5)
    gradient = surface.gradient(ops.convert_to_tensor(theta))
    np.testing.assert_allclose(ops.convert_to_numpy(gradient), surface.gradient(theta), rtol=1e-4)
    # The backend's own autodiff of the value agrees with the written-out gradient.
    if keras.backend.backend() == "jax":
        import jax

        autodiff = jax.grad(lambda t: surface.value(t).sum())(ops.convert_to_tensor(theta))
    else:
        import tensorflow as tf

        tf_theta = tf.constant(theta)
        with tf.GradientTape() as tape:
            tape.watch(tf_theta)
            loss = tf.reduce_sum(surface.value(tf_theta))
        autodiff = tape.gradient(loss, tf_theta)
    np.testing.assert_allclose(np.asarray(autodiff), surface.gradient(theta), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_minima_are_stationary_points_with_positive_curvature(surface):
    for point in surface.minima:
        np.testing.assert_allclose(surface.gradient(np.asarray(point)), [0.0, 0.0], atol=1e-12)
        assert np.all(surface.curvatures(point) > 0)
        assert surface.value(np.asarray(point)) == pytest.approx(surface.minimum_value)
    x, y, z = surface.grid(21)
    assert x.shape == y.shape == z.shape == (21, 21)
    assert z.min() >= surface.minimum_value - 1e-12


def test_named_values_of_the_surfaces():
    assert surfaces.Rosenbrock().minimum_value == 0.0
    # Rosenbrock's curvatures at (1, 1): 501 -+ sqrt(501^2 - 400), i.e. 0.3994 and 1001.6.
    np.testing.assert_allclose(
        surfaces.Rosenbrock().curvatures((1.0, 1.0)), [501 - np.sqrt(501**2 - 400), 501 + np.sqrt(501**2 - 400)], rtol=1e-9
    )
    assert surfaces.Saddle().minimum_value == -0.25
    np.testing.assert_allclose(surfaces.Saddle().curvatures((0.0, 0.0)), [-1.0, 1.0])
    assert surfaces.Beale().minimum_value == 0.0
    bowl = surfaces.Quadratic(eigenvalues=(2.0, 8.0), angle=45.0)
    np.testing.assert_allclose(bowl.curvatures((0.3, -2.0)), [2.0, 8.0])
    assert bowl.stability_threshold() == 0.25
    assert bowl.oscillation_threshold() == 0.125
    assert bowl.optimal_learning_rate() == 0.2


def test_registry():
    assert surfaces.available() == ["quadratic", "rosenbrock", "saddle", "beale"]
    assert isinstance(surfaces.get("Rosenbrock", b=10.0), surfaces.Rosenbrock)
    bowl = surfaces.Quadratic()
    assert surfaces.get(bowl) is bowl
    assert "eigenvalues=(1.0, 10.0)" in repr(bowl)


def test_gradient_descent_on_the_quadratic_follows_the_closed_form():
    bowl = surfaces.Quadratic(eigenvalues=(1.0, 10.0))
    eta, steps = 0.15, 12
    path = surfaces.descend(bowl, nt.optimizers.SGD(learning_rate=eta), steps=steps)
    t = np.arange(steps + 1)
    start = np.array(bowl.start)
    # Along eigenvector i the error is multiplied by (1 - eta * lambda_i) at each step.
    np.testing.assert_allclose(path["x"], start[0] * (1 - eta * 1.0) ** t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(path["y"], start[1] * (1 - eta * 10.0) ** t, rtol=1e-5, atol=1e-6)
    assert list(path.columns) == [
        "member", "step", "learning_rate", "x", "y", "loss", "diverged_step"
    ]
    np.testing.assert_allclose(path["learning_rate"], eta, rtol=1e-6)  # float32 variable


def test_learning_rate_thresholds_of_the_quadratic_are_sharp():
    bowl = surfaces.Quadratic(eigenvalues=(1.0, 10.0))  # 1/lambda_max = 0.1, 2/lambda_max = 0.2
    rates = [0.09, 0.11, 0.19, 0.21]
    path = surfaces.descend(bowl, nt.optimizers.SGD(learning_rate=rates), steps=150, max_loss=100)
    summary = surfaces.summarize(path)
    assert summary["learning_rate"].tolist() == pytest.approx(rates)
    assert summary["reversals"].tolist()[0] == 0  # below 1/lambda_max: no zig-zag
    assert summary["reversals"].tolist()[1] > 0  # above it: zig-zag
    assert summary["reversals"].tolist()[2] > 100  # close to 2/lambda_max: zig-zag throughout
    assert summary["diverged_step"].isna().tolist() == [True, True, True, False]
    assert summary["final_loss"].iloc[0] < 1e-4 * summary["initial_loss"].iloc[0]
    # Diverged: the path stops at the last step below max_loss, the loss grows by 1.1^2 a step.
    diverged = path[path["member"] == 3]
    assert diverged["step"].max() == summary["diverged_step"].iloc[3] - 1
    assert diverged["loss"].max() <= 100
    np.testing.assert_allclose(diverged["loss"].iloc[-1] / diverged["loss"].iloc[-2], 1.21, rtol=0.01)


def test_per_member_rates_match_separate_runs_and_keras():
    rates = [0.001, 0.002]
    together = surfaces.descend("rosenbrock", nt.optimizers.SGD(learning_rate=rates), steps=20)
    for member, rate in enumerate(rates):
        alone = surfaces.descend("rosenbrock", keras.optimizers.SGD(learning_rate=rate), steps=20)
        mine = together[together["member"] == member]
        # float32 rounding differs between one stacked variable and separate ones.
        np.testing.assert_allclose(mine[["x", "y"]], alone[["x", "y"]], rtol=1e-4)


def test_several_starts_adam_and_the_optimizer_left_untouched():
    optimizer = nt.optimizers.Adam(learning_rate=0.1)
    starts = [[-2.0, 0.02], [2.0, -0.02]]
    path = surfaces.descend(surfaces.Saddle(), optimizer, start=starts, steps=150)
    assert not optimizer.built  # a fresh copy did the work
    summary = surfaces.summarize(path)
    assert len(summary) == 2
    # Both paths escape the saddle into the valley on their side (L = -1/4 at (0, +-1)).
    np.testing.assert_allclose(summary["final_loss"], -0.25, atol=1e-2)
    last = path.groupby("member")[["y"]].last()["y"].to_numpy()
    np.testing.assert_allclose(last, [1.0, -1.0], atol=0.1)


def test_a_schedule_is_recorded_step_by_step():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    path = surfaces.descend("quadratic", keras.optimizers.SGD(learning_rate=schedule), steps=4)
    np.testing.assert_allclose(path["learning_rate"], 0.1 * 0.5 ** np.arange(5), rtol=1e-6)


def test_every_path_diverging_stops_early():
    path = surfaces.descend("quadratic", nt.optimizers.SGD(learning_rate=[5.0, 10.0]), steps=5000)
    summary = surfaces.summarize(path)
    assert summary["diverged_step"].notna().all()
    assert summary["steps"].max() < 20
    assert np.isfinite(path[["x", "y", "loss"]].to_numpy()).all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: surfaces.get("bowl"), r"`name_or_surface` must be one of .*Received: name_or_surface='bowl'"),
        (lambda: surfaces.get(surfaces.Saddle(), a=1), r"Received: name_or_surface=Saddle\(\)"),
        (lambda: surfaces.Quadratic(eigenvalues=(1.0, -1.0)), r"Received: eigenvalues=\(1.0, -1.0\)"),
        (lambda: surfaces.Quadratic(eigenvalues=(1.0,)), r"`eigenvalues` must be .*Received"),
        (lambda: surfaces.Quadratic(angle="x"), r"`angle` .*Received: angle='x'"),
        (lambda: surfaces.Quadratic(center=(0.0, np.nan)), r"`center` .*Received: center="),
        (lambda: surfaces.Rosenbrock(b=0), r"`b` must be a positive number. Received: b=0"),
        (lambda: surfaces.Rosenbrock(a=np.inf), r"`a` must be .*Received: a=inf"),
        (lambda: surfaces.Saddle().grid(1), r"`n` must be an integer >= 2. Received: n=1"),
        (lambda: surfaces.Saddle().value(np.zeros(3)), r"last axis of length 2.*shape=\(3,\)"),
        (lambda: surfaces.descend("saddle", "sgd"), r"`optimizer` must be a .*Received: optimizer='sgd'"),
        (lambda: surfaces.descend("saddle", keras.optimizers.SGD(), steps=0), r"Received: steps=0"),
        (lambda: surfaces.descend("saddle", keras.optimizers.SGD(), start=[1.0]), r"`start` must be .*Received: start=\[1.0\]"),
        (lambda: surfaces.descend("saddle", keras.optimizers.SGD(), max_loss=-1), r"Received: max_loss=-1"),
        (lambda: surfaces.descend("saddle", keras.optimizers.SGD(), dtype="int32"), r"Received: dtype='int32'"),
        (
            lambda: surfaces.descend("saddle", nt.optimizers.SGD(learning_rate=[0.1, 0.2]), start=np.zeros((3, 2))),
            r"one per member \(2 .*Received: start with 3 points",
        ),
        (lambda: surfaces.summarize(pd.DataFrame({"x": [1]})), r"`path` must be a DataFrame .*Received: path=DataFrame"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
