"""Checkers for the exercises of the chapter *Hyperparameter search*.

Each expected answer is computed here, from the numbers the exercise states, so that the
notebook a learner works in never prints it.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ._core import Feedback, close, register

__all__ = ["SEED_ACCURACIES", "distinct_rates", "expected_best", "half_width"]

# The exercise `ci_half_width`: validation accuracies of one configuration over five seeds.
SEED_ACCURACIES = (0.962, 0.955, 0.968, 0.951, 0.960)
# The exercise `distinct_rates`: 9 trials drawn without replacement from a lattice of 9
# learning rates x 3 initializers (27 configurations).
_RATES, _INITS, _TRIALS = 9, 3, 9
# The exercise `winners_curse`: 20 equally good configurations of true accuracy 0.9, each
# scored on the same 500 test examples with independent errors.
_CONFIGS, _ACCURACY, _EXAMPLES = 20, 0.9, 500


def half_width(values=SEED_ACCURACIES, confidence: float = 0.95) -> float:
    r"""Half the width of the Student-t interval of the mean: :math:`t_{n-1,(1+c)/2}\, s/\sqrt n`."""
    values = np.asarray(values, dtype=float)
    return float(stats.t.ppf((1 + confidence) / 2, len(values) - 1) * stats.sem(values))


def distinct_rates(rates: int = _RATES, inits: int = _INITS, trials: int = _TRIALS) -> float:
    r"""Expected number of distinct learning rates among ``trials`` configurations drawn
    without replacement from a ``rates`` x ``inits`` lattice.

    A rate is missed when all ``trials`` draws avoid its ``inits`` cells:

    .. math::

        \mathbb{E}[\text{distinct}] = r \left(1 - \binom{N - m}{n} \Big/ \binom{N}{n}\right),
        \qquad N = r m.
    """
    total = rates * inits
    return float(rates * (1 - special.comb(total - inits, trials) / special.comb(total, trials)))


def expected_best(configs: int = _CONFIGS, accuracy: float = _ACCURACY,
                  examples: int = _EXAMPLES) -> float:
    r"""Expected measured accuracy of the best of ``configs`` equally good configurations.

    Each measured accuracy is :math:`X/n` with :math:`X \sim \operatorname{Bin}(n, p)`,
    independently; the maximum of :math:`c` of them has
    :math:`\mathbb{E}[\max X] = \sum_{k=0}^{n-1} \big(1 - F(k)^c\big)`.
    """
    cdf = stats.binom.cdf(np.arange(examples), examples, accuracy)
    return float(np.sum(1 - cdf ** configs) / examples)


@register("hyperparameter_search.ci_half_width")
def _ci_half_width(answer) -> Feedback:
    return close(answer, half_width(), rtol=1e-3, hint=(
        "Use the sample standard deviation (ddof=1), divide by the square root of the number "
        "of seeds, and multiply by the t quantile with n - 1 degrees of freedom: "
        "scipy.stats.t.ppf(0.975, n - 1) (not the normal 1.96)."))


@register("hyperparameter_search.distinct_rates")
def _distinct_rates(answer) -> Feedback:
    # A simulation of 10,000 searches lands within about 0.01 of the exact value.
    return close(answer, distinct_rates(), rtol=0.0, atol=0.03, hint=(
        "Simulate many searches: draw 9 of the 27 (rate, initializer) cells without "
        "replacement and count the distinct rates; or count, for each rate, the chance that "
        "all 9 draws avoid its 3 cells."))


@register("hyperparameter_search.winners_curse")
def _winners_curse(answer) -> Feedback:
    # A simulation of 10,000 repeats lands within about 0.0002 of the exact value.
    return close(answer, expected_best(), rtol=0.0, atol=0.002, hint=(
        "In each repeat draw 20 accuracies as rng.binomial(500, 0.9, size=20) / 500 and keep "
        "the largest; average that maximum over many repeats. It is above 0.9."))
