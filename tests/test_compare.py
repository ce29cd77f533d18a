"""Tests of nntrain.compare: fair comparisons (tune_each, Comparison, surface_race) and the
probes (updates, train_steps, gradient_alignment), under TensorFlow and JAX."""

import keras
import numpy as np
import pandas as pd
import pytest

import nntrain as nt
from nntrain import compare, diagnostics, models, surfaces
from nntrain.compare import Comparison
from nntrain.sweeps import SweepResult

# ------------------------------------------------------------------ updates


def test_updates_of_sgd_are_minus_eta_g():
    g = np.random.default_rng(0).normal(size=(5, 3, 2))
    steps = compare.updates(nt.optimizers.SGD(0.1), g)
    assert steps.shape == g.shape and steps.dtype == np.float64
    np.testing.assert_allclose(steps, -0.1 * g, rtol=1e-6)


def test_updates_of_momentum_follow_the_velocity():
    steps = compare.updates(nt.optimizers.Momentum(0.1, momentum=0.5), np.ones((3, 1)))
    np.testing.assert_allclose(steps[:, 0], [-0.1, -0.15, -0.175], rtol=1e-6)


def test_updates_with_per_member_momentum_equal_separate_runs():
    g = np.random.default_rng(1).normal(size=(20, 2, 3))
    together = compare.updates(nt.optimizers.Momentum(0.05, momentum=[0.5, 0.9]), g)
    for k, alpha in enumerate([0.5, 0.9]):
        alone = compare.updates(nt.optimizers.Momentum(0.05, momentum=alpha), g[:, k])
        np.testing.assert_allclose(together[:, k], alone, rtol=1e-5, atol=1e-8)


def test_bias_corrected_adam_steps_alpha_for_a_constant_gradient():
    steps = compare.updates(nt.optimizers.Adam(0.01), np.full((30, 2), 3.0))
    np.testing.assert_allclose(steps, -0.01, rtol=1e-4)


def test_updates_work_with_keras_optimizers_and_match_ours():
    g = 1 + np.random.default_rng(2).uniform(-0.5, 0.5, size=(40, 4))
    ours = compare.updates(nt.optimizers.AdaGrad(0.1), g)
    theirs = compare.updates(keras.optimizers.Adagrad(0.1), g)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    # AdaGrad's effective rate is eta / sqrt(G_0 + sum g^2): the steps are measured exactly
    np.testing.assert_allclose(-ours / g, 0.1 / np.sqrt(0.1 + np.cumsum(g**2, axis=0)), rtol=1e-5)


def test_updates_leave_the_given_optimizer_unused():
    optimizer = nt.optimizers.Adam(0.01)
    compare.updates(optimizer, np.ones((3, 1)))
    assert not optimizer.built and int(optimizer.iterations) == 0


@pytest.mark.parametrize("optimizer, gradients, match", [
    ("adam", np.ones((3, 1)), r"`optimizer` must be a keras.optimizers.Optimizer.*Received: optimizer='adam'"),
    (nt.optimizers.SGD(0.1), np.ones(3), r"`gradients` must be .*Received: gradients=<ndarray of shape \(3,\)>"),
    (nt.optimizers.SGD(0.1), np.full((2, 1), np.nan), r"`gradients` must be a finite array"),
    (nt.optimizers.SGD(0.1), np.ones((0, 2)), r"at least one step"),
    (nt.optimizers.SGD(0.1, weight_decay=0.1), np.ones((2, 1)), r"weight decay.*Received: optimizer=<SGD with weight_decay=0.1>"),
])
def test_updates_reject_bad_input(optimizer, gradients, match):
    with pytest.raises(ValueError, match=match):
        compare.updates(optimizer, gradients)


# ------------------------------------------------------------------ train_steps


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype("float32")
    y = (x @ rng.normal(size=8) + 0.1 * rng.normal(size=96)).astype("float32")
    return x, y


def _flat_weights(model):
    return np.concatenate([np.ravel(w) for w in model.get_weights()])


def test_train_steps_compute_what_fit_computes(tabular):
    x, y = tabular
    ours = compare.train_steps(models.regression((8,), seed=0), nt.optimizers.Adam(0.01), x, y, 16)
    fitted = models.regression((8,), seed=0)
    fitted.compile(optimizer=nt.optimizers.Adam(0.01), loss="mean_squared_error")
    fitted.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours, _flat_weights(fitted), rtol=1e-5, atol=1e-6)
    start = _flat_weights(models.regression((8,), seed=0))
    assert np.abs(ours - start).max() > 1e-2, "the weights did not move"


