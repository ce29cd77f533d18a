"""Tests of the checkers of the chapter *Hyperparameter search*."""

import numpy as np
import pytest
from scipy import stats

from nntrain import check
from nntrain.check import hyperparameter_search as hs


def test_the_expected_answers_match_independent_computations():
    x = np.array(hs.SEED_ACCURACIES)
    assert hs.half_width() == pytest.approx(2.7764451 * x.std(ddof=1) / np.sqrt(5), rel=1e-6)
    rng = np.random.default_rng(0)
    draws = np.argsort(rng.random((20000, 27)), axis=1)[:, :9] // 3  # the rate of each drawn cell
    distinct = np.mean([len(np.unique(row)) for row in draws])
    assert hs.distinct_rates() == pytest.approx(distinct, abs=0.03)
    best = rng.binomial(500, 0.9, size=(20000, 20)).max(1).mean() / 500
    assert hs.expected_best() == pytest.approx(best, abs=5e-4)
    assert hs.expected_best(configs=1) == pytest.approx(0.9, abs=1e-12)  # no choice, no optimism


@pytest.mark.parametrize("name, right, wrong", [
    ("hyperparameter_search.ci_half_width", hs.half_width(),
     1.96 * stats.sem(hs.SEED_ACCURACIES)),  # the normal quantile instead of Student's t
    ("hyperparameter_search.distinct_rates", hs.distinct_rates(), 3.0),  # a grid's count
    ("hyperparameter_search.winners_curse", hs.expected_best(), 0.9),  # no optimism at all
])
def test_checkers_accept_the_answer_and_reject_a_typical_mistake(name, right, wrong):
    assert check.exercise(name, right)
    feedback = check.exercise(name, wrong)
    assert not feedback and len(feedback.message) > 40
    assert not check.exercise(name, "about a half")


def test_simulated_answers_within_their_noise_are_accepted():
    assert check.exercise("hyperparameter_search.distinct_rates", hs.distinct_rates() + 0.02)
    assert check.exercise("hyperparameter_search.winners_curse", hs.expected_best() - 0.001)
    assert not check.exercise("hyperparameter_search.winners_curse", hs.expected_best() + 0.01)
