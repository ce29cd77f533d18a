"""Tests of the checkers of the lab "Optimizer benchmark"."""

import numpy as np
import pandas as pd
import pytest

import nntrain as nt
from nntrain import compare
from nntrain.check import optimizer_benchmark  # noqa: F401  (registers the checkers)


class _Fixed(compare.Comparison):
    """A Comparison whose best() is a given table (no training needed)."""

    def __init__(self, table: pd.DataFrame, metric: str = "val_loss"):
        super().__init__(results={}, metric=metric)
        self._table = table

    def best(self) -> pd.DataFrame:
        return self._table


def _table(ranks: dict[str, int], edge: tuple[str, ...] = ()) -> pd.DataFrame:
    return pd.DataFrame({"learning_rate": 0.01, "rank": ranks,
                         "at_edge": {name: name in edge for name in ranks}})


@pytest.fixture
def benchmark():
    return {
        "mnist": _Fixed(_table({"sgd": 3, "adam": 1, "adagrad": 2}, edge=("adagrad",)), "val_accuracy"),
        "housing": _Fixed(_table({"sgd": 2, "adam": 3, "adagrad": 1})),
    }


def test_edge_accepts_the_pairs_in_any_order_and_rejects_missing_ones(benchmark):
    assert nt.check.exercise("optimizer_benchmark.edge", (benchmark, [("mnist", "AdaGrad")]))
    assert not nt.check.exercise("optimizer_benchmark.edge", (benchmark, []))
    extra = [("mnist", "adagrad"), ("housing", "sgd")]
    feedback = nt.check.exercise("optimizer_benchmark.edge", (benchmark, extra))
    assert not feedback and "1 of your 2 pairs are right" in feedback.message
    assert not nt.check.exercise("optimizer_benchmark.edge", (benchmark, 3))


def test_checkers_without_the_benchmark_explain_how_to_call_them():
    for name in ("edge", "winners", "mean_rank"):
        feedback = nt.check.exercise(f"optimizer_benchmark.{name}", {"mnist": "adam"})
        assert not feedback and "(benchmark, answer)" in feedback.message
        assert not nt.check.exercise(f"optimizer_benchmark.{name}", ({"mnist": 1}, "adam"))


def test_winners_are_the_rank_one_optimizers(benchmark):
    assert nt.check.exercise("optimizer_benchmark.winners", (benchmark, {"mnist": "Adam", "housing": "adagrad"}))
    feedback = nt.check.exercise("optimizer_benchmark.winners", (benchmark, {"mnist": "adam", "housing": "sgd"}))
    assert not feedback and "['housing']" in feedback.message
    assert not nt.check.exercise("optimizer_benchmark.winners", (benchmark, {"mnist": "adam"}))
    assert not nt.check.exercise("optimizer_benchmark.winners", (benchmark, ["adam", "adagrad"]))


def test_mean_rank_is_the_row_mean_of_the_ranks(benchmark):
    right = pd.Series({"sgd": 2.5, "adam": 2.0, "adagrad": 1.5})
    assert nt.check.exercise("optimizer_benchmark.mean_rank", (benchmark, right))
    assert nt.check.exercise("optimizer_benchmark.mean_rank", (benchmark, right.to_dict()))
    reversed_ = nt.check.exercise("optimizer_benchmark.mean_rank", (benchmark, 4 - right))
    assert not reversed_ and "reversed" in reversed_.message
    assert not nt.check.exercise("optimizer_benchmark.mean_rank", (benchmark, right + 0.5))
    assert not nt.check.exercise("optimizer_benchmark.mean_rank", (benchmark, right.drop("sgd")))
    assert not nt.check.exercise("optimizer_benchmark.mean_rank", (benchmark, "adam"))


def test_letter_answers():
    assert nt.check.exercise("optimizer_benchmark.remedy", " B ")
    assert not nt.check.exercise("optimizer_benchmark.remedy", "a")
    assert nt.check.exercise("optimizer_benchmark.lesson", "c")
    feedback = nt.check.exercise("optimizer_benchmark.lesson", "b")
    assert not feedback and "AdaGrad" in feedback.message


def test_checkers_agree_with_a_real_comparison():
    data = nt.load("california_housing", profile="smoke")
    real = compare.tune_each("regression", data, ["sgd", "adam"], {"sgd": [1e-4, 1e-2], "adam": [1e-3, 1e-2, 0.1]},
                             seeds=[0], epochs=1, verbose=0, jit_compile=False, profile="smoke")
    best = real.best()
    bench = {"housing": real}
    winner = best["rank"].idxmin()
    assert nt.check.exercise("optimizer_benchmark.winners", (bench, {"housing": winner}))
    edges = [("housing", o) for o in best.index if best.loc[o, "at_edge"]]
    assert nt.check.exercise("optimizer_benchmark.edge", (bench, edges))
    assert nt.check.exercise("optimizer_benchmark.mean_rank", (bench, best["rank"].astype(float)))
    assert np.isclose(best["rank"].sum(), 3)  # ranks 1 and 2 of two optimizers