def test_train_steps_show_our_momentum_equals_keras(tabular):
    x, y = tabular
    ours = compare.train_steps(models.regression((8,), seed=1), nt.optimizers.Nesterov(0.01), x, y, 10)
    theirs = compare.train_steps(models.regression((8,), seed=1),
                                 keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True), x, y, 10)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_train_steps_change_the_model_in_place(tabular):
    x, y = tabular
    model = models.regression((8,), seed=0)
    weights = compare.train_steps(model, nt.optimizers.SGD(0.01), x[:32], y[:32], 32)
    np.testing.assert_array_equal(weights, _flat_weights(model).astype(np.float64))


def test_train_steps_reject_bad_input(tabular):
    x, y = tabular
    fresh = models.regression((8,), seed=0)
    with pytest.raises(ValueError, match=r"`model` must be a built keras.Model"):
        compare.train_steps(keras.Sequential([keras.layers.Dense(1)]), nt.optimizers.SGD(0.1), x, y)
    used = nt.optimizers.SGD(0.1)
    compare.train_steps(models.regression((8,), seed=0), used, x[:16], y[:16], 16)
    with pytest.raises(ValueError, match=r"has not been used yet"):
        compare.train_steps(fresh, used, x, y)
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer. Received: batch_size=0"):
        compare.train_steps(fresh, nt.optimizers.SGD(0.1), x, y, batch_size=0)
    with pytest.raises(ValueError, match=r"`y` must be an array with one row per example of `x` \(96\). Received: y=<ndarray of shape \(10,\)>"):
        compare.train_steps(fresh, nt.optimizers.SGD(0.1), x, y[:10])
    with pytest.raises(ValueError, match=r"`loss` must be a Keras loss name or object. Received: loss='nope'"):
        compare.train_steps(fresh, nt.optimizers.SGD(0.1), x, y, loss="nope")


# ------------------------------------------------------------------ gradient_alignment


def test_alignment_of_the_whole_set_is_perfect_and_small_batches_are_noisier(tabular):
    x, y = tabular
    model = models.regression((8,), seed=0)
    frame = compare.gradient_alignment(model, x, y, [1, len(x)], draws=5, loss="mean_squared_error")
    assert list(frame.columns) == ["batch_size", "draw", "cosine", "noise"] and len(frame) == 10
    whole = frame[frame["batch_size"] == len(x)]
    np.testing.assert_allclose(whole["cosine"], 1.0, atol=1e-5)
    np.testing.assert_allclose(whole["noise"], 0.0, atol=1e-5)
    ones = frame[frame["batch_size"] == 1]
    assert (ones["cosine"] < 0.999).all() and (ones["noise"] > 1e-3).all()


def test_alignment_draws_are_the_cosines_of_those_batches(tabular):
    x, y = tabular
    model = models.regression((8,), seed=0)
    frame = compare.gradient_alignment(model, x, y, [4], draws=2, seed=3, loss="mean_squared_error")
    full = np.concatenate([g.ravel() for g in diagnostics.gradients(model, x, y, "mean_squared_error").values()])
    idx = np.random.default_rng(3).choice(len(x), size=4, replace=False)
    batch = np.concatenate([g.ravel() for g in
                            diagnostics.gradients(model, x[idx], y[idx], "mean_squared_error").values()])
    cosine = batch @ full / (np.linalg.norm(batch) * np.linalg.norm(full))
    np.testing.assert_allclose(frame["cosine"].iloc[0], cosine, rtol=1e-5)


@pytest.mark.parametrize("batch_sizes, draws, match", [
    ([0], 3, r"between 1 and len\(x\)=96. Received: batch_sizes=\[0\]"),
    ([97], 3, r"Received: batch_sizes=\[97\]"),
    ([2.5], 3, r"Received: batch_sizes=\[2.5\]"),
    ([], 3, r"non-empty list"),
    ([4], 0, r"`draws` must be a positive integer. Received: draws=0"),
])
def test_alignment_rejects_bad_input(tabular, batch_sizes, draws, match):
    x, y = tabular
    with pytest.raises(ValueError, match=match):
        compare.gradient_alignment(models.regression((8,), seed=0), x, y, batch_sizes, draws=draws)


# ------------------------------------------------------------------ surface_race

RATES = [0.01, 0.05, 0.15, 0.3]  # on the bowl with curvatures 1 and 10, 0.3 > 2/10 diverges


