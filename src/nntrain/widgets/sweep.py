r"""Explorer 2: learning rate x initialization on a real network, from a precomputed sweep.

A log slider for the learning rate and a selector for the initializer; the figure shows
the training and validation curves of that configuration from an
:class:`nntrain.SweepResult`: the mean over seeds, with a band of :math:`\pm` one standard
deviation. Nothing trains when a control moves: the sweep ran once, before.
"""

from __future__ import annotations

import json

import ipywidgets
import matplotlib.figure
import matplotlib.lines
import numpy as np
import pandas as pd

from .. import _checks
from .. import plots
from ..sweeps import SweepResult
from ._base import Explorer, log_options
from ._static import csv_data, log_slider

__all__ = ["SweepExplorer", "explore_sweep"]

# Metrics the explorer can show, with their axis labels: Keras's names in the history.
_METRICS = {"loss": "loss", "accuracy": "accuracy"}
# Colours of the two curves (Okabe-Ito blue and orange, as in the course's palette).
_COLORS = {"training": "#0072B2", "validation": "#E69F00"}


class SweepExplorer(Explorer):
    """Training and validation curves of one (initializer, learning rate) of a sweep.

    Attributes:
        result: the :class:`nntrain.SweepResult`.
        data: ``curves``: one row per initializer, learning rate, metric, split and epoch
            with the ``mean`` and ``std`` over seeds (from :meth:`SweepResult.curves`).
    """

    key = "sweep"
    title = "Learning rate × initialization: mean over seeds, band ± 1 std"

    def __init__(self, result: SweepResult, metrics: list[str]):
        super().__init__()
        self.result = result
        self.metrics = metrics
        frames = []
        for metric in metrics:
            for split, column in (("training", metric), ("validation", f"val_{metric}")):
                curves = result.curves(column).assign(metric=metric, split=split)
                frames.append(curves)
        curves = pd.concat(frames, ignore_index=True)
        curves["std"] = curves["std"].fillna(0.0)  # one seed: no spread
        self.data = {"curves": curves[["init", "learning_rate", "metric", "split", "epoch",
                                       "mean", "std", "seeds"]]}
        self.inits = list(dict.fromkeys(result.table["init"]))
        self.learning_rates = np.sort(result.table["learning_rate"].unique())
        self.epochs = int(curves["epoch"].max())
        figure = matplotlib.figure.Figure(figsize=(4.8 * len(metrics), 3.4), dpi=90,
                                          layout="constrained")
        self._axes = np.atleast_1d(figure.subplots(1, len(metrics)))
        self._title = None
        middle = self.learning_rates[len(self.learning_rates) // 2]
        controls = {
            "init": ipywidgets.Dropdown(options=self.inits, description="init"),
            "learning_rate": ipywidgets.SelectionSlider(
                options=log_options(self.learning_rates), value=float(middle), description="η",
                layout=ipywidgets.Layout(width="360px")),
        }
        self._build(controls, figure)

    def _draw(self, values: dict) -> None:
        curves = self.data["curves"]
        if self._title is None:  # axes, labels, limits and legend are the fixed background
            self._restage()
            self._frames = {key: (g["epoch"].to_numpy(), g["mean"].to_numpy(), g["std"].to_numpy(),
                                  int(g["seeds"].max()))
                            for key, g in curves.sort_values("epoch").groupby(
                                ["init", "learning_rate", "metric", "split"], sort=False)}
            first = curves[(curves["init"] == self.inits[0])
                           & (curves["learning_rate"] == self.learning_rates[0])]
            for ax, metric in zip(self._axes, self.metrics):
                ax.set_xlim(1, max(self.epochs, 2))
                ax.set_xticks(range(1, self.epochs + 1) if self.epochs <= 10 else ax.get_xticks())
                if _is_loss(metric):
                    ax.set_yscale("log")
                ax.set_ylim(*_limits(curves[curves["metric"] == metric], _is_loss(metric)))
                ax.set_xlabel("epoch")
                ax.set_ylabel(_METRICS.get(metric, metric))
                for split, color in _COLORS.items():
                    part = first[(first["metric"] == metric) & (first["split"] == split)]
                    self._animate(*plots.band(ax, part, color=color, label=split))
                ax.legend(loc="best")
            self._title = self.figure.suptitle(" ")
            self._animate(self._title)
        artists = iter(self._animated)
        seeds = 0
        rate = float(self.learning_rates[np.argmin(np.abs(self.learning_rates - values["learning_rate"]))])
        for metric in self.metrics:
            for split in _COLORS:
                line, fill = next(artists), next(artists)
                epoch, mean, std, seeds = self._frames[(values["init"], rate, metric, split)]
                line.set_data(epoch, mean)
                fill.set_data(epoch, mean - std, mean + std)
        self._title.set_text(f"{values['init']}, η = {values['learning_rate']:.3g} (mean of {seeds} seeds)")

    def static_spec(self) -> dict:
        import altair as alt  # the book extra: only static twins need it
        curves = self.data["curves"].copy()
        curves["log_lr"] = np.round(np.log10(curves["learning_rate"]), 4)
        curves["i"] = curves["init"].map({name: i for i, name in enumerate(self.inits)})
        curves["low"] = curves["mean"] - curves["std"]
        losses = curves["metric"].map(_is_loss)  # on a log axis, a band may not reach 0
        curves.loc[losses, "low"] = np.maximum(curves.loc[losses, "low"], curves.loc[losses, "mean"] / 2)
        curves["high"] = curves["mean"] + curves["std"]
        init = alt.param(name="init", value=0, bind=alt.binding_select(
            options=list(range(len(self.inits))), labels=self.inits, name="init "))
        middle = self.learning_rates[len(self.learning_rates) // 2]
        lr, log_lr = log_slider("log_lr", self.learning_rates, middle)
        base = alt.Chart(csv_data(curves[["i", "log_lr", "metric", "split", "epoch", "mean",
                                          "low", "high"]])).transform_filter(
            f"datum.i == init && abs(datum.log_lr - {log_lr}) < 1e-3")
        color = alt.Color("split:N", title=None, scale=alt.Scale(
            domain=list(_COLORS), range=list(_COLORS.values())))
        x = alt.X("epoch:Q", scale=alt.Scale(domain=[1, max(self.epochs, 2)]),
                  axis=alt.Axis(tickMinStep=1, format="d"))
        panels = []
        for metric in self.metrics:
            part = base.transform_filter(alt.datum.metric == metric)
            log = _is_loss(metric)
            scale = alt.Scale(domain=list(_limits(curves[curves["metric"] == metric], log)),
                              nice=False, type="log" if log else "linear")
            band = part.mark_area(opacity=0.2).encode(
                x=x, y=alt.Y("low:Q", scale=scale, title=metric), y2="high:Q", color=color)
            line = part.mark_line(point=True).encode(x=x, y=alt.Y("mean:Q", scale=scale), color=color)
            panels.append(alt.layer(band, line).properties(width=250, height=210))
        spec = alt.hconcat(*panels).add_params(init, lr).to_dict()
        names = "[" + ",".join(json.dumps(n) for n in self.inits) + "][init]"
        spec["title"] = {"anchor": "start", "text": {
            "expr": f"{names} + ', η = ' + format(pow(10, {log_lr}), '.3~g')"}}
        return spec


def _is_loss(metric: str) -> bool:
    """Losses are drawn on a log scale: a diverging rate's loss is orders of magnitude larger."""
    return metric.endswith("loss")


def _limits(curves: pd.DataFrame, log: bool = False) -> tuple[float, float]:
    """y-axis limits that hold every mean curve of a metric and most of its bands."""
    finite = curves[np.isfinite(curves["mean"])]
    low = float((finite["mean"] - finite["std"]).min())
    high = float((finite["mean"] + finite["std"]).max())
    if log:
        low = max(low, float(finite["mean"].min()) / 2, 1e-6)  # a band's low edge may be <= 0
        return low / 1.1, high * 1.1
    span = high - low if high > low else 1.0
    return low - 0.05 * span, high + 0.05 * span


def explore_sweep(result: SweepResult, metrics=("loss", "accuracy")) -> SweepExplorer:
    """Explore a learning-rate x initializer sweep: curves per configuration, mean and band.

    Args:
        result: an :class:`nntrain.SweepResult` from :func:`nntrain.sweep` with several
            initializers and learning rates (and, for a band, several seeds).
        metrics: Keras metric names recorded in ``result.history`` with their ``val_``
            twins, one panel each. Defaults to ``("loss", "accuracy")``.

    Returns:
        A :class:`SweepExplorer`.

    Example:
        >>> result = nt.sweep("mlp", data, inits=["xavier_normal", "he_normal"],
        ...                   learning_rates=[1e-3, 1e-2, 1e-1], seeds=range(cfg.seeds))
        >>> nt.widgets.explore_sweep(result)  # doctest: +SKIP
    """
    if not isinstance(result, SweepResult):
        raise ValueError(f"`result` must be an nntrain.SweepResult (from nt.sweep). "
                         f"Received: result={type(result).__name__}")
    metrics = _checks.sequence("metrics", metrics, lambda m: isinstance(m, str),
                               accepted="a non-empty list of metric names")
    columns = set(result.history.columns)
    missing = [m for m in metrics if m not in columns or f"val_{m}" not in columns]
    if missing:
        raise ValueError(f"`metrics` must name metrics recorded with their val_ twins in the sweep's "
                         f"history ({sorted(columns)}). Received: metrics={list(metrics)!r}")
    if set(result.settings) != {"init", "learning_rate"}:
        raise ValueError("`result` must be a sweep over initializers and learning rates only. "
                         f"Received: result with settings {result.settings}")
    return SweepExplorer(result, list(metrics))
