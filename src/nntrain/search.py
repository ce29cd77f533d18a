r"""Hyperparameter search: sample configurations, train them with :func:`nntrain.sweep`,
and summarize each one over seeds with a confidence interval.

A *search space* maps each hyperparameter to an axis: :class:`LogUniform` for scales
such as the learning rate, :class:`Uniform`, or :class:`Choice` (a plain list is a
choice). :func:`grid` takes the product of a few values per axis; :func:`random` draws
every configuration independently (Bergstra & Bengio 2012). Either gives a table of
configurations, one row each, with the columns ``optimizer`` (a name of
:mod:`nntrain.optimizers`), ``init`` (an initializer name), ``learning_rate`` and any other
optimizer hyperparameter (``momentum``, ``beta_1``, ...).

:func:`run` trains them all, every configuration with every seed, in as few sweeps as it
can: :func:`plan` covers the table with boxes (products of initializers, learning rates
and hyperparameters that one :func:`nntrain.sweep` trains at once), one per optimizer when
the table is a grid. Plain SGD joins a momentum sweep as momentum :math:`\alpha = 0`, which
is exactly SGD. The result's :meth:`SearchResult.summary` gives, per configuration, the
mean over seeds and its Student-t (or bootstrap) interval from :mod:`scipy.stats`.

Example:
    >>> import nntrain as nt
    >>> space = {"optimizer": ["sgd", "adam"], "init": ["he_normal"],
    ...          "learning_rate": nt.search.LogUniform(1e-4, 1e-1)}
    >>> configs = nt.search.random(space, n=8, seed=0)
    >>> result = nt.search.run(configs, nt.load("digits"), seeds=[0, 1, 2], epochs=5)
    >>> result.summary("val_accuracy").nlargest(3, "val_accuracy_mean")

References:
    Bergstra, J. & Bengio, Y. (2012). Random search for hyper-parameter optimization.
    *JMLR* 13, 281-305. https://jmlr.org/papers/v13/bergstra12a.html
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd
from scipy import stats

from . import _checks
from . import optimizers as _optimizers
from . import sweeps as _sweeps
from .data import Dataset
from ._checks import is_int as _is_int

__all__ = [
    "Choice", "LogUniform", "Plan", "SearchResult", "Uniform", "compare", "grid", "plan",
    "predict", "random", "random_search", "run", "selection_optimism", "summarize",
]

# Optimizers that are another one with a hyperparameter fixed, so that they can share its
# sweep: SGD is Momentum with alpha = 0 (see nntrain.optimizers.Momentum).
_EQUIVALENT = {"sgd": ("momentum", {"momentum": 0.0})}
# The columns of a configuration table that are not optimizer hyperparameters.
_RESERVED = ("config", "optimizer", "init")
_DEFAULTS = {"optimizer": "adam", "init": "he_normal"}


# --------------------------------------------------------------------------- spaces


@dataclass(frozen=True)
class LogUniform:
    r"""An axis whose logarithm is uniform: :math:`\log x \sim U(\log a, \log b)`.

    Right for scales such as the learning rate, where :math:`10^{-3}` to :math:`10^{-2}`
    matters as much as :math:`10^{-2}` to :math:`10^{-1}`. Its grid is geometric.

    Args:
        low: :math:`a > 0`.
        high: :math:`b > a`.
    """

    low: float
    high: float

    def __post_init__(self):
        _check_range(self, positive=True)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.exp(rng.uniform(np.log(self.low), np.log(self.high), n))

    def grid(self, points: int) -> list:
        return np.geomspace(self.low, self.high, points).tolist()


@dataclass(frozen=True)
class Uniform:
    r"""An axis with :math:`x \sim U(a, b)`; its grid is evenly spaced.

    Args:
        low: :math:`a`.
        high: :math:`b > a`.
    """

    low: float
    high: float

    def __post_init__(self):
        _check_range(self, positive=False)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def grid(self, points: int) -> list:
        return np.linspace(self.low, self.high, points).tolist()


@dataclass(frozen=True)
class Choice:
    """An axis of a few values, drawn with equal probability; its grid is every value.

    Args:
        values: a non-empty sequence (a plain list in a space means the same).
    """

    values: tuple

    def __post_init__(self):
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Sequence) \
                or len(self.values) == 0:
            raise ValueError(f"`values` must be a non-empty list. Received: values={self.values!r}")
        object.__setattr__(self, "values", tuple(self.values))

    def sample(self, rng: np.random.Generator, n: int) -> list:
        return [self.values[i] for i in rng.integers(len(self.values), size=n)]

    def grid(self, points: int) -> list:
        return list(self.values)


Axis = LogUniform | Uniform | Choice


def grid(space: Mapping[str, Axis | Sequence], points: int | Mapping[str, int] = 3) -> pd.DataFrame:
    r"""Every combination of a few values per axis: a grid search.

    A grid of :math:`m` values on each of :math:`d` axes costs :math:`m^d` configurations,
    and tries only :math:`m` distinct values of any one hyperparameter.

    Args:
        space: hyperparameter name to axis (a plain list is a :class:`Choice`).
        points: values per continuous axis, one number or ``{name: points}``; a choice
            always contributes all its values.

    Returns:
        One row per configuration: ``config`` (0, 1, ...) and one column per axis.

    Example:
        >>> grid({"init": ["he_normal"], "learning_rate": LogUniform(1e-3, 1e-1)}, points=3)
    """
    axes = _space(space)
    continuous = [name for name, axis in axes.items() if not isinstance(axis, Choice)]
    counts = dict(points) if isinstance(points, Mapping) else {name: points for name in continuous}
    if sorted(counts) != sorted(continuous) or not all(_is_int(c) and c >= 1 for c in counts.values()):
        raise ValueError(f"`points` must be a positive integer, or a dict of them for each continuous "
                         f"axis {continuous}. Received: points={points!r}")
    values = {name: axis.grid(counts.get(name, 0)) for name, axis in axes.items()}
    frame = pd.DataFrame(list(itertools.product(*values.values())), columns=list(values))
    return _numbered(frame)


def random(space: Mapping[str, Axis | Sequence], n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` configurations, each axis drawn independently: a random search.

    Every configuration has its own value of every continuous axis, so ``n`` trials try
    ``n`` distinct learning rates where a grid of the same cost tries :math:`n^{1/d}`.

    Args:
        space: hyperparameter name to axis (a plain list is a :class:`Choice`).
        n: the number of configurations.
        seed: the seed of the draws.

    Returns:
        One row per configuration: ``config`` and one column per axis.

    Example:
        >>> random({"learning_rate": LogUniform(1e-4, 1.0)}, n=5, seed=0)
    """
    axes = _space(space)
    _checks.integer("n", n, minimum=1)
    _checks.integer("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    return _numbered(pd.DataFrame({name: axis.sample(rng, n) for name, axis in axes.items()}))


# --------------------------------------------------------------------------- planning


@dataclass
class Plan:
    """One sweep of a search: the arguments of :func:`nntrain.sweep` and what it covers.

    Attributes:
        optimizer: the optimizer name the sweep trains with.
        inits: its initializers.
        learning_rates: its learning rates (``None``: the optimizer's own).
        hyperparameters: its other swept optimizer hyperparameters.
        keys: one row per configuration it trains: ``config`` and the swept values
            (``init``, ``learning_rate``, ...) under which its members report them.
    """

    optimizer: str
    inits: list
    learning_rates: list | None
    hyperparameters: dict = field(default_factory=dict)
    keys: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def size(self) -> int:
        """Configurations in the sweep (its members are this times the seeds)."""
        n = len(self.inits) * len(self.learning_rates or [None])
        return n * int(np.prod([len(v) for v in self.hyperparameters.values()]))


def plan(configs: pd.DataFrame | Sequence[Mapping]) -> list[Plan]:
    """The sweeps that train ``configs``: as few as the table allows, none wasted.

    Configurations of one optimizer that form a product of initializers, learning rates
    and hyperparameters are one sweep. Otherwise the table is split along the axis with
    the fewest distinct values (the initializer, typically), and each part is planned
    the same way, so a random search over learning rates costs one sweep per optimizer
    and initializer. SGD configurations join a momentum sweep with :math:`\\alpha = 0`.

    Args:
        configs: a table from :func:`grid` or :func:`random`, or a list of dicts.

    Returns:
        A list of :class:`Plan`; every configuration is in exactly one of them.

    Example:
        >>> len(plan(grid({"optimizer": ["sgd", "momentum"], "learning_rate": [0.1, 0.01]})))
        1
    """
    frame = _configs(configs)
    present = set(frame["optimizer"])
    rows = []
    for _, row in frame.iterrows():
        optimizer, fixed = _EQUIVALENT.get(row["optimizer"], (row["optimizer"], {}))
        optimizer = optimizer if optimizer in present else row["optimizer"]
        fixed = fixed if optimizer != row["optimizer"] else {}
        rows.append({**row.dropna().to_dict(), **fixed, "optimizer": optimizer})
    mapped = pd.DataFrame(rows).astype({"config": frame["config"].dtype})
    plans = []
    for optimizer, group in mapped.groupby("optimizer", sort=False):
        group = group.dropna(axis=1, how="all")
        axes = [c for c in group.columns if c not in ("config", "optimizer")]
        group = _with_defaults(group, optimizer, axes)
        plans += [_plan_box(optimizer, box, axes) for box in _boxes(group, axes)]
    return plans


def _boxes(group: pd.DataFrame, axes: list[str]) -> list[pd.DataFrame]:
    """Split ``group`` into parts whose distinct configurations form a full product."""
    distinct = group.drop_duplicates(axes)
    sizes = {a: group[a].nunique() for a in axes}
    if len(distinct) == int(np.prod(list(sizes.values()))):
        return [group]
    axis = min((a for a in axes if sizes[a] > 1), key=lambda a: sizes[a])
    return [box for _, part in group.groupby(axis, sort=False) for box in _boxes(part, axes)]


def _plan_box(optimizer: str, box: pd.DataFrame, axes: list[str]) -> Plan:
    unique = {a: list(pd.unique(box[a])) for a in axes}
    extra = {a: [float(v) for v in values] for a, values in unique.items()
             if a not in ("init", "learning_rate")}
    rates = [float(v) for v in unique["learning_rate"]] if "learning_rate" in unique else None
    return Plan(optimizer=optimizer, inits=unique["init"], learning_rates=rates,
                hyperparameters=extra, keys=box[["config", *axes]].reset_index(drop=True))


def _with_defaults(group: pd.DataFrame, optimizer: str, axes: list[str]) -> pd.DataFrame:
    """Missing values of a column filled with the optimizer's default (its own value)."""
    defaults = _optimizers.get(optimizer).get_config()
    accepted = set(defaults) | {"init", "learning_rate"}
    for axis in axes:
        if axis not in accepted:
            raise ValueError(f"Configuration columns must be `optimizer`, `init` or hyperparameters of "
                             f"{optimizer}: {sorted(accepted - {'init'})}. Received: column {axis!r}")
        if group[axis].isna().any():
            group = group.assign(**{axis: group[axis].fillna(defaults.get(axis, _DEFAULTS.get(axis)))})
    return group


# --------------------------------------------------------------------------- running


@dataclass(eq=False)
class SearchResult:
    """What a search measured: one row per configuration and seed.

    Attributes:
        table: tidy, one row per (configuration, seed): the configuration's columns,
            ``seed``, ``sweep`` (which of :attr:`sweeps`), ``member`` (its index there) and
            the sweep's results (``epochs_run``, ``diverged``, ``val_*``, ``test_*``, ...).
        history: one row per (configuration, seed, epoch), with the training logs.
        sweeps: the :class:`nntrain.SweepResult` of each sweep.
        plans: the :class:`Plan` of each sweep.
    """

    table: pd.DataFrame
    history: pd.DataFrame
    sweeps: list
    plans: list

    @property
    def settings(self) -> list[str]:
        """The columns that define a configuration (without ``config`` and ``seed``)."""
        end = list(self.table.columns).index("seed")
        return [c for c in self.table.columns[:end] if c != "config"]

    def summary(self, metric: str = "val_accuracy", confidence: float = 0.95,
                method: str = "t") -> pd.DataFrame:
        """Per configuration, the mean of ``metric`` over seeds with its interval; see
        :func:`summarize`."""
        return summarize(self.table, metric, by=["config", *self.settings],
                         confidence=confidence, method=method)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The outputs of every row of :attr:`table` on ``x``: ``(rows, len(x), outputs)``."""
        out = [predict(result, x) for result in self.sweeps]
        return np.stack([out[s][m] for s, m in zip(self.table["sweep"], self.table["member"])])


def run(configs: pd.DataFrame | Sequence[Mapping], data: Dataset, model: str = "mlp",
        seeds: Sequence[int] = (0,), **sweep_kwargs) -> SearchResult:
    """Train every configuration with every seed, through as few sweeps as :func:`plan` finds.

    Args:
        configs: a table from :func:`grid` or :func:`random`, or a list of dicts.
        data: a :class:`~nntrain.data.Dataset`.
        model: a builder of :mod:`nntrain.models` by name or function (see
            :func:`nntrain.sweep`).
        seeds: the seeds every configuration runs with.
        **sweep_kwargs: more arguments of :func:`nntrain.sweep` (``epochs``,
            ``batch_size``, ``patience``, ``model_kwargs``, ``profile``, ...).

    Returns:
        A :class:`SearchResult`.

    Example:
        >>> result = run(grid({"learning_rate": LogUniform(1e-3, 1e-1)}), data, seeds=[0, 1])
        >>> result.summary("val_accuracy")
    """
    frame = _configs(configs)
    taken = {"inits", "learning_rates", "optimizer", "hyperparameters", "seeds"} & set(sweep_kwargs)
    if taken:
        raise ValueError(f"`sweep_kwargs` must not set what the configurations set: {sorted(taken)}. "
                         f"Received: sweep_kwargs keys {sorted(sweep_kwargs)}")
    plans = plan(frame)
    tables, histories, results = [], [], []
    for index, p in enumerate(plans):
        result = _sweeps.sweep(model, data, inits=p.inits, learning_rates=p.learning_rates,
                               seeds=seeds, optimizer=p.optimizer,
                               hyperparameters=p.hyperparameters or None, **sweep_kwargs)
        keys = [c for c in p.keys.columns if c != "config"]
        swept = result.hyperparameters  # init, learning_rate, the others, seed
        members = p.keys.merge(result.table[["member", *swept]], on=keys)[["config", "member", "seed"]]
        tables.append(members.merge(result.table.drop(columns=swept), on="member").assign(sweep=index))
        histories.append(members.merge(result.history.drop(columns=swept), on="member").assign(sweep=index))
        results.append(result)
    order = ["config", *[c for c in frame.columns if c != "config"], "seed", "sweep", "member"]
    table = frame.merge(pd.concat(tables, ignore_index=True), on="config")
    table = table[order + [c for c in table.columns if c not in order]]
    history = frame.merge(pd.concat(histories, ignore_index=True), on="config")
    return SearchResult(table=table.sort_values(["config", "seed"], ignore_index=True),
                        history=history.sort_values(["config", "seed", "epoch"], ignore_index=True),
                        sweeps=results, plans=plans)


def predict(result, x: np.ndarray) -> np.ndarray:
    """Every member's outputs on ``x``, from a sweep's stored weights: ``(K, len(x), outputs)``.

    The members are rebuilt as one stacked model (:func:`nntrain.sweeps.stack`) holding
    the weights the sweep ended with, so all :math:`K` are computed in one pass.

    Args:
        result: a :class:`nntrain.SweepResult` of a builder of :mod:`nntrain.models`.
        x: inputs of the shape the sweep trained on.

    Returns:
        A float array: class probabilities (classification) or predictions (regression).
    """
    _checks.instance("result", result, _sweeps.SweepResult, "a SweepResult (see nntrain.sweep)")
    name = result.config.get("model")
    if name not in _sweeps.BUILDERS:
        _checks.fail("result", f"a SweepResult of a sweep of a builder in {list(_sweeps.BUILDERS)}",
                     result, shown=f"<SweepResult with model={name!r}>")
    x = _checks.array("x", x, dtype="float32", accepted="a non-empty array of finite inputs")
    kwargs = {**result.config.get("model_kwargs", {}), **result.config.get("shape_kwargs", {})}
    one = _sweeps.BUILDERS[name](init="zeros", seed=0, **kwargs)  # its weights are replaced below
    k = len(result.table)
    stacked = _sweeps.stack([one] * k)
    _sweeps.set_member_weights(stacked, result.weights)
    out = keras.ops.convert_to_numpy(stacked(x, training=False))
    return np.moveaxis(out, 1, 0)


# --------------------------------------------------------------------------- statistics


def summarize(table: pd.DataFrame, metric: str, by: Sequence[str] = ("config",),
              confidence: float = 0.95, method: str = "t", seed: int = 0) -> pd.DataFrame:
    r"""Mean of ``metric`` over seeds per configuration, with a confidence interval.

    With :math:`n` seeds, mean :math:`\bar x` and sample standard deviation :math:`s`,
    the Student-t interval (``method="t"``, :func:`scipy.stats.t.interval`) is

    .. math::

        \bar x \pm t_{n-1,\,(1+c)/2}\; \frac{s}{\sqrt n},

    the right interval for a handful of seeds whose results are roughly normal.
    ``method="bootstrap"`` resamples the seeds (:func:`scipy.stats.bootstrap`,
    percentile method); it needs no normality but is too narrow with few seeds.

    Args:
        table: one row per run, e.g. :attr:`SearchResult.table`.
        metric: the column to summarize.
        by: the columns that define a configuration.
        confidence: the level :math:`c \in (0, 1)`.
        method: ``"t"`` or ``"bootstrap"``.
        seed: the seed of the bootstrap resamples.

    Returns:
        One row per configuration: ``by``, ``{metric}_mean``, ``_std``, ``_low``,
        ``_high`` (NaN with one seed) and ``seeds`` (finite values summarized).

    Example:
        >>> summarize(result.table, "val_accuracy", by=["config", "learning_rate"])
    """
    _check_metric("table", table, metric)
    by = _checks.sequence("by", by, lambda c: isinstance(c, str) and c in table.columns,
                          accepted=f"a non-empty list of columns of the table {list(table.columns)}")
    _check_confidence(confidence)
    _checks.choice("method", method, ("t", "bootstrap"))
    _checks.seed("seed", seed)
    rows = []
    for key, values in table.groupby(list(by), sort=False, dropna=False)[metric]:
        x = values.to_numpy(float)
        x = x[np.isfinite(x)]
        low, high = _interval(x, confidence, method, seed)
        rows.append((*key, x.mean() if len(x) else np.nan, x.std(ddof=1) if len(x) > 1 else np.nan,
                     low, high, len(x)))
    stat = [f"{metric}_{s}" for s in ("mean", "std", "low", "high")]
    return pd.DataFrame(rows, columns=[*by, *stat, "seeds"])


def _interval(x: np.ndarray, confidence: float, method: str, seed: int) -> tuple[float, float]:
    if len(x) < 2:
        return np.nan, np.nan
    if np.ptp(x) == 0:  # every seed agrees: the interval is that value
        return float(x[0]), float(x[0])
    if method == "t":
        return tuple(float(v) for v in stats.t.interval(confidence, len(x) - 1, x.mean(), stats.sem(x)))
    res = stats.bootstrap((x,), np.mean, confidence_level=confidence, method="percentile",
                          rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def compare(table: pd.DataFrame, a: int, b: int, metric: str = "val_accuracy",
            confidence: float = 0.95) -> pd.Series:
    r"""Configuration ``a`` minus ``b``, paired by seed, with a t interval.

    Runs with the same seed share their batches (and, for the same initializer, their
    starting weights), so the paired differences :math:`d_s = x_{a,s} - x_{b,s}` vary
    less than either configuration does; the interval is that of their mean
    (:func:`scipy.stats.ttest_rel`).

    Args:
        table: one row per run with ``config`` and ``seed`` columns.
        a: a ``config`` id.
        b: another ``config`` id.
        metric: the column to compare.
        confidence: the level of the interval.

    Returns:
        ``difference`` (mean of :math:`d_s`), ``low``, ``high``, ``p_value`` and ``seeds``.
    """
    _check_metric("table", table, metric)
    _check_confidence(confidence)
    pivot = table.pivot_table(index="seed", columns="config", values=metric)
    for name, value in (("a", a), ("b", b)):
        if value not in pivot.columns:
            _checks.fail(name, "a config id of the table", value)
    pair = pivot[[a, b]].dropna()
    if len(pair) < 2:
        _checks.fail("b", f"a config with at least two seeds in common with a={a!r}", b)
    test = stats.ttest_rel(pair[a], pair[b])
    ci = test.confidence_interval(confidence)
    return pd.Series({"difference": float((pair[a] - pair[b]).mean()), "low": float(ci.low),
                      "high": float(ci.high), "p_value": float(test.pvalue), "seeds": len(pair)})


def selection_optimism(correct: np.ndarray, candidates: Sequence[int], repeats: int = 500,
                       seed: int = 0) -> pd.DataFrame:
    r"""How much choosing the best of many models on one held-out set flatters it.

    ``correct[k, i]`` says whether model :math:`k` got held-out example :math:`i` right.
    Each repeat splits the examples at random into halves :math:`A` (the set used to
    choose, as a test set is when one early-stops or selects on it) and :math:`B`
    (fresh data), draws ``m`` of the models, and picks :math:`\hat k`, the most accurate
    on :math:`A`. Its *optimism* is

    .. math::

        \operatorname{acc}_A(\hat k) - \operatorname{acc}_B(\hat k),

    zero on average for one model and growing with the number it was chosen from.

    Args:
        correct: a ``(K, n)`` boolean (or 0/1) array.
        candidates: the numbers of models ``m`` to choose from, each in ``[1, K]``.
        repeats: random splits per ``m``.
        seed: the seed of the splits and draws.

    Returns:
        One row per ``(candidates, repeat)``: ``selected`` (accuracy on :math:`A` of the
        chosen model), ``fresh`` (on :math:`B`) and ``optimism``.
    """
    accepted = "a (models, examples) array of 0/1 with at least two examples"
    correct = _checks.array("correct", correct, ndim=2, accepted=accepted)
    if correct.shape[1] < 2 or not np.isin(correct, (0.0, 1.0)).all():
        _checks.fail("correct", accepted, correct, shown=_checks.shown(correct))
    k, n = correct.shape
    candidates = _checks.sequence("candidates", candidates, lambda m: _is_int(m) and 1 <= m <= k,
                                  accepted=f"a non-empty list of integers in [1, {k}]")
    _checks.integer("repeats", repeats, minimum=1)
    _checks.seed("seed", seed)
    rng = np.random.default_rng(seed)
    half = rng.permuted(np.tile(np.arange(n) < n // 2, (repeats, 1)), axis=1)  # (R, n): in A
    acc_a = correct @ half.T.astype(float) / half.sum(1)  # (K, R)
    acc_b = correct @ (~half).T.astype(float) / (~half).sum(1)
    rows = []
    for m in candidates:
        drawn = np.argsort(rng.random((repeats, k)), axis=1)[:, :m]  # m models per repeat
        scores = np.take_along_axis(acc_a.T, drawn, axis=1)
        best = drawn[np.arange(repeats), scores.argmax(1)]
        selected, fresh = acc_a[best, np.arange(repeats)], acc_b[best, np.arange(repeats)]
        rows.append(pd.DataFrame({"candidates": m, "repeat": np.arange(repeats), "selected": selected,
                                  "fresh": fresh, "optimism": selected - fresh}))
    return pd.concat(rows, ignore_index=True)


def random_search(pool: pd.DataFrame, metric: str, trials: int, repeats: int = 1000,
                  seed: int = 0, distinct: Sequence[str] = ()) -> pd.DataFrame:
    """Random searches of ``trials`` configurations, simulated by drawing from a pool.

    Bergstra & Bengio (2012) estimate what a random search of a given budget finds by
    drawing its trials, without replacement, from a larger pool of configurations that
    were all trained once; each repeat here is one such search, and the winner is the
    best on ``metric`` (lowest for losses and errors, highest otherwise).

    Args:
        pool: one row per configuration, e.g. a :meth:`SearchResult.summary`.
        metric: the column that picks the winner, e.g. ``"val_accuracy_mean"``.
        trials: the budget of each search, at most ``len(pool)``.
        repeats: how many searches to simulate.
        seed: the seed of the draws.
        distinct: columns whose number of distinct values among the trials to report.

    Returns:
        The winner's row of ``pool`` for each search, with ``repeat``, ``trials`` and
        ``distinct_{column}`` for each column of ``distinct``.
    """
    _check_metric("pool", pool, metric)
    if not _is_int(trials) or not 1 <= trials <= len(pool):
        _checks.fail("trials", f"an integer in [1, {len(pool)}]", trials)
    _checks.integer("repeats", repeats, minimum=1)
    _checks.seed("seed", seed)
    distinct = _checks.sequence("distinct", distinct, lambda c: isinstance(c, str) and c in pool.columns,
                                accepted="a list of columns of the pool", min_len=0)
    rng = np.random.default_rng(seed)
    drawn = np.argsort(rng.random((repeats, len(pool))), axis=1)[:, :trials]
    score = pool[metric].to_numpy(float)
    score = np.where(np.isfinite(score), score, np.inf if _lower_is_better(metric) else -np.inf)
    pick = np.argmin if _lower_is_better(metric) else np.argmax
    best = drawn[np.arange(repeats), pick(score[drawn], axis=1)]
    out = pool.iloc[best].reset_index(drop=True).assign(repeat=np.arange(repeats), trials=trials)
    for column in distinct:
        codes = pd.factorize(pool[column])[0][drawn]
        out[f"distinct_{column}"] = [len(np.unique(row)) for row in codes]
    return out


# --------------------------------------------------------------------------- helpers


def _check_metric(name: str, table: object, metric: object) -> None:
    """``table`` a non-empty DataFrame and ``metric`` one of its columns, or the package's error."""
    _checks.frame(name, table, min_rows=1)
    if not isinstance(metric, str) or metric not in table.columns:
        _checks.fail("metric", f"a column of the {name} {list(table.columns)}", metric)


def _check_confidence(confidence: object) -> float:
    return _checks.real("confidence", confidence, "a number in (0, 1)", lambda v: 0 < v < 1)


def _space(space) -> dict[str, Axis]:
    if not isinstance(space, Mapping) or not space:
        raise ValueError(f"`space` must be a non-empty dict of axes. Received: space={space!r}")
    axes = {}
    for name, axis in space.items():
        if isinstance(axis, (LogUniform, Uniform, Choice)):
            axes[name] = axis
        elif isinstance(axis, Sequence) and not isinstance(axis, (str, bytes)):
            axes[name] = Choice(tuple(axis))
        else:
            raise ValueError(f"`space` values must be LogUniform, Uniform, Choice or a list. "
                             f"Received: space[{name!r}]={axis!r}")
    return axes


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    frame.insert(0, "config", np.arange(len(frame)))
    return _configs(frame)


def _configs(configs) -> pd.DataFrame:
    """A checked copy of a configuration table, with ``config``, ``optimizer`` and ``init``."""
    if isinstance(configs, pd.DataFrame):
        frame = configs.copy()
    elif isinstance(configs, Sequence) and configs and all(isinstance(c, Mapping) for c in configs):
        frame = pd.DataFrame(list(configs))
    else:
        raise ValueError(f"`configs` must be a DataFrame or a non-empty list of dicts. "
                         f"Received: configs={configs!r}")
    if frame.empty:
        raise ValueError("`configs` must hold at least one configuration. Received: configs=empty")
    if "config" not in frame.columns:
        frame.insert(0, "config", np.arange(len(frame)))
    if frame["config"].duplicated().any():
        raise ValueError("`configs` must have distinct `config` ids. Received: duplicated ids "
                         f"{frame.loc[frame['config'].duplicated(), 'config'].tolist()}")
    for column, default in _DEFAULTS.items():
        if column not in frame.columns:
            frame[column] = default
    bad = sorted(set(frame["optimizer"]) - set(_optimizers.available()))
    if bad:
        raise ValueError(f"`optimizer` must be one of {_optimizers.available()}. Received: optimizer={bad[0]!r}")
    if not all(isinstance(i, str) for i in frame["init"]):
        raise ValueError(f"`init` must hold initializer names. Received: init={frame['init'].tolist()!r}")
    return frame[["config", "optimizer", "init", *[c for c in frame.columns if c not in _RESERVED]]]


def _check_range(axis, positive: bool) -> None:
    name = type(axis).__name__
    ok = all(isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
             for v in (axis.low, axis.high))
    if not ok or axis.low >= axis.high or (positive and axis.low <= 0):
        accepted = "0 < low < high" if positive else "low < high"
        raise ValueError(f"{name} needs finite numbers with {accepted}. "
                         f"Received: low={axis.low!r}, high={axis.high!r}")


def _lower_is_better(metric: str) -> bool:
    return any(word in metric for word in ("loss", "error"))
