"""Tests of nntrain.lr_finder: the range test, the sharpness, ScheduledSGD, training in phases."""

from __future__ import annotations

import math

import keras
import numpy as np
import pandas as pd
import pytest

import nntrain as nt
from nntrain import lr_finder
from nntrain.data import Dataset


# ----------------------------------------------------------------------------- fixtures


def _linear_data(n: int = 96, seed: int = 0) -> Dataset:
    """A small regression problem y = x w + b + noise, as an nntrain Dataset."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=n)).astype("float32")
    return Dataset("linear", x, y, x[:32], y[:32], x[:32], y[:32], source="test", num_classes=None)


def _linear_model(seed: int = 0) -> keras.Model:
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed))])


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return nt.load("digits", profile="smoke")


# ----------------------------------------------------------------------------- range test


def test_the_rate_grows_geometrically_from_min_to_max():
    test = lr_finder.LRRangeTest(min_lr=1e-4, max_lr=1.0, steps=9)
    rates = np.array([test.learning_rate(t) for t in range(9)])
    np.testing.assert_allclose(rates[[0, -1]], [1e-4, 1.0], rtol=1e-12)
    np.testing.assert_allclose(rates[1:] / rates[:-1], 10 ** 0.5, rtol=1e-12)


def test_recorded_losses_are_the_batch_losses_across_epochs():
    """The callback's losses match a NumPy replay of SGD on the same batches (two epochs)."""
    data, model = _linear_data(), _linear_model()
    w0, b0 = (a.astype(np.float64) for a in model.get_weights())
    test = lr_finder.LRRangeTest(min_lr=1e-3, max_lr=0.5, steps=12, smoothing=0.5, divergence=None)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    model.fit(data.x_train, data.y_train, batch_size=16, epochs=2, shuffle=False,
              callbacks=[test], verbose=0)
    frame = test.frame()
    assert list(frame.columns) == ["step", "learning_rate", "loss", "smoothed_loss"]
    assert len(frame) == 12  # 6 batches per epoch, two epochs
    w, b, losses = w0.copy(), b0.copy(), []
    x, y = data.x_train.astype(np.float64), data.y_train.astype(np.float64)
    for t in range(12):
        xb, yb = x[16 * (t % 6):16 * (t % 6 + 1)], y[16 * (t % 6):16 * (t % 6 + 1)]
        r = xb @ w[:, 0] + b[0] - yb
        losses.append(np.mean(r ** 2))
        w -= test.learning_rate(t) * (2 / 16 * xb.T @ r)[:, None]
        b -= test.learning_rate(t) * 2 / 16 * r.sum()
    np.testing.assert_allclose(frame["loss"], losses, rtol=2e-4)
    # the bias-corrected moving average with beta = 0.5
    m, expected = 0.0, []
    for t, loss in enumerate(frame["loss"]):
        m = 0.5 * m + 0.5 * loss
        expected.append(m / (1 - 0.5 ** (t + 1)))
    np.testing.assert_allclose(frame["smoothed_loss"], expected, rtol=1e-12)


def test_range_test_stops_at_divergence_and_restores_the_weights():
    data, model = _linear_data(), _linear_model()
    before = [w.copy() for w in model.get_weights()]
    frame = lr_finder.range_test(model, data, "sgd", min_lr=1e-3, max_lr=1e3, steps=60,
                                 batch_size=16, divergence=4.0)
    assert 5 < len(frame) < 60, len(frame)  # SGD on this quadratic diverges past eta ~ 1
    last = frame["smoothed_loss"].iloc[-1]
    assert not math.isfinite(last) or last > 4.0 * frame["smoothed_loss"].min()
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the loss falls before it blows up, and the suggestion sits below the blow-up
    assert frame["smoothed_loss"].min() < 0.5 * frame["smoothed_loss"].iloc[0]
    suggestion = frame.attrs["suggestion"]
    assert suggestion == pytest.approx(lr_finder.suggest(frame))
    assert 1e-3 < suggestion < frame["learning_rate"].iloc[-1] / 5


