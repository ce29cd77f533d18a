r"""Explorer 4: optimizers side by side on a loss surface.

Pick the optimizers to show, a surface and a learning rate; the figure shows each
optimizer's path on the surface's contour lines and its suboptimality
:math:`L(\theta_t) - L^*` per step. All paths are computed when the explorer is made: one
:func:`nntrain.surfaces.descend` call per (surface, optimizer), every learning rate at once
as a per-member rate of the course's own optimizers (:mod:`nntrain.optimizers`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import ipywidgets
import matplotlib.figure
import matplotlib.lines
import numpy as np
import pandas as pd

from .. import optimizers as nt_optimizers
from .. import _checks, plots, surfaces
from .learning_rate import _check_surfaces
from ._base import Explorer, log_options
from ._static import choose, csv_data, log_slider

__all__ = ["OptimizerExplorer", "explore_optimizers"]

# Default grid: 10^-3 ... 10^0, two rates per decade.
_DEFAULT_RATES = 10.0 ** (np.arange(-6, 1) / 2)
# Okabe-Ito colours, one per optimizer in the order of nt.optimizers.available().
_PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
# The smallest L - L* drawn on the log axis.
_GAP_FLOOR = 1e-12
# Grid points per side of the static twin's contour lines.
_STATIC_GRID = 61


class OptimizerExplorer(Explorer):
    """Several optimizers on one surface at one learning rate (see :func:`explore_optimizers`).

    Attributes:
        surfaces: the surfaces, by name.
        optimizers: the optimizer names (``nt.optimizers.available()`` names).
        learning_rates: the grid of rates.
        data: ``paths`` (surface, optimizer, learning_rate, step, x, y, gap) and
            ``outcomes`` (one row per surface, optimizer and rate, from
            :func:`nntrain.surfaces.summarize`, with ``final_gap``).
    """

    key = "opt"
    title = "Optimizers side by side"

    def __init__(self, optimizer_names: list[str], surface_list: list[surfaces.Surface],
                 learning_rates: np.ndarray, steps: int):
        super().__init__()
        self.optimizers = optimizer_names
        self.surfaces = {s.name: s for s in surface_list}
        self.learning_rates = learning_rates
        self.steps = steps
        self.colors = dict(zip(optimizer_names, _PALETTE))
        self._compute()
        figure = matplotlib.figure.Figure(figsize=(9.0, 3.6), dpi=90, layout="constrained")
        self._axes = figure.subplots(1, 2)
        self._shown_surface: str | None = None
        default = learning_rates[np.argmin(np.abs(np.log10(learning_rates) + 2))]
        controls = {
            "surface": ipywidgets.Dropdown(options=list(self.surfaces), description="surface"),
            "learning_rate": ipywidgets.SelectionSlider(
                options=log_options(learning_rates), value=float(default), description="η",
                layout=ipywidgets.Layout(width="360px")),
        }
        for name in optimizer_names:
            controls[name] = ipywidgets.Checkbox(value=True, description=name, indent=False,
                                                 layout=ipywidgets.Layout(width="110px"))
        self._build(controls, figure)

    def _compute(self) -> None:
        paths, outcomes = [], []
        for surface_name, surface in self.surfaces.items():
            for name in self.optimizers:
                optimizer = nt_optimizers.get(name, learning_rate=self.learning_rates.tolist())
                path = surfaces.descend(surface, optimizer, steps=self.steps)
                summary = surfaces.summarize(path).reset_index()
                summary = summary.assign(surface=surface_name, optimizer=name,
                                         final_gap=summary["final_loss"] - surface.minimum_value)
                outcomes.append(summary)
                gap = np.maximum(path["loss"] - surface.minimum_value, _GAP_FLOOR)
                paths.append(path.assign(surface=surface_name, optimizer=name, gap=gap))
        paths = pd.concat(paths, ignore_index=True)
        outcomes = pd.concat(outcomes, ignore_index=True)
        paths["learning_rate"] = self.learning_rates[paths["member"].to_numpy()]
        outcomes["learning_rate"] = self.learning_rates[outcomes["member"].to_numpy()]
        # For the live face: each path's arrays, looked up without pandas.
        self._paths = {key: (g["x"].to_numpy(), g["y"].to_numpy(), g["step"].to_numpy(), g["gap"].to_numpy())
                       for key, g in paths.groupby(["surface", "optimizer", "learning_rate"], sort=False)}
        self.data = {
            "paths": paths[["surface", "optimizer", "learning_rate", "step", "x", "y", "gap"]],
            "outcomes": outcomes[["surface", "optimizer", "learning_rate", "final_gap",
                                  "diverged_step", "reversals"]],
        }

    def outcome(self, surface: str, optimizer: str, learning_rate: float) -> pd.Series:
        """The summary row of one surface, optimizer and rate (``final_gap``, ``diverged_step``, ...)."""
        table = self.data["outcomes"]
        rows = table[(table["surface"] == surface) & (table["optimizer"] == optimizer)
                     & np.isclose(table["learning_rate"], learning_rate, rtol=1e-6)]
        if rows.empty:
            raise ValueError(f"No path for surface={surface!r}, optimizer={optimizer!r}, "
                             f"learning_rate={learning_rate!r}: surfaces are {list(self.surfaces)}, "
                             f"optimizers {self.optimizers}, rates {self.learning_rates.tolist()}. "
                             f"Received: surface={surface!r}, optimizer={optimizer!r}, "
                             f"learning_rate={learning_rate!r}")
        return rows.iloc[0]

    def _draw(self, values: dict) -> None:
        name, rate = values["surface"], values["learning_rate"]
        surface = self.surfaces[name]
        ax_path, ax_loss = self._axes
        paths = self.data["paths"]
        if name != self._shown_surface:
            self._restage()
            ax_path.clear()
            plots.contours(ax_path, surface)
            ax_loss.clear()
            ax_loss.set_yscale("log")
            gaps = paths.loc[paths["surface"] == name, "gap"]
            ax_loss.set_ylim(gaps.min() / 3, gaps.max() * 3)
            ax_loss.set_xlim(0, self.steps)
            ax_loss.set_xlabel("step $t$")
            ax_loss.set_ylabel(r"$L(\theta_t) - L^*$")
            self._lines = {}
            for optimizer, color in self.colors.items():
                line, start = plots.path(ax_path, paths.iloc[:1], color=color, markersize=2.0)
                (loss,) = ax_loss.plot([], [], "-", color=color, label=optimizer)
                self._lines[optimizer] = (line, start, loss)
                self._animate(line, start, loss)
            ax_loss.legend(handles=[matplotlib.lines.Line2D([], [], color=c, label=o)
                                    for o, c in self.colors.items()], loc="best", fontsize=8)
            self._animate(ax_path.set_title(" "))
            self._shown_surface = name
        for optimizer, (line, start, loss) in self._lines.items():
            x, y, step, gap = self._paths[(name, optimizer, rate)]
            shown = bool(values[optimizer])
            for artist in (line, start, loss):
                artist.set_visible(shown)
            line.set_data(x, y)
            start.set_data(x[:1], y[:1])
            loss.set_data(step, gap)
        self._animated[-1].set_text(f"{name}, η = {rate:.3g}")

    def static_spec(self) -> dict:
        import altair as alt  # the book extra: only static twins need it
        names = list(self.surfaces)
        code = {n: i for i, n in enumerate(names)}
        opt_code = {n: i for i, n in enumerate(self.optimizers)}
        surface = alt.param(name="surface", value=0, bind=alt.binding_select(
            options=list(range(len(names))), labels=names, name="surface "))
        default = self.learning_rates[np.argmin(np.abs(np.log10(self.learning_rates) + 2))]
        lr, log_lr = log_slider("log_lr", self.learning_rates, default)
        shows = [alt.param(name=f"show_{n}", value=True, bind=alt.binding_checkbox(name=f"{n} "))
                 for n in self.optimizers]
        flags = "[" + ",".join(f"show_{n}" for n in self.optimizers) + "]"
        same = "datum.s == surface"
        paths = self.data["paths"].assign(
            s=lambda f: f["surface"].map(code), o=lambda f: f["optimizer"].map(opt_code),
            log_lr=lambda f: np.round(np.log10(f["learning_rate"]), 4))
        chart = alt.Chart(csv_data(paths[["s", "o", "log_lr", "step", "x", "y", "gap"]], digits=3))
        chart = chart.transform_filter(
            f"{same} && abs(datum.log_lr - {log_lr}) < 1e-3 && {flags}[datum.o]"
        ).transform_calculate(optimizer=f"{json.dumps(self.optimizers)}[datum.o]")
        palette = alt.Scale(domain=self.optimizers, range=list(self.colors.values()))
        color = alt.Color("optimizer:N", scale=palette,
                          legend=alt.Legend(orient="bottom", columns=6, title=None))

        def window(axis: int) -> list[dict]:
            limits = [s.xlim if axis == 0 else s.ylim for s in self.surfaces.values()]
            return [choose([float(lim[end]) for lim in limits], "surface") for end in (0, 1)]

        x = alt.X("x:Q", scale=alt.Scale(domain=window(0), nice=False), title="x")
        y = alt.Y("y:Q", scale=alt.Scale(domain=window(1), nice=False), title="y")
        lines = pd.concat([plots.contour_lines(s, n=_STATIC_GRID).assign(s=code[n])
                           for n, s in self.surfaces.items()])
        contour = alt.Chart(csv_data(lines[["s", "level", "line", "x", "y"]], digits=3)).mark_line(
            clip=True, strokeWidth=0.7, opacity=0.6).encode(
            x=x, y=y, detail="line:N", order="vertex:Q",
            color=alt.Color("level:Q", scale=alt.Scale(type="log", scheme="greys"), legend=None),
        ).transform_filter(same).transform_window(vertex="row_number()")
        route = chart.mark_line(point=alt.OverlayMarkDef(size=8), clip=True, strokeWidth=1.5).encode(
            x=x, y=y, order="step:Q", color=color)
        left = alt.layer(contour, route).properties(width=260, height=250).resolve_scale(color="independent")
        gaps = self.data["paths"].groupby("surface", sort=False)["gap"].agg(["min", "max"])
        low, high = (gaps.loc[names, "min"] / 3).tolist(), (gaps.loc[names, "max"] * 3).tolist()
        loss = chart.mark_line(clip=True).encode(
            x=alt.X("step:Q", scale=alt.Scale(domain=[0, self.steps]), title="step t"),
            y=alt.Y("gap:Q", title="L(θ_t) − L*", scale=alt.Scale(
                type="log", domain=[choose(low, "surface"), choose(high, "surface")])),
            color=alt.Color("optimizer:N", legend=None, scale=palette),  # one legend: the left one
        ).properties(width=210, height=250)
        spec = alt.hconcat(left, loss).add_params(surface, lr, *shows).to_dict()
        spec["title"] = {"anchor": "start", "text": {
            "expr": f"{json.dumps(names)}[surface] + ', η = ' + format(pow(10, {log_lr}), '.3~g')"}}
        return spec


def explore_optimizers(
    optimizer_names: Sequence[str] = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"),
    surface_names: Sequence[str | surfaces.Surface] = ("rosenbrock", "beale", "saddle"),
    learning_rates: Sequence[float] | None = None,
    steps: int = 80,
) -> OptimizerExplorer:
    """Explore optimizers side by side on 2-D loss surfaces.

    Args:
        optimizer_names: names of :func:`nntrain.optimizers.available`, at most 7, each
            with its default hyperparameters but the learning rate.
        surface_names: surfaces to choose from (names or :class:`nntrain.surfaces.Surface`).
        learning_rates: the slider's stops, increasing. Defaults to
            :math:`10^{-3}, 10^{-2.5}, \\dots, 1`.
        steps: steps per path.

    Returns:
        An :class:`OptimizerExplorer`.

    Example:
        >>> explorer = nt.widgets.explore_optimizers(["sgd", "adam"], ["rosenbrock"])
        >>> explorer.set(learning_rate=0.01, sgd=False)  # doctest: +SKIP
    """
    accepted = f"a list of 1 to {len(_PALETTE)} distinct names from {nt_optimizers.available()}"
    names = _checks.sequence("optimizer_names", optimizer_names,
                             lambda n: isinstance(n, str) and n in nt_optimizers.available(), accepted=accepted)
    if len(names) > len(_PALETTE) or len(set(names)) != len(names):
        _checks.fail("optimizer_names", accepted, optimizer_names)
    chosen = _check_surfaces(surface_names)
    accepted = "increasing positive rates (a non-empty list)"
    rates = _DEFAULT_RATES if learning_rates is None else _checks.array(
        "learning_rates", learning_rates, ndim=1, accepted=accepted)
    if np.any(rates <= 0) or np.any(np.diff(rates) <= 0):
        _checks.fail("learning_rates", accepted, learning_rates)
    if not _checks.is_int(steps) or not 1 <= steps <= 1000:
        _checks.fail("steps", "an integer from 1 to 1000", steps)
    return OptimizerExplorer(list(optimizer_names), chosen, rates, int(steps))