def test_surface_race_keeps_each_optimizer_at_its_lowest_final_loss():
    bowl = surfaces.Quadratic(eigenvalues=(1.0, 10.0))
    paths, table = compare.surface_race(bowl, ["sgd", "adam"], RATES, steps=40)
    assert list(table.index) == ["sgd", "adam"]
    for name in ["sgd", "adam"]:
        finals = []
        for rate in RATES:
            path = surfaces.descend(bowl, nt.optimizers.get(name, learning_rate=rate), steps=40)
            diverged = path["diverged_step"].notna().any()
            finals.append(np.inf if diverged else path["loss"].iloc[-1])
        best = int(np.argmin(finals))
        assert table.loc[name, "learning_rate"] == pytest.approx(RATES[best])
        assert table.loc[name, "final_loss"] == pytest.approx(finals[best], rel=1e-4, abs=1e-12)
        assert table.loc[name, "diverged"] == int(np.sum(np.isinf(finals)))
        chosen = paths[paths["optimizer"] == name]
        assert len(chosen) == 41 and chosen["learning_rate"].nunique() == 1
    assert table.loc["sgd", "diverged"] == 1  # 0.3 > 2 / lambda_max
    assert table["at_edge"].dtype == bool


def test_surface_race_flags_a_rate_at_the_edge_and_takes_settings():
    paths, table = compare.surface_race("quadratic", {"momentum": {"momentum": 0.5}}, [1e-4, 1e-3], steps=20)
    assert table.loc["momentum", "learning_rate"] == pytest.approx(1e-3) and table.loc["momentum", "at_edge"]
    direct = surfaces.descend("quadratic", nt.optimizers.Momentum(1e-3, momentum=0.5), steps=20)
    assert table.loc["momentum", "final_loss"] == pytest.approx(direct["loss"].iloc[-1], rel=1e-5)


def test_surface_race_per_optimizer_grids_and_errors():
    _, table = compare.surface_race("quadratic", ["sgd", "adam"], {"sgd": [0.05], "adam": [0.1, 0.2]}, steps=5)
    assert table.loc["sgd", "learning_rate"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match=r"Every learning rate of 'sgd' diverged"):
        compare.surface_race("quadratic", ["sgd"], [5.0, 10.0], steps=50)
    with pytest.raises(ValueError, match=r"`optimizers` must be a non-empty list of names .*Received: optimizers=\['lion'\]"):
        compare.surface_race("quadratic", ["lion"], [0.1])
    with pytest.raises(ValueError, match=r"`learning_rates` must give a grid for every optimizer; \['adam'\]"):
        compare.surface_race("quadratic", ["sgd", "adam"], {"sgd": [0.1]})
    with pytest.raises(ValueError, match=r"positive numbers .*Received: learning_rates=\[-0.1\]"):
        compare.surface_race("quadratic", ["sgd"], [-0.1])
    with pytest.raises(ValueError, match=r"Received: learning_rates=\[\]"):
        compare.surface_race("quadratic", ["sgd"], [])


# ------------------------------------------------------------------ Comparison (no training)


def _fake(rates, val, test=None, epochs=2):
    """A SweepResult with one member per (rate, seed); val[i][s] is its validation loss."""
    rows, history = [], []
    for i, rate in enumerate(rates):
        for s, loss in enumerate(val[i]):
            member = len(rows)
            rows.append({"member": member, "init": "he_normal", "learning_rate": rate, "seed": s,
                         "diverged": not np.isfinite(loss), "val_loss": loss,
                         "test_loss": (test[i][s] if test is not None else loss + 0.1)})
            for epoch in range(1, epochs + 1):
                history.append({"member": member, "init": "he_normal", "learning_rate": rate,
                                "seed": s, "epoch": epoch, "val_loss": loss + (epochs - epoch)})
    config = {"hyperparameters": ["init", "learning_rate", "seed"]}
    return SweepResult(table=pd.DataFrame(rows), history=pd.DataFrame(history), config=config)


@pytest.fixture
def comparison():
    return Comparison(results={
        "sgd": _fake([0.01, 0.1, 1.0], [[0.9, 1.1], [0.4, 0.6], [np.inf, np.inf]]),
        "adam": _fake([0.001, 0.01], [[0.5, 0.5], [0.3, 0.5]]),
    })