def test_range_test_runs_all_its_steps_when_nothing_diverges():
    data, model = _linear_data(), _linear_model()
    frame = lr_finder.range_test(model, data, "sgd", min_lr=1e-4, max_lr=1e-2, steps=25,
                                 batch_size=16, divergence=None)
    assert len(frame) == 25  # more steps than one epoch holds (96 / 16 = 6 batches)
    np.testing.assert_allclose(frame["learning_rate"].iloc[[0, -1]], [1e-4, 1e-2], rtol=1e-6)
    assert np.isfinite(frame["loss"]).all()
    # rates far below the blow-up: the loss of the last epoch's batches has not grown
    assert frame["loss"].iloc[-6:].mean() < frame["loss"].iloc[:6].mean()


def test_suggest_rules_on_a_known_curve():
    rates = np.geomspace(1e-3, 1e1, 41)
    curve = 2.0 - 1.5 / (1 + np.exp(-4 * (np.log10(rates) + 1.5)))  # falls fastest at 10^-1.5
    curve = np.where(rates > 1.0, curve + 10 * (rates - 1.0), curve)  # and blows up past 1
    frame = pd.DataFrame({"step": range(41), "learning_rate": rates, "loss": curve,
                          "smoothed_loss": curve})
    lowest = rates[np.argmin(curve)]
    assert lr_finder.suggest(frame) == pytest.approx(lowest / 10)
    assert lr_finder.suggest(frame, "steepest") == pytest.approx(10 ** -1.5, rel=0.13)


def test_plot_draws_both_curves_on_a_log_axis():
    import matplotlib.pyplot as plt

    rates = np.geomspace(1e-3, 1.0, 10)
    frame = pd.DataFrame({"step": range(10), "learning_rate": rates,
                          "loss": 1 + (np.log10(rates) + 1.5) ** 2, "smoothed_loss": 1 + rates})
    ax = lr_finder.plot(frame)
    assert ax.get_xscale() == "log"
    assert len(ax.lines) == 3  # raw, smoothed, suggestion
    plt.close(ax.figure)


@pytest.mark.parametrize("kwargs, match", [
    ({"min_lr": 0}, "min_lr"),
    ({"min_lr": 1e-2, "max_lr": 1e-3}, "max_lr"),
    ({"steps": 1}, "steps"),
    ({"smoothing": 1.0}, "smoothing"),
    ({"divergence": 1.0}, "divergence"),
])
def test_bad_range_test_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=f"`{match}` must be .*Received: {match}="):
        lr_finder.LRRangeTest(**kwargs)


def test_bad_range_test_inputs_raise():
    data, model = _linear_data(), _linear_model()
    with pytest.raises(ValueError, match="`batch_size` must be at most.*Received: batch_size=500"):
        lr_finder.range_test(model, data, batch_size=500)
    with pytest.raises(ValueError, match="`data` must be an nntrain Dataset"):
        lr_finder.range_test(model, (data.x_train, data.y_train))
    scheduled = keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(ValueError, match="constant learning rate"):
        lr_finder.range_test(model, data, scheduled, steps=3, batch_size=16)
    with pytest.raises(ValueError, match="`rule` must be one of"):
        lr_finder.suggest(pd.DataFrame({"step": [0, 1], "learning_rate": [1, 2], "loss": [1, 1],
                                        "smoothed_loss": [1, 1]}), rule="valley")
    with pytest.raises(ValueError, match="`frame` must be a DataFrame of range_test"):
        lr_finder.suggest(pd.DataFrame({"learning_rate": [1.0, 2.0]}))


# ----------------------------------------------------------------------------- sharpness


