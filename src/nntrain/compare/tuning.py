"""Fair comparisons of optimizers: each over its own learning-rate grid and several seeds.

See :mod:`nntrain.compare` for why; :func:`tune_each` trains real networks with
:func:`nntrain.sweep`, :func:`surface_race` runs paths on the 2-D surfaces of
:mod:`nntrain.surfaces`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd

from .. import optimizers as _optimizers
from .. import surfaces as _surfaces
from ..data import Dataset
from ..sweeps import SweepResult, sweep

__all__ = ["Comparison", "surface_race", "tune_each"]

# Optimizers given as names, or as {name: {hyperparameter: value}} for settings other than
# the defaults (e.g. {"momentum": {"momentum": 0.5}}).
OptimizerSpec = Sequence[str] | Mapping[str, Mapping[str, object]]
# Relative tolerance when a learning rate is looked up on a grid: float32 round trips
# (an optimizer's config) change a rate in its 8th digit.
_RATE_RTOL = 1e-6


@dataclass(eq=False)
class Comparison:
    """The sweeps of :func:`tune_each`: one :class:`~nntrain.SweepResult` per optimizer.

    Attributes:
        results: ``{optimizer: SweepResult}``, in the order the optimizers were given.
        metric: the validation metric that picks each optimizer's learning rate, e.g.
            ``"val_loss"``; lower is better for losses and errors, higher otherwise.
    """

    results: dict[str, SweepResult]
    metric: str = "val_loss"
    _lower: bool = field(init=False, repr=False)

    def __post_init__(self):
        self._lower = any(word in self.metric for word in ("loss", "error"))

    @property
    def test_metric(self) -> str:
        """The test counterpart of :attr:`metric` (``val_loss`` -> ``test_loss``)."""
        return "test_" + self.metric.removeprefix("val_")

    def summary(self) -> pd.DataFrame:
        """Every optimizer and learning rate: mean and spread over seeds.

        Returns:
            One row per (optimizer, learning rate) with ``{metric}_mean``, ``{metric}_std``
            (sample standard deviation over seeds), the same for the test metric, ``seeds``
            and ``diverged`` (how many seeds diverged).
        """
        frames = []
        for name, result in self.results.items():
            frame = result.summary([self.metric, self.test_metric])
            frame.insert(0, "optimizer", name)
            frames.append(frame.drop(columns="init"))
        return pd.concat(frames, ignore_index=True)

    def best(self) -> pd.DataFrame:
        """Each optimizer at the learning rate with the best mean :attr:`metric`.

        A member that diverged has no finite validation metric, so a rate where any seed
        diverged is never chosen (its mean is ``NaN`` or infinite).

        Returns:
            One row per optimizer, indexed by ``optimizer``: ``learning_rate``, the
            :meth:`summary` columns, ``rank`` (1 is best) and ``at_edge``, true when the
            chosen rate is the smallest or largest of the grid (then the grid was too
            narrow to tell where the best rate lies).
        """
        summary = self.summary()
        rows = []
        for name, group in summary.groupby("optimizer", sort=False):
            score = group[f"{self.metric}_mean"].replace([np.inf, -np.inf], np.nan)
            if score.isna().all():
                raise ValueError(f"No learning rate of {name!r} gave a finite {self.metric}. "
                                 f"Received: learning_rates={group['learning_rate'].tolist()}")
            row = group.loc[score.idxmin() if self._lower else score.idxmax()].copy()
            rates = group["learning_rate"]
            row["at_edge"] = bool(row["learning_rate"] in (rates.min(), rates.max()))
            rows.append(row)
        best = pd.DataFrame(rows).set_index("optimizer")
        best["rank"] = best[f"{self.metric}_mean"].rank(ascending=self._lower).astype(int)
        return best

    def at(self, learning_rates: Mapping[str, float]) -> pd.DataFrame:
        """The :meth:`summary` rows of each optimizer at a given rate (e.g. its default).

        Args:
            learning_rates: ``{optimizer: rate}``; each rate must be on that optimizer's grid.

        Returns:
            One row per optimizer, indexed by ``optimizer``.
        """
        summary = self.summary()
        rows = []
        for name, rate in learning_rates.items():
            match = summary[(summary["optimizer"] == name)
                            & np.isclose(summary["learning_rate"], rate, rtol=_RATE_RTOL, atol=0)]
            if match.empty:
                raise ValueError(f"`learning_rates` must name optimizers of this comparison "
                                 f"{list(self.results)} with rates on their grids. "
                                 f"Received: learning_rates={dict(learning_rates)!r}")
            rows.append(match.iloc[0])
        return pd.DataFrame(rows).set_index("optimizer")

    def curves(self, metric: str = "val_loss") -> pd.DataFrame:
        """Learning curves of each optimizer at its best learning rate.

        Args:
            metric: a column of the sweeps' history (``loss``, ``val_loss``, ...).

        Returns:
            A tidy frame: ``optimizer``, ``learning_rate``, ``epoch``, ``mean``, ``std``.
        """
        best = self.best()
        frames = []
        for name, result in self.results.items():
            curve = result.curves(metric)
            rate = best.loc[name, "learning_rate"]
            curve = curve[np.isclose(curve["learning_rate"], rate, rtol=_RATE_RTOL, atol=0)]
            frames.append(curve.drop(columns="init").assign(optimizer=name))
        columns = ["optimizer", "learning_rate", "epoch", "mean", "std"]
        return pd.concat(frames, ignore_index=True)[columns]


def tune_each(
    model: str | Callable[..., keras.Model],
    data: Dataset,
    optimizers: OptimizerSpec,
    learning_rates: Sequence[float] | Mapping[str, Sequence[float]],
    seeds: Sequence[int] = (0, 1, 2),
    metric: str = "val_loss",
    **sweep_kwargs,
) -> Comparison:
    r"""Train each optimizer over its own learning-rate grid and several seeds.

    For optimizer :math:`o` with grid :math:`\mathcal{H}_o`, one :func:`nntrain.sweep`
    trains every rate :math:`\eta \in \mathcal{H}_o` with every seed :math:`s` on the same
    mini-batches, and :meth:`Comparison.best` picks

    .. math::

        \eta_o^\star = \arg\min_{\eta \in \mathcal{H}_o}
        \frac{1}{|S|} \sum_{s \in S} L_{\mathrm{val}}(o, \eta, s)

    (arg max for accuracies), so that each optimizer is judged at its own best rate, on
    validation data; the test split is only reported.

    Args:
        model: a builder name of :mod:`nntrain.models` (``"regression"``, ``"mlp"``, ...) or
            a builder function, as :func:`nntrain.sweep` takes it.
        data: a :class:`~nntrain.data.Dataset`.
        optimizers: names from :func:`nntrain.optimizers.available`, or
            ``{name: {hyperparameter: value}}`` to change other settings.
        learning_rates: one grid for every optimizer, or ``{name: grid}``.
        seeds: the seeds of every setting (at least one).
        metric: the validation metric that picks the rate: ``"val_loss"``,
            ``"val_accuracy"`` or ``"val_mean_absolute_error"``.
        **sweep_kwargs: passed to :func:`nntrain.sweep` (``epochs``, ``batch_size``,
            ``patience``, ``model_kwargs``, ``inits`` with one initializer, ...).

    Returns:
        A :class:`Comparison`.

    Example:
        >>> result = tune_each("regression", data, ["sgd", "adam"], [1e-3, 1e-2, 1e-1])
        >>> result.best()["learning_rate"]

    References:
        Schmidt, R. M., Schneider, F. & Hennig, P. (2021). Descending through a crowded
        valley: benchmarking deep learning optimizers. *ICML*. https://arxiv.org/abs/2007.01547
    """
    specs = _specs(optimizers)
    accepted = ("val_loss", "val_accuracy", "val_mean_absolute_error")
    if metric not in accepted:
        raise ValueError(f"`metric` must be one of {list(accepted)}. Received: metric={metric!r}")
    if "inits" in sweep_kwargs and len(sweep_kwargs["inits"]) != 1:
        raise ValueError("`inits` must hold one initializer: the comparison is about optimizers. "
                         f"Received: inits={sweep_kwargs['inits']!r}")
    for key in ("learning_rates", "optimizer", "hyperparameters"):
        if key in sweep_kwargs:
            raise ValueError(f"`{key}` is set by tune_each itself; pass `optimizers` and "
                             f"`learning_rates` instead. Received: {key}={sweep_kwargs[key]!r}")
    grids = _grids(learning_rates, list(specs))
    results = {}
    for name, settings in specs.items():
        optimizer = _optimizers.get(name, **settings)
        results[name] = sweep(model, data, learning_rates=grids[name], seeds=seeds,
                              optimizer=optimizer, **sweep_kwargs)
    return Comparison(results=results, metric=metric)


def surface_race(
    surface: _surfaces.Surface | str,
    optimizers: OptimizerSpec,
    learning_rates: Sequence[float] | Mapping[str, Sequence[float]],
    steps: int = 100,
    start: Sequence[float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each optimizer on a 2-D surface at the learning rate that ends lowest.

    One :func:`nntrain.surfaces.descend` call per optimizer runs a path for every rate of
    its grid at once (per-member learning rates); the path that ends at the lowest loss
    without diverging is that optimizer's entry.

    Args:
        surface: a :class:`~nntrain.surfaces.Surface` or its name.
        optimizers: names, or ``{name: {hyperparameter: value}}``.
        learning_rates: one grid for every optimizer, or ``{name: grid}``.
        steps: the number of steps of every path.
        start: the starting point; ``None`` takes the surface's.

    Returns:
        ``(paths, table)``: ``paths`` holds the chosen path of each optimizer (the columns
        of :func:`~nntrain.surfaces.descend` and ``optimizer``); ``table``, indexed by
        ``optimizer``, its ``learning_rate``, ``final_loss``, ``reversals`` (direction
        reversals, see :func:`~nntrain.surfaces.summarize`), ``at_edge`` and ``diverged``
        (how many rates of the grid diverged).

    Example:
        >>> paths, table = surface_race("rosenbrock", ["sgd", "adam"], [1e-3, 1e-2, 1e-1])
        >>> table["final_loss"]
    """
    surface = _surfaces._resolve(surface)
    specs = _specs(optimizers)
    grids = _grids(learning_rates, list(specs))
    frames, rows = [], []
    for name, settings in specs.items():
        optimizer = _optimizers.get(name, learning_rate=grids[name], **settings)
        path = _surfaces.descend(surface, optimizer, start=start, steps=steps)
        summary = _surfaces.summarize(path)
        finished = summary[summary["diverged_step"].isna()]
        if finished.empty:
            raise ValueError(f"Every learning rate of {name!r} diverged on the surface. "
                             f"Received: learning_rates={grids[name]}")
        member = finished["final_loss"].idxmin()
        row = summary.loc[member]
        rates = summary["learning_rate"]
        rows.append({"optimizer": name, "learning_rate": row["learning_rate"],
                     "final_loss": row["final_loss"], "reversals": int(row["reversals"]),
                     "at_edge": bool(row["learning_rate"] in (rates.min(), rates.max())),
                     "diverged": int(summary["diverged_step"].notna().sum())})
        frames.append(path[path["member"] == member].assign(optimizer=name))
    return pd.concat(frames, ignore_index=True), pd.DataFrame(rows).set_index("optimizer")