def test_best_takes_the_lowest_mean_validation_loss_and_flags_edges(comparison):
    best = comparison.best()
    assert list(best.index) == ["sgd", "adam"]
    assert best.loc["sgd", "learning_rate"] == 0.1 and not best.loc["sgd", "at_edge"]
    assert best.loc["adam", "learning_rate"] == 0.01 and best.loc["adam", "at_edge"]
    assert best.loc["sgd", "val_loss_mean"] == pytest.approx(0.5)
    assert best.loc["sgd", "val_loss_std"] == pytest.approx(np.std([0.4, 0.6], ddof=1))
    assert best.loc["sgd", "test_loss_mean"] == pytest.approx(0.6)
    assert best["rank"].to_dict() == {"sgd": 2, "adam": 1}
    assert comparison.test_metric == "test_loss"


def test_summary_at_and_curves(comparison):
    summary = comparison.summary()
    assert len(summary) == 5 and "init" not in summary.columns
    assert summary.loc[summary["learning_rate"] == 1.0, "diverged"].item() == 2
    at = comparison.at({"sgd": 0.01, "adam": np.float32(0.001)})  # a float32 rate still matches
    assert at.loc["sgd", "val_loss_mean"] == pytest.approx(1.0)
    curves = comparison.curves("val_loss")
    assert list(curves.columns) == ["optimizer", "learning_rate", "epoch", "mean", "std"]
    sgd = curves[curves["optimizer"] == "sgd"].sort_values("epoch")
    np.testing.assert_allclose(sgd["mean"], [1.5, 0.5])
    with pytest.raises(ValueError, match=r"rates on their grids. Received: learning_rates=\{'sgd': 0.5\}"):
        comparison.at({"sgd": 0.5})


def test_accuracy_is_maximized_and_all_nan_raises():
    rates = [0.01, 0.1]
    accuracy = _fake(rates, [[0.8, 0.8], [0.9, 0.85]])
    accuracy.table = accuracy.table.rename(columns={"val_loss": "val_accuracy", "test_loss": "test_accuracy"})
    comparison = Comparison({"adam": accuracy}, metric="val_accuracy")
    assert comparison.test_metric == "test_accuracy"
    best = comparison.best()
    assert best.loc["adam", "learning_rate"] == 0.1 and best.loc["adam", "rank"] == 1
    broken = Comparison({"sgd": _fake(rates, [[np.inf, np.inf], [np.nan, np.nan]])})
    with pytest.raises(ValueError, match=r"No learning rate of 'sgd' gave a finite val_loss"):
        broken.best()


# ------------------------------------------------------------------ tune_each (trains)


@pytest.fixture(scope="module")
def housing():
    return nt.data.load("california_housing", profile="smoke", synthetic=True)


def test_tune_each_runs_one_sweep_per_optimizer_over_its_grid(housing):
    grids = {"sgd": [0.01, 0.1], "momentum": [0.003]}
    result = compare.tune_each("regression", housing, {"sgd": {}, "momentum": {"momentum": 0.5}},
                               grids, seeds=[0, 1], epochs=1, jit_compile=False, verbose=0)
    assert list(result.results) == ["sgd", "momentum"]
    assert result.results["momentum"].config["optimizer"] == "Momentum"
    assert result.results["momentum"].config["optimizer_config"]["momentum"] == 0.5
    summary = result.summary()
    assert len(summary) == 3 and set(summary["seeds"]) == {2}
    # each optimizer's sweep holds its own grid times the seeds, with the sweep's arguments
    sgd = result.results["sgd"]
    assert sorted(sgd.table["learning_rate"].unique()) == [0.01, 0.1]
    assert sorted(sgd.table["seed"].unique()) == [0, 1] and sgd.config["epochs"] == 1
    assert np.isfinite(summary["val_loss_mean"]).all()
    best = result.best()
    assert best.loc["momentum", "at_edge"]  # a one-point grid is all edge


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "loss"}, r"`metric` must be one of .*Received: metric='loss'"),
    ({"inits": ["he_normal", "xavier_uniform"]}, r"`inits` must hold one initializer"),
    ({"optimizer": "sgd"}, r"`optimizer` is set by tune_each itself.*Received: optimizer='sgd'"),
    ({"hyperparameters": {"momentum": [0.5]}}, r"`hyperparameters` is set by tune_each itself"),
])
def test_tune_each_rejects_bad_input(housing, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare.tune_each("regression", housing, ["sgd"], [0.1], **kwargs)


def test_tune_each_rejects_bad_optimizers_and_grids(housing):
    with pytest.raises(ValueError, match=r"`optimizers` must be a non-empty list .*Received: optimizers='sgd'"):
        compare.tune_each("regression", housing, "sgd", [0.1])
    with pytest.raises(ValueError, match=r"`learning_rates` must be a non-empty list .*Received: learning_rates=0.1"):
        compare.tune_each("regression", housing, ["sgd"], 0.1)