def test_sharpness_of_a_quadratic_loss_is_its_largest_curvature():
    """For a linear model with the MSE loss the Hessian is 2/n X^T X (a column of ones added)."""
    data, model = _linear_data(), _linear_model()
    x = data.x_train[:64]
    design = np.c_[x, np.ones(len(x))].astype(np.float64)
    expected = np.linalg.eigvalsh(2 / len(x) * design.T @ design).max()
    before = [w.copy() for w in model.get_weights()]
    value = lr_finder.sharpness(model, x, data.y_train[:64], iterations=60, loss="mse")
    assert value == pytest.approx(expected, rel=1e-3)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_sharpness_of_a_network_agrees_between_step_sizes(digits):
    model = nt.models.mlp(digits.input_shape, digits.num_classes, seed=0)
    x, y = digits.x_train[:128], digits.y_train[:128]
    coarse = lr_finder.sharpness(model, x, y, iterations=8, epsilon=1e-2)
    fine = lr_finder.sharpness(model, x, y, iterations=8, epsilon=1e-3)
    assert coarse > 0
    assert fine == pytest.approx(coarse, rel=0.02)


@pytest.mark.parametrize("kwargs, name", [({"iterations": 0}, "iterations"),
                                          ({"epsilon": -1.0}, "epsilon")])
def test_bad_sharpness_settings_raise(kwargs, name):
    data, model = _linear_data(), _linear_model()
    with pytest.raises(ValueError, match=f"`{name}` must be .*Received: {name}="):
        lr_finder.sharpness(model, data.x_train, data.y_train, **kwargs)


# ----------------------------------------------------------------------------- ScheduledSGD


def _steps(optimizer, shape, steps: int) -> np.ndarray:
    variable = keras.Variable(np.zeros(shape, "float32"))
    for _ in range(steps):
        optimizer.apply([keras.ops.ones(shape)], [variable])
    return keras.ops.convert_to_numpy(variable)


def test_each_member_follows_its_own_schedule():
    halving = nt.schedules.StepDecay(1.0, drop=0.5, step_size=1)
    opt = lr_finder.ScheduledSGD(learning_rate=[0.1, 0.2, 0.4], schedules=[None, halving],
                                 schedule=[0, 1, 1])
    value = _steps(opt, (3, 2, 4), 3)  # gradient 1 everywhere, three steps
    expected = -np.array([0.1 * 3, 0.2 * 1.75, 0.4 * 1.75])  # 1 + 1/2 + 1/4 = 1.75
    np.testing.assert_allclose(value, np.broadcast_to(expected[:, None, None], (3, 2, 4)), rtol=1e-6)


def test_one_schedule_matches_keras_sgd_with_that_schedule():
    shape = keras.optimizers.schedules.CosineDecay(1.0, decay_steps=10)
    ours = _steps(lr_finder.ScheduledSGD(0.3, schedules=[shape]), (5,), 7)
    keras_sgd = keras.optimizers.SGD(keras.optimizers.schedules.CosineDecay(0.3, decay_steps=10))
    np.testing.assert_allclose(ours, _steps(keras_sgd, (5,), 7), rtol=1e-6)
    # without schedules it is plain SGD
    np.testing.assert_allclose(_steps(lr_finder.ScheduledSGD(0.3), (5,), 4), -1.2, rtol=1e-6)


def test_scheduled_sgd_survives_config_and_serialization_round_trips():
    opt = lr_finder.ScheduledSGD(learning_rate=[0.1, 0.2], schedules=[
        None, nt.schedules.LinearWarmup(nt.schedules.CosineDecay(1.0, 20), 5)], schedule=[1, 0])
    config = opt.get_config()
    again = lr_finder.ScheduledSGD.from_config(config)
    assert again.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(opt))
    assert isinstance(restored, lr_finder.ScheduledSGD)
    np.testing.assert_allclose(_steps(restored, (2, 3), 8), _steps(opt, (2, 3), 8), rtol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"schedules": [None], "schedule": 1}, r"`schedule` must be an integer index in \[0, 1\)"),
    ({"schedules": [None, None], "schedule": 0.5}, "`schedule` must be an integer index"),
    ({"schedules": "cosine"}, "`schedules` must be a list"),
    ({"schedules": [0.1]}, "`schedules` must be a list"),
    ({"learning_rate": [0.1, 0.2], "schedules": [None, None], "schedule": [0, 1, 1]},
     "same length"),
])
def test_bad_scheduled_sgd_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lr_finder.ScheduledSGD(**kwargs)


