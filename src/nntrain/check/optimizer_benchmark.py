"""Checks for the lab "Optimizer benchmark: six optimizers, three problems, several seeds".

The benchmark's outcome depends on the data, the profile and the seeds, so the checkers of
its data tasks take the evidence with the answer: ``(benchmark, answer)``, where
``benchmark`` is ``{problem: Comparison}`` (one :func:`nntrain.compare.tune_each` result per
problem). The expected value is computed here from ``benchmark`` and never shown.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..compare import Comparison
from ._core import Feedback, close, equal, register

__all__: list[str] = []  # checkers are reached through nt.check.exercise only


def _split(answer: object) -> tuple[dict[str, Comparison], object] | Feedback:
    """``(benchmark, answer)`` from a learner's pair, or the Feedback saying what is wrong."""
    usage = ("Pass the benchmark with your answer: "
             "nt.check.exercise(name, (benchmark, answer)), where benchmark maps each problem "
             "to its tune_each result.")
    if not isinstance(answer, tuple) or len(answer) != 2:
        return Feedback(False, usage)
    benchmark, value = answer
    if (not isinstance(benchmark, Mapping) or not benchmark
            or not all(isinstance(c, Comparison) for c in benchmark.values())):
        return Feedback(False, usage)
    return dict(benchmark), value


def _pairs(value: object) -> set[tuple[str, str]] | None:
    """A collection of ``(problem, optimizer)`` pairs as a set, or None if it is not one."""
    try:
        pairs = {(str(p), str(o).lower()) for p, o in value}
    except (TypeError, ValueError):
        return None
    return pairs


@register("optimizer_benchmark.edge")
def _edge(answer: object) -> Feedback:
    """Every ``(problem, optimizer)`` whose tuned rate is the smallest or largest of its grid."""
    split = _split(answer)
    if isinstance(split, Feedback):
        return split
    benchmark, value = split
    expected = {(p, o) for p, c in benchmark.items()
                for o, edge in c.best()["at_edge"].items() if edge}
    pairs = _pairs(value)
    if pairs is None:
        return Feedback(False, "Give a list of (problem, optimizer) pairs, e.g. "
                               "[('mnist', 'sgd')]; an empty list if no rate is at an edge.")
    if pairs == expected:
        return Feedback(True, "Well done.")
    return Feedback(False, f"{len(pairs & expected)} of your {len(pairs)} pairs are right and "
                           f"{len(expected - pairs)} are missing. Read the `at_edge` column of "
                           "best() for every problem of the benchmark.")


@register("optimizer_benchmark.remedy")
def _remedy(answer: object) -> Feedback:
    """What to do when a tuned rate sits on the edge of its grid (a letter)."""
    return equal(answer, "b", hint=(
        "At the edge, the best rate may lie beyond the grid: the optimizer has not been "
        "tuned yet. Which choice finds out?"))


@register("optimizer_benchmark.winners")
def _winners(answer: object) -> Feedback:
    """``{problem: optimizer}``: the optimizer ranked first on each problem."""
    split = _split(answer)
    if isinstance(split, Feedback):
        return split
    benchmark, value = split
    if not isinstance(value, Mapping):
        return Feedback(False, "Give a dict {problem: optimizer name}, one entry per problem.")
    if set(value) != set(benchmark):
        return Feedback(False, f"Give one entry for each problem {sorted(benchmark)}; your "
                               f"dict has {sorted(map(str, value))}.")
    wrong = sorted(p for p, c in benchmark.items()
                   if str(value[p]).lower() != c.best()["rank"].idxmin())
    if not wrong:
        return Feedback(True, "Well done.")
    return Feedback(False, f"Not right for {wrong}. The winner is the optimizer of rank 1 in "
                           "best(), each at its own tuned rate; mind that for accuracies "
                           "higher is better.")


@register("optimizer_benchmark.mean_rank")
def _mean_rank(answer: object) -> Feedback:
    """Each optimizer's rank averaged over the problems (a Series or dict by optimizer)."""
    split = _split(answer)
    if isinstance(split, Feedback):
        return split
    benchmark, value = split
    expected = pd.concat({p: c.best()["rank"] for p, c in benchmark.items()}, axis=1).mean(axis=1)
    try:
        given = pd.Series(dict(value) if isinstance(value, Mapping) else value, dtype=float)
    except (TypeError, ValueError):
        return Feedback(False, "Give a pandas Series (or dict) of mean ranks by optimizer name.")
    if set(given.index) != set(expected.index):
        return Feedback(False, f"Give one mean rank for each optimizer {sorted(expected.index)}.")
    if np.allclose(given.reindex(expected.index), len(expected) + 1 - expected, atol=1e-6):
        return Feedback(False, "These are reversed: rank 1 is the best optimizer of a problem.")
    return close(given.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-6, hint=(
        "Collect best()['rank'] of every problem into one table (optimizers by problems) and "
        "average each optimizer's row."))


@register("optimizer_benchmark.lesson")
def _lesson(answer: object) -> Feedback:
    """The lesson of Schmidt et al. (2021) that the benchmark supports (a letter)."""
    return equal(answer, "c", hint=(
        "Compare what tuning AdaGrad's rate did to its score with the gaps between the tuned "
        "optimizers, and ask whether one ranking held on every problem."))