# ----------------------------------------------------------------------------- helpers


def _specs(optimizers: OptimizerSpec) -> dict[str, dict]:
    """``{name: settings}`` from a list of names or a mapping, names checked."""
    if isinstance(optimizers, Mapping):
        specs = {name: dict(settings or {}) for name, settings in optimizers.items()}
    elif isinstance(optimizers, Sequence) and not isinstance(optimizers, (str, bytes)):
        specs = {name: {} for name in optimizers}
    else:
        specs = {}
    if not specs or not all(isinstance(n, str) and n in _optimizers.available() for n in specs):
        raise ValueError(f"`optimizers` must be a non-empty list of names from "
                         f"{_optimizers.available()} (or a dict of them to their settings). "
                         f"Received: optimizers={optimizers!r}")
    return specs


def _grids(learning_rates, names: list[str]) -> dict[str, list[float]]:
    """One learning-rate grid per optimizer, each a non-empty list of positive floats."""
    if isinstance(learning_rates, Mapping):
        missing = [n for n in names if n not in learning_rates]
        if missing:
            raise ValueError(f"`learning_rates` must give a grid for every optimizer; "
                             f"{missing} have none. Received: learning_rates={learning_rates!r}")
        grids = {n: learning_rates[n] for n in names}
    else:
        grids = {n: learning_rates for n in names}
    out = {}
    for name, grid in grids.items():
        values = np.asarray(grid, dtype=float) if _is_sequence(grid) else np.empty(0)
        if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError(f"`learning_rates` must be a non-empty list of positive numbers (or "
                             f"a dict of optimizer names to such lists). Received: "
                             f"learning_rates={learning_rates!r}")
        out[name] = values.tolist()
    return out


def _is_sequence(value) -> bool:
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes))