def test_a_sweep_gives_each_member_its_schedule(digits):
    """Members 0 and 1 follow two forms of the constant rate; member 2 a cosine decay."""
    shapes = [None, nt.schedules.StepDecay(1.0, drop=1.0, step_size=1),
              nt.schedules.CosineDecay(1.0, decay_steps=16)]
    result = nt.sweep("mlp", digits, optimizer=lr_finder.ScheduledSGD(schedules=shapes),
                      learning_rates=[0.5], hyperparameters={"schedule": [0, 1, 2]},
                      seeds=[0], epochs=1, profile="smoke")
    table = result.table.set_index("schedule")
    assert table.loc[1, "val_loss"] == pytest.approx(table.loc[0, "val_loss"], rel=1e-6)
    assert abs(table.loc[2, "val_loss"] - table.loc[0, "val_loss"]) > 1e-3
    assert result.config["optimizer"] == "ScheduledSGD"


# ----------------------------------------------------------------------------- phases


def test_one_phase_is_exactly_nt_train():
    data = _linear_data()
    phases = lr_finder.train_in_phases(_linear_model(1), data, nt.optimizers.SGD(0.05), epochs=2,
                                       batch_size=20, seed=3)
    plain = nt.train(_linear_model(1), data, nt.optimizers.SGD(0.05), epochs=2, batch_size=20,
                     seed=3, verbose=0)
    np.testing.assert_allclose(phases.history["val_loss"], plain.history["val_loss"], rtol=1e-6)
    assert phases.history["steps"].tolist() == [5, 10]  # ceil(96 / 20) per epoch
    assert phases.test_metrics["loss"] == pytest.approx(plain.test_metrics["loss"], rel=1e-6)


def test_batch_size_and_rate_change_at_the_phase_starts():
    optimizer = nt.optimizers.SGD(0.1)
    run = lr_finder.train_in_phases(_linear_model(), _linear_data(), optimizer, epochs=4,
                                    batch_size={1: 16, 3: 48}, learning_rate={1: 0.2, 2: 0.1, 4: 0.05})
    history = run.history
    assert history["epoch"].tolist() == [1, 2, 3, 4]
    assert history["batch_size"].tolist() == [16, 16, 48, 48]
    np.testing.assert_allclose(history["learning_rate"], [0.2, 0.1, 0.1, 0.05], rtol=1e-6)
    assert history["steps"].tolist() == [6, 12, 14, 16]  # 96 examples: 6 then 2 steps an epoch
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == 16
    assert not run.diverged and run.epochs_run == 4 and "loss" in run.test_metrics
    assert history["loss"].iloc[-1] < 0.5 * history["loss"].iloc[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": {2: 64}}, "`batch_size` must be a positive integer or a dict"),
    ({"batch_size": {1: 64, 9: 128}}, "`batch_size` must be"),
    ({"batch_size": 0}, "`batch_size` must be"),
    ({"learning_rate": {1: -0.1}}, "`learning_rate` must be a positive number"),
    ({"epochs": 0}, "`epochs` must be a positive integer"),
])
def test_bad_phases_raise(kwargs, match):
    settings = {"epochs": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        lr_finder.train_in_phases(_linear_model(), _linear_data(), "sgd", **settings)
    with pytest.raises(ValueError, match="`data` must be an nntrain Dataset"):
        lr_finder.train_in_phases(_linear_model(), None)
