"""Tests of nntrain.search: spaces, planning into sweeps, running, and the statistics."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import nntrain as nt
from nntrain import search

SPACE = {"optimizer": ["sgd", "momentum", "adam"], "init": ["xavier_uniform", "he_normal"],
         "learning_rate": search.LogUniform(1e-3, 1e-1)}


# ------------------------------------------------------------------------------ spaces


def test_grid_is_the_product_with_geometric_rates():
    configs = search.grid(SPACE, points=3)
    assert len(configs) == 3 * 2 * 3
    assert list(configs.columns) == ["config", "optimizer", "init", "learning_rate"]
    np.testing.assert_allclose(sorted(configs["learning_rate"].unique()), [1e-3, 1e-2, 1e-1], rtol=1e-12)
    assert configs["config"].tolist() == list(range(18))
    uniform = search.grid({"momentum": search.Uniform(0.5, 0.9)}, points={"momentum": 5})
    np.testing.assert_allclose(uniform["momentum"], [0.5, 0.6, 0.7, 0.8, 0.9])


def test_random_draws_log_uniform_rates_reproducibly():
    configs = search.random(SPACE, n=20000, seed=3)
    rates = configs["learning_rate"].to_numpy()
    assert rates.min() >= 1e-3 and rates.max() <= 1e-1
    # log10 of the rate is uniform on [-3, -1]: mean -2, standard deviation 2 / sqrt(12)
    assert abs(np.log10(rates).mean() + 2) < 0.02
    assert abs(np.log10(rates).std() - 2 / np.sqrt(12)) < 0.02
    assert set(configs["optimizer"]) == {"sgd", "momentum", "adam"}
    assert abs((configs["init"] == "he_normal").mean() - 0.5) < 0.02
    pd.testing.assert_frame_equal(search.random(SPACE, n=5, seed=3), search.random(SPACE, n=5, seed=3))
    assert configs["learning_rate"].nunique() == len(configs)  # every trial its own rate


@pytest.mark.parametrize("make, match", [
    (lambda: search.LogUniform(0.0, 1.0), r"0 < low < high.*Received: low=0.0, high=1.0"),
    (lambda: search.LogUniform(1.0, 0.1), r"Received: low=1.0, high=0.1"),
    (lambda: search.Uniform(1.0, 1.0), r"low < high.*Received: low=1.0"),
    (lambda: search.Choice([]), r"non-empty list.*Received: values=\[\]"),
    (lambda: search.grid({}, 3), r"`space` must be a non-empty dict"),
    (lambda: search.grid({"learning_rate": 0.1}, 3), r"Received: space\['learning_rate'\]=0.1"),
    (lambda: search.grid(SPACE, points=0), r"`points` must be a positive integer.*Received: points=0"),
    (lambda: search.grid(SPACE, points={"init": 2}), r"each continuous axis \['learning_rate'\]"),
    (lambda: search.random(SPACE, n=0), r"`n` must be a positive integer. Received: n=0"),
    (lambda: search.random(SPACE, n=2, seed=-1), r"Received: seed=-1"),
])
def test_bad_spaces_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------------------- planning


def test_a_grid_is_one_sweep_per_optimizer_and_sgd_joins_momentum():
    plans = search.plan(search.grid(SPACE, points=3))
    assert [p.optimizer for p in plans] == ["momentum", "adam"]
    momentum, adam = plans
    assert momentum.hyperparameters == {"momentum": [0.0, 0.9]}  # SGD is alpha = 0
    assert momentum.size == 12 and adam.size == 6 and adam.hyperparameters == {}
    assert sorted(np.concatenate([p.keys["config"] for p in plans])) == list(range(18))


def test_sgd_alone_keeps_its_own_optimizer():
    plans = search.plan(search.grid({"optimizer": ["sgd"], "learning_rate": [0.1, 0.01]}))
    assert len(plans) == 1 and plans[0].optimizer == "sgd" and plans[0].hyperparameters == {}
    assert plans[0].inits == ["he_normal"]  # the default initializer


def test_a_random_search_splits_along_the_initializer_without_waste():
    configs = search.random(SPACE, n=24, seed=0)
    plans = search.plan(configs)
    covered = np.concatenate([p.keys["config"] for p in plans])
    assert sorted(covered) == list(range(24))  # every configuration exactly once
    assert sum(p.size for p in plans) == 24  # no member that no configuration asked for
    for p in plans:
        assert len(p.inits) == 1  # learning rates vary within a sweep, initializers do not
    assert len(plans) <= 3 * 2 * 2  # optimizer (sgd/momentum merged) x init x momentum value


def test_configs_may_be_dicts_and_bad_ones_raise():
    plans = search.plan([{"optimizer": "adam", "learning_rate": 0.01, "beta_1": 0.8},
                         {"optimizer": "adam", "learning_rate": 0.01}])
    assert plans[0].hyperparameters == {"beta_1": [0.8, 0.9]}  # the missing one is Adam's default
    with pytest.raises(ValueError, match=r"`optimizer` must be one of .*Received: optimizer='lbfgs'"):
        search.plan([{"optimizer": "lbfgs"}])
    with pytest.raises(ValueError, match=r"`init` must hold initializer names"):
        search.plan([{"init": 3}])
    with pytest.raises(ValueError, match=r"hyperparameters of adam.*Received: column 'depth'"):
        search.plan([{"optimizer": "adam", "depth": 3}])
    with pytest.raises(ValueError, match=r"distinct `config` ids"):
        search.plan(pd.DataFrame({"config": [1, 1], "learning_rate": [0.1, 0.2]}))
    with pytest.raises(ValueError, match=r"`configs` must be a DataFrame"):
        search.plan("adam")


# ----------------------------------------------------------------------------- running


@pytest.fixture(scope="module")
def digits():
    return nt.load("digits", profile="smoke")


@pytest.fixture(scope="module")
def small_search(digits):
    configs = search.grid({"optimizer": ["sgd", "momentum"], "init": ["xavier_uniform", "he_normal"],
                           "learning_rate": [0.01, 0.1]})
    return search.run(configs, digits, model="deep_mlp", seeds=[0, 1], epochs=2, batch_size=128,
                      model_kwargs={"depth": 1, "width": 16})


def test_run_gives_one_row_per_configuration_and_seed(small_search):
    table = small_search.table
    assert len(small_search.sweeps) == 1  # SGD and momentum in one sweep
    assert len(table) == 8 * 2
    assert table[["config", "seed"]].drop_duplicates().shape[0] == 16
    assert list(table.columns[:6]) == ["config", "optimizer", "init", "learning_rate", "seed", "sweep"]
    assert {"val_accuracy", "test_accuracy", "epochs_run"} <= set(table.columns)
    assert len(small_search.history) == 16 * 2  # two epochs each
    assert small_search.settings == ["optimizer", "init", "learning_rate"]


def test_sgd_through_the_momentum_sweep_is_exactly_sgd(small_search, digits):
    alone = nt.sweep("deep_mlp", digits, inits=["xavier_uniform", "he_normal"], learning_rates=[0.01, 0.1],
                     seeds=[0, 1], optimizer="sgd", epochs=2, batch_size=128, verbose=0,
                     model_kwargs={"depth": 1, "width": 16})
    ours = small_search.table.query("optimizer == 'sgd'")
    merged = ours.merge(alone.table, on=["init", "learning_rate", "seed"], suffixes=("", "_alone"))
    assert len(merged) == 8
    np.testing.assert_allclose(merged["val_loss"], merged["val_loss_alone"], rtol=1e-5)


def test_predict_reproduces_the_recorded_accuracy(small_search, digits):
    probabilities = small_search.predict(digits.x_val)
    assert probabilities.shape == (16, len(digits.x_val), 10)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    accuracy = (probabilities.argmax(-1) == digits.y_val).mean(1)
    np.testing.assert_allclose(accuracy, small_search.table["val_accuracy"], atol=1e-6)


def test_run_refuses_arguments_the_configurations_set(digits):
    with pytest.raises(ValueError, match=r"must not set .*\['optimizer'\]"):
        search.run(search.grid({"learning_rate": [0.1]}), digits, optimizer="sgd")


def test_predict_refuses_a_sweep_it_cannot_rebuild(small_search):
    result = small_search.sweeps[0]
    other = type(result)(table=result.table, history=result.history, config={"model": "custom"})
    with pytest.raises(ValueError, match=r"Received: result=<SweepResult with model='custom'>"):
        search.predict(other, np.zeros((1, 8, 8, 1)))


# -------------------------------------------------------------------------- statistics


RUNS = pd.DataFrame({"config": [0] * 4 + [1] * 4 + [2], "seed": [0, 1, 2, 3] * 2 + [0],
                     "score": [0.90, 0.92, 0.91, 0.95, 0.88, 0.91, 0.89, 0.92, 0.5]})


def test_summarize_gives_the_student_t_interval():
    out = search.summarize(RUNS, "score").set_index("config")
    x = RUNS.query("config == 0")["score"].to_numpy()
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert out.loc[0, "score_mean"] == pytest.approx(x.mean())
    assert out.loc[0, "score_low"] == pytest.approx(x.mean() - half)
    assert out.loc[0, "score_high"] == pytest.approx(x.mean() + half)
    assert out.loc[0, "seeds"] == 4
    assert np.isnan(out.loc[2, "score_low"]) and np.isnan(out.loc[2, "score_std"])  # one seed
    narrow = search.summarize(RUNS, "score", confidence=0.5).set_index("config")
    assert narrow.loc[0, "score_high"] - narrow.loc[0, "score_low"] < 0.5 * 2 * half


def test_the_bootstrap_interval_lies_within_the_data_and_is_narrower_than_t():
    boot = search.summarize(RUNS, "score", method="bootstrap").set_index("config")
    t = search.summarize(RUNS, "score").set_index("config")
    x = RUNS.query("config == 0")["score"]
    assert x.min() <= boot.loc[0, "score_low"] < boot.loc[0, "score_high"] <= x.max()
    assert boot.loc[0, "score_high"] - boot.loc[0, "score_low"] < t.loc[0, "score_high"] - t.loc[0, "score_low"]


def test_summarize_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`metric` must be a column.*Received: metric='nope'"):
        search.summarize(RUNS, "nope")
    with pytest.raises(ValueError, match=r"Received: confidence=1.5"):
        search.summarize(RUNS, "score", confidence=1.5)
    with pytest.raises(ValueError, match=r"Received: method='z'"):
        search.summarize(RUNS, "score", method="z")


def test_compare_pairs_by_seed():
    out = search.compare(RUNS, 0, 1, metric="score")
    d = np.array([0.02, 0.01, 0.02, 0.03])
    assert out["difference"] == pytest.approx(d.mean())
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    assert out["low"] == pytest.approx(d.mean() - half) and out["high"] == pytest.approx(d.mean() + half)
    assert out["seeds"] == 4 and out["p_value"] < 0.05
    with pytest.raises(ValueError, match=r"Received: b=7"):
        search.compare(RUNS, 0, 7, metric="score")
    with pytest.raises(ValueError, match=r"at least two seeds in common"):
        search.compare(RUNS, 0, 2, metric="score")


def test_selection_optimism_is_zero_for_one_model_and_grows_with_choice():
    rng = np.random.default_rng(0)
    correct = rng.random((200, 400)) < 0.8  # 200 equally good models, independent errors
    out = search.selection_optimism(correct, [1, 10, 200], repeats=400).groupby("candidates").mean()
    assert abs(out.loc[1, "optimism"]) < 0.005
    # the best of 200 on 200 examples: about 2.7 standard deviations of 0.028 above, about 0.075
    assert 0.05 < out.loc[200, "optimism"] < 0.1
    assert out.loc[1, "optimism"] < out.loc[10, "optimism"] < out.loc[200, "optimism"]
    perfect = search.selection_optimism(np.ones((5, 10), bool), [5], repeats=3)
    assert (perfect["optimism"] == 0).all() and (perfect["fresh"] == 1).all()


def test_selection_optimism_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`correct` must be a \(models, examples\) array"):
        search.selection_optimism(np.full((3, 4), 0.5), [1])
    with pytest.raises(ValueError, match=r"`candidates` must be a non-empty list of integers in \[1, 3\]"):
        search.selection_optimism(np.ones((3, 4)), [4])
    with pytest.raises(ValueError, match=r"Received: repeats=0"):
        search.selection_optimism(np.ones((3, 4)), [1], repeats=0)


def test_random_search_finds_the_best_with_the_whole_pool_and_counts_distinct_values():
    pool = search.grid({"init": ["a", "b", "c"], "learning_rate": search.LogUniform(1e-3, 1.0)}, points=4)
    pool["val_accuracy_mean"] = np.linspace(0.1, 0.9, len(pool))
    pool["val_loss_mean"] = -pool["val_accuracy_mean"]
    full = search.random_search(pool, "val_accuracy_mean", trials=len(pool), repeats=5)
    assert (full["config"] == len(pool) - 1).all()
    lowest = search.random_search(pool, "val_loss_mean", trials=len(pool), repeats=5)
    assert (lowest["config"] == len(pool) - 1).all()  # a loss is minimized
    few = search.random_search(pool, "val_accuracy_mean", trials=3, repeats=2000, distinct=["learning_rate"])
    assert few["distinct_learning_rate"].between(1, 3).all()
    # 3 of 12 cells, 3 per rate: E[distinct] = 4 (1 - C(9,3)/C(12,3)) = 4 * (1 - 84/220)
    assert few["distinct_learning_rate"].mean() == pytest.approx(4 * (1 - 84 / 220), abs=0.05)
    with pytest.raises(ValueError, match=r"`trials` must be an integer in \[1, 12\]"):
        search.random_search(pool, "val_accuracy_mean", trials=13)
    with pytest.raises(ValueError, match=r"`distinct` must be a list of columns"):
        search.random_search(pool, "val_accuracy_mean", trials=2, distinct=["nope"])
