r"""Explorer 1: the learning rate on a loss surface.

A log slider for the learning rate :math:`\eta` and a choice of surface; the figure shows
the gradient-descent path on the surface's contour lines and the suboptimality
:math:`L(\theta_t) - L^*` per step, so that slow convergence (small :math:`\eta`),
oscillation (:math:`\eta > 1/\lambda_{\max}` on the quadratic) and divergence
(:math:`\eta > 2/\lambda_{\max}`) can be seen side by side.

Every path for every (surface, rate) is computed when the explorer is made (one
:func:`nntrain.surfaces.descend` call per surface, all rates at once as per-member rates
of :class:`nntrain.optimizers.SGD`), so moving the slider only filters a table.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets
import matplotlib.figure
import numpy as np
import pandas as pd

from .. import _checks, plots, surfaces
from ..optimizers import SGD
from ._base import Explorer, log_options
from ._static import choose, csv_data

__all__ = ["LearningRateExplorer", "explore_learning_rate", "verdict"]

# The default grid: 10^-4 ... 10^0, eight rates per decade (log10 steps of 1/8, exact in binary).
_PER_DECADE = 8
_DEFAULT_RATES = 10.0 ** (np.arange(-4 * _PER_DECADE, 1) / _PER_DECADE)
# The smallest L - L* drawn on the log axis (an exact minimum would be -inf there).
_GAP_FLOOR = 1e-12
# The colour of the descent path (vermillion of the course's Okabe-Ito palette).
_PATH_COLOR = "#D55E00"
# Grid points per side for the static twin's contour lines (coarser than the live face's: lighter).
_STATIC_GRID = 61
# A path with at least this many direction reversals counts as oscillating.
_OSCILLATION_REVERSALS = 5
# A path that ends within this fraction of its initial suboptimality counts as converged.
_CONVERGED_FRACTION = 1e-3


def verdict(row: pd.Series) -> str:
    """Classify one path from its :func:`nntrain.surfaces.summarize` row (with ``minimum_value``).

    ``"diverges"`` if it diverged; else ``"oscillates"`` with at least 5 direction
    reversals; else ``"converges"`` if the suboptimality :math:`L - L^*` fell below
    1/1000 of its start; else ``"slow"``.
    """
    if not pd.isna(row["diverged_step"]):
        return "diverges"
    if row["reversals"] >= _OSCILLATION_REVERSALS:
        return "oscillates"
    start, end = row["initial_loss"] - row["minimum_value"], row["final_loss"] - row["minimum_value"]
    return "converges" if end <= _CONVERGED_FRACTION * start else "slow"


class LearningRateExplorer(Explorer):
    """Gradient descent on a 2-D surface for a grid of learning rates (see :func:`explore_learning_rate`).

    Attributes:
        surfaces: the :class:`nntrain.surfaces.Surface` objects, by name.
        learning_rates: the grid of rates (increasing, log-spaced).
        data: ``paths`` (surface, learning_rate, log_lr, step, x, y, gap), ``outcomes``
            (one row per surface and rate: verdict, diverged_step, reversals, ...).
    """

    key = "lr"
    title = "Gradient descent with learning rate η"

    def __init__(self, surface_list: Sequence[surfaces.Surface], learning_rates: np.ndarray,
                 steps: int):
        super().__init__()
        self.surfaces = {s.name: s for s in surface_list}
        self.learning_rates = learning_rates
        self.steps = steps
        self._compute()
        figure = matplotlib.figure.Figure(figsize=(9.0, 3.6), dpi=90, layout="constrained")
        self._axes = figure.subplots(1, 2)
        self._shown_surface: str | None = None
        default_rate = learning_rates[np.argmin(np.abs(np.log10(learning_rates) + 2))]  # ~0.01
        controls = {
            "surface": ipywidgets.Dropdown(options=list(self.surfaces), description="surface"),
            "learning_rate": ipywidgets.SelectionSlider(
                options=log_options(learning_rates), value=float(default_rate),
                description="η", continuous_update=True,
                layout=ipywidgets.Layout(width="420px")),
        }
        self._build(controls, figure)

    # ------------------------------------------------------------------ data

    def _compute(self) -> None:
        paths, outcomes = [], []
        for name, surface in self.surfaces.items():
            optimizer = SGD(learning_rate=self.learning_rates.tolist())
            path = surfaces.descend(surface, optimizer, steps=self.steps)
            summary = surfaces.summarize(path).assign(minimum_value=surface.minimum_value)
            summary["verdict"] = summary.apply(verdict, axis=1)
            summary["surface"] = name
            outcomes.append(summary.reset_index())
            path = path.assign(surface=name,
                               gap=np.maximum(path["loss"] - surface.minimum_value, _GAP_FLOOR))
            paths.append(path)
        paths = pd.concat(paths, ignore_index=True)
        outcomes = pd.concat(outcomes, ignore_index=True)
        rates = self.learning_rates[paths["member"].to_numpy()]
        paths["learning_rate"] = rates
        paths["log_lr"] = np.round(np.log10(rates), 6)
        outcomes["learning_rate"] = self.learning_rates[outcomes["member"].to_numpy()]
        outcomes["log_lr"] = np.round(np.log10(outcomes["learning_rate"]), 6)
        # For the live face: each path's arrays and its title, looked up without pandas.
        self._paths = {key: (g["x"].to_numpy(), g["y"].to_numpy(), g["step"].to_numpy(), g["gap"].to_numpy())
                       for key, g in paths.groupby(["surface", "learning_rate"], sort=False)}
        self._titles = {(r.surface, r.learning_rate): f"{r.surface}, η = {r.learning_rate:.3g}: {_describe(r)}"
                        for r in outcomes.itertuples()}
        self.data = {
            "paths": paths[["surface", "learning_rate", "log_lr", "step", "x", "y", "gap"]],
            "outcomes": outcomes[["surface", "learning_rate", "log_lr", "verdict", "diverged_step",
                                  "reversals", "initial_loss", "final_loss", "steps"]],
        }

    def outcome(self, surface: str, learning_rate: float) -> pd.Series:
        """The outcome row of one surface and one rate of the grid (``verdict``, ...)."""
        table = self.data["outcomes"]
        if surface not in self.surfaces:
            raise ValueError(f"`surface` must be one of {list(self.surfaces)}. Received: surface={surface!r}")
        index = np.flatnonzero(np.isclose(self.learning_rates, learning_rate, rtol=1e-6, atol=0))
        if len(index) == 0:
            raise ValueError("`learning_rate` must be a rate of the explorer's grid "
                             f"{[float(f'{r:.3g}') for r in self.learning_rates]}. "
                             f"Received: learning_rate={learning_rate!r}")
        rate = self.learning_rates[index[0]]
        return table[(table["surface"] == surface) & (table["learning_rate"] == rate)].iloc[0]

    def verdict(self, surface: str, learning_rate: float) -> str:
        """``"converges"``, ``"slow"``, ``"oscillates"`` or ``"diverges"`` (see :func:`verdict`)."""
        return self.outcome(surface, learning_rate)["verdict"]

    # ------------------------------------------------------------------ live face

    def _draw(self, values: dict) -> None:
        name, rate = values["surface"], values["learning_rate"]
        surface = self.surfaces[name]
        ax_path, ax_loss = self._axes
        paths = self.data["paths"]
        if name != self._shown_surface:  # the static part changes only with the surface
            self._restage()
            ax_path.clear()
            plots.contours(ax_path, surface)
            line, start = plots.path(ax_path, paths.iloc[:1], color=_PATH_COLOR)
            ax_loss.clear()
            (loss,) = ax_loss.plot([], [], "o-", color=_PATH_COLOR, markersize=3)
            ax_loss.set_yscale("log")
            gaps = paths.loc[paths["surface"] == name, "gap"]
            ax_loss.set_ylim(gaps.min() / 3, gaps.max() * 3)  # fixed: every rate on one scale
            ax_loss.set_xlim(0, self.steps)
            ax_loss.set_xlabel("step $t$")
            ax_loss.set_ylabel(r"$L(\theta_t) - L^*$")
            ax_loss.set_title("suboptimality per step")
            title = ax_path.set_title(" ")
            self._animate(line, start, loss, title)
            self._shown_surface = name
        line, start, loss, title = self._animated
        x, y, step, gap = self._paths[(name, rate)]
        line.set_data(x, y)
        start.set_data(x[:1], y[:1])
        loss.set_data(step, gap)
        title.set_text(self._titles[(name, rate)])

    # ------------------------------------------------------------------ static twin

    def static_spec(self) -> dict:
        import altair as alt  # the book extra: only static twins need it
        names = list(self.surfaces)
        code = {name: i for i, name in enumerate(names)}  # surfaces travel as small integers
        logs = np.log10(self.learning_rates)
        step = float(np.round(np.diff(logs).mean(), 6))
        start = float(logs[np.argmin(np.abs(logs + 2))])
        surface = alt.param(name="surface", value=0, bind=alt.binding_select(
            options=list(range(len(names))), labels=names, name="surface "))
        lr = alt.param(name="log_lr", value=start, bind=alt.binding_range(
            min=float(logs.min()), max=float(logs.max()), step=step, name="log₁₀ η "))
        same = "datum.s == surface"
        chosen = same + " && abs(datum.log_lr - log_lr) < 1e-4"

        def window(axis: int) -> list[dict]:
            limits = [s.xlim if axis == 0 else s.ylim for s in self.surfaces.values()]
            return [choose([float(lim[end]) for lim in limits], "surface") for end in (0, 1)]

        x = alt.X("x:Q", scale=alt.Scale(domain=window(0), nice=False), title="x")
        y = alt.Y("y:Q", scale=alt.Scale(domain=window(1), nice=False), title="y")
        lines = pd.concat([plots.contour_lines(surface, n=_STATIC_GRID).assign(s=code[name])
                           for name, surface in self.surfaces.items()])
        contour = alt.Chart(csv_data(lines[["s", "level", "line", "x", "y"]], digits=3)).mark_line(
            clip=True, strokeWidth=0.8, opacity=0.8).encode(
            x=x, y=y, detail="line:N", order="vertex:Q",  # vertices in the data's order
            color=alt.Color("level:Q", scale=alt.Scale(type="log", scheme="viridis"), legend=None),
        ).transform_filter(same).transform_window(vertex="row_number()")
        paths = self.data["paths"].assign(s=lambda f: f["surface"].map(code))
        paths = alt.Chart(csv_data(paths[["s", "log_lr", "step", "x", "y", "gap"]], digits=3))
        paths = paths.transform_filter(chosen)
        route = paths.mark_line(point=alt.OverlayMarkDef(size=15, color=_PATH_COLOR), clip=True,
                                color=_PATH_COLOR).encode(x=x, y=y, order="step:Q")
        minima = pd.DataFrame([(code[n], *m) for n, s in self.surfaces.items() for m in s.minima],
                              columns=["s", "x", "y"])
        stars = alt.Chart(csv_data(minima)).mark_point(shape="diamond", filled=True, size=80,
                                                       color="black").encode(x=x, y=y)
        outcomes = self.data["outcomes"].assign(s=lambda f: f["surface"].map(code), label=lambda f: [
            f"η = {r.learning_rate:.3g}: {_describe(r)}" for r in f.itertuples()])
        label = alt.Chart(csv_data(outcomes[["s", "log_lr", "label"]])).mark_text(
            align="left", baseline="top", fontSize=13, fontWeight="bold", dx=4, dy=4,
        ).encode(text="label:N", x=alt.value(0), y=alt.value(0)).transform_filter(chosen)
        left = alt.layer(contour, route, stars.transform_filter(same), label).properties(
            width=300, height=260)
        gaps = self.data["paths"].groupby("surface", sort=False)["gap"].agg(["min", "max"])
        low, high = (gaps.loc[names, "min"] / 3).tolist(), (gaps.loc[names, "max"] * 3).tolist()
        loss = paths.mark_line(point=alt.OverlayMarkDef(size=15, color=_PATH_COLOR), clip=True,
                               color=_PATH_COLOR).encode(
            x=alt.X("step:Q", scale=alt.Scale(domain=[0, self.steps]), title="step t"),
            y=alt.Y("gap:Q", title="L(θ_t) − L*", scale=alt.Scale(
                type="log", domain=[choose(low, "surface"), choose(high, "surface")])),
        ).properties(width=230, height=260, title="suboptimality per step")
        chart = alt.hconcat(left, loss).add_params(surface, lr).resolve_scale(color="independent")
        return chart.to_dict()


def _describe(outcome) -> str:
    """A few words on an outcome row: its verdict, with the step of divergence."""
    if outcome.verdict == "diverges":
        return f"diverges (step {int(outcome.diverged_step)})"
    return {"slow": "converges slowly"}.get(outcome.verdict, outcome.verdict)


def explore_learning_rate(
    surface_names: Sequence[str | surfaces.Surface] = ("quadratic", "rosenbrock", "saddle"),
    learning_rates: Sequence[float] | None = None,
    steps: int = 50,
) -> LearningRateExplorer:
    r"""Explore gradient descent's learning rate on 2-D loss surfaces.

    Each step is :math:`\theta_{t+1} = \theta_t - \eta \nabla L(\theta_t)` from the
    surface's start. On the ill-conditioned quadratic with curvatures
    :math:`\lambda_{\min} \le \lambda_{\max}` the path converges smoothly for
    :math:`\eta < 1/\lambda_{\max}`, oscillates across the valley for
    :math:`1/\lambda_{\max} < \eta < 2/\lambda_{\max}` and diverges above
    :math:`2/\lambda_{\max}`.

    Args:
        surface_names: surfaces to choose from: names of :func:`nntrain.surfaces.available`
            or :class:`nntrain.surfaces.Surface` objects (distinct names).
        learning_rates: an increasing, log-spaced grid of rates (the slider's stops).
            Defaults to :math:`10^{-4}, 10^{-4+1/8}, \dots, 1` (33 rates).
        steps: gradient-descent steps per path.

    Returns:
        A :class:`LearningRateExplorer`; as a cell's last value it shows the live face in
        a kernel and the static twin on the website.

    Example:
        >>> import nntrain as nt
        >>> explorer = nt.widgets.explore_learning_rate()
        >>> explorer.verdict("quadratic", 10 ** -0.75)     # eta = 0.178 > 1 / lambda_max = 0.1
        'oscillates'
    """
    chosen = _check_surfaces(surface_names)
    accepted = "at least two increasing, log-spaced positive rates (e.g. np.geomspace(1e-3, 1, 13))"
    rates = _DEFAULT_RATES if learning_rates is None else _checks.array(
        "learning_rates", learning_rates, ndim=1, accepted=accepted)
    if (len(rates) < 2 or np.any(rates <= 0)
            or not np.allclose(np.diff(np.log10(rates)), np.diff(np.log10(rates)).mean(), rtol=1e-6)
            or np.diff(rates).min() <= 0):
        _checks.fail("learning_rates", accepted, learning_rates)
    if not _checks.is_int(steps) or not 1 <= steps <= 1000:
        _checks.fail("steps", "an integer from 1 to 1000", steps)
    return LearningRateExplorer(chosen, rates, int(steps))


def _check_surfaces(surface_names) -> list:
    """The surfaces named, or the package's ValueError naming ``surface_names``."""
    accepted = f"a non-empty list of distinct surfaces or names from {surfaces.available()}"
    names = _checks.sequence("surface_names", surface_names,
                             lambda s: isinstance(s, surfaces.Surface) or s in surfaces.available(),
                             accepted=accepted)
    chosen = [surfaces.get(s) for s in names]
    if len({s.name for s in chosen}) != len(chosen):
        _checks.fail("surface_names", accepted, surface_names)
    return chosen
