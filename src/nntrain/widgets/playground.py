r"""Explorer 5: a playground on 2-D data, in the spirit of TensorFlow Playground.

Choose a problem (two moons, two circles, a spiral), the network's depth, width and
activation, its initializer and its learning rate; the figure shows the decision boundary
the network drew after training (the probability of class 1 over the plane, with the
training points) and its training and validation loss per epoch.

Every setting was trained ahead by :func:`nntrain.playground.precompute` (one sweep per
architecture: initializers and learning rates are members of it), so both faces only look
results up: the live face redraws at once and the static twin holds the same tables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import ipywidgets
import matplotlib.figure
import numpy as np
import pandas as pd

from .. import playground as _playground
from ..profiles import Profile, get_profile
from ._base import Explorer, log_options
from ._static import choose, csv_data, log_slider

__all__ = ["GRIDS", "PlaygroundExplorer", "explore_playground"]

# The settings trained ahead, by run profile: the smoke profile (the tests) trains 8 small
# sweeps on one problem; the book trains 36 on all three (about a minute on 2 cores).
GRIDS: dict[str, dict] = {
    "smoke": {"names": ("circles",), "depths": (1, 3), "widths": (2, 8),
              "activations": ("relu", "linear"), "learning_rates": (0.01, 0.1, 1.0),
              "inits": ("xavier_uniform", "zeros"), "epochs": 30, "resolution": 16, "n": 300},
    "book": {"names": ("moons", "circles", "spiral"), "depths": (1, 3), "widths": (2, 8),
             "activations": ("tanh", "relu", "linear"), "learning_rates": (0.01, 0.1, 1.0),
             "inits": ("xavier_uniform", "zeros"), "epochs": 60, "resolution": 16, "n": 300},
}
GRIDS["full"] = {**GRIDS["book"], "depths": (1, 2, 3), "widths": (2, 4, 8), "epochs": 100,
                 "resolution": 24}
# The controls, in the order of the key that identifies an architecture and initializer.
_KEYS = ("dataset", "depth", "width", "activation", "init")
_TABLES = ("boundaries", "losses", "scores", "points")
_CLASS_COLOURS = _playground._CLASS_COLOURS
_LOSS_COLOURS = {"loss": "#0072B2", "val_loss": "#E69F00"}
# The static twin's parameter for each control: not Vega's own signal names (a parameter
# called "width" would be the chart's width).
_PARAMS = {"dataset": "problem", "depth": "layers", "width": "units", "activation": "act", "init": "init"}


class PlaygroundExplorer(Explorer):
    """Decision boundary and loss curves of a small MLP on a 2-D problem, per setting.

    Attributes:
        data: the tables of :func:`nntrain.playground.precompute` (``boundaries``,
            ``losses``, ``scores``, ``points``).
        options: the values each control offers, by control name.
    """

    key = "pg"
    title = "A playground on 2-D data: decision boundary after training, and the loss"

    def __init__(self, tables: Mapping[str, pd.DataFrame]):
        super().__init__()
        self.data = {name: tables[name] for name in _TABLES}
        scores = self.data["scores"]
        self.options = {name: list(dict.fromkeys(scores[name])) for name in _KEYS}
        self.options["learning_rate"] = sorted(scores["learning_rate"].unique())
        # each setting's plane as an image, once: a redraw only picks one
        self._planes = {}
        for key, g in self.data["boundaries"].groupby(list(_KEYS) + ["learning_rate"], sort=False):
            x1, x2 = np.unique(g["x1"]), np.unique(g["x2"])
            image = g.sort_values(["x2", "x1"])["probability"].to_numpy().reshape(len(x2), len(x1))
            self._planes[key] = (x1, x2, image)
        self._losses = {key: g for key, g in self.data["losses"].groupby(
            list(_KEYS) + ["learning_rate"], sort=False)}
        self._scores = scores.set_index(list(_KEYS) + ["learning_rate"])
        self._points = {name: g[g["split"] == "train"] for name, g in self.data["points"].groupby("dataset")}
        self.epochs = int(self.data["losses"]["epoch"].max())
        # the loss axis of every setting (a log scale, cut where a diverged run overflows)
        curves = self.data["losses"][list(_LOSS_COLOURS)].to_numpy(float)
        finite = curves[np.isfinite(curves)]
        self._loss_limits = (max(float(finite.min()) / 1.5, 1e-4), min(float(finite.max()) * 1.5, 1e3))
        figure = matplotlib.figure.Figure(figsize=(8.4, 3.6), dpi=90, layout="constrained")
        self._axes = figure.subplots(1, 2, width_ratios=[1, 1.3])
        self._dataset = None
        rates = self.options["learning_rate"]
        controls = {name: ipywidgets.Dropdown(options=self.options[name], description=name,
                                              layout=ipywidgets.Layout(width="220px"))
                    for name in _KEYS}
        controls["learning_rate"] = ipywidgets.SelectionSlider(
            options=log_options(rates), value=float(rates[len(rates) // 2]), description="η",
            layout=ipywidgets.Layout(width="320px"))
        self._build(controls, figure)

    def setting(self, values: Mapping | None = None) -> tuple:
        """The key of the tables' rows for ``values`` (default: the controls' values)."""
        values = self.values if values is None else values
        return tuple(values[name] for name in _KEYS) + (float(values["learning_rate"]),)

    def score(self, values: Mapping | None = None) -> pd.Series:
        """The final scores of a setting: ``val_loss``, ``test_accuracy``, ``diverged``, ..."""
        return self._scores.loc[self.setting(values)]

    def _draw(self, values: dict) -> None:
        key = self.setting(values)
        x1, x2, probability = self._planes[key]
        boundary, losses = self._axes
        if values["dataset"] != self._dataset:  # the plane and its points change with the problem
            self._dataset = values["dataset"]
            self._restage()
            boundary.clear()
            losses.clear()
            step1, step2 = (x1[1] - x1[0]) / 2, (x2[1] - x2[0]) / 2
            self._image = boundary.imshow(probability, origin="lower", cmap=_playground._CMAP,
                                          vmin=0, vmax=1, alpha=0.75, aspect="auto",
                                          extent=(x1[0] - step1, x1[-1] + step1, x2[0] - step2, x2[-1] + step2))
            points = self._points[self._dataset]
            boundary.scatter(points["x1"], points["x2"], s=9, edgecolors="white", linewidths=0.4,
                             c=np.asarray(_CLASS_COLOURS)[points["label"].to_numpy(int)])
            boundary.set(xticks=[], yticks=[])
            boundary.grid(False)
            losses.set(xlim=(1, self.epochs), yscale="log", xlabel="epoch", ylabel="cross-entropy loss",
                       ylim=self._loss_limits)
            self._lines = {column: losses.plot([], [], color=colour, label=label)[0]
                           for (column, colour), label in zip(_LOSS_COLOURS.items(), ("training", "validation"))}
            losses.legend(loc="upper right")
            self._title = self.figure.suptitle(" ")
            self._animate(self._image, *self._lines.values(), self._title)
        self._image.set_data(probability)
        curve = self._losses[key]
        for column, line in self._lines.items():
            line.set_data(curve["epoch"], curve[column])
        score = self.score(values)
        verdict = "diverged" if score["diverged"] else f"test accuracy {score['test_accuracy']:.2f}"
        self._title.set_text(f"{values['dataset']}: {values['depth']} x {values['width']} "
                             f"{values['activation']}, {values['init']}, η = {values['learning_rate']:.3g}: {verdict}")

    def static_spec(self) -> dict:
        import altair as alt  # the book extra: only static twins need it
        index = {name: {v: i for i, v in enumerate(self.options[name])} for name in _KEYS}
        sizes = [len(self.options[name]) for name in _KEYS]

        def keyed(frame: pd.DataFrame) -> pd.DataFrame:
            key = np.zeros(len(frame), dtype=int)
            for name, size in zip(_KEYS, sizes):
                key = key * size + frame[name].map(index[name]).to_numpy()
            return frame.assign(k=key, log_lr=np.round(np.log10(frame["learning_rate"]), 4))

        params = [alt.param(name=_PARAMS[name], value=0, bind=alt.binding_select(
            options=list(range(len(self.options[name]))), labels=[str(v) for v in self.options[name]],
            name=f"{name} ")) for name in _KEYS]
        rates = self.options["learning_rate"]
        lr, log_lr = log_slider("log_lr", rates, rates[len(rates) // 2])
        key = "0"
        for name, size in zip(_KEYS, sizes):
            key = f"({key}) * {size} + {_PARAMS[name]}"
        chosen = f"datum.k == {key} && abs(datum.log_lr - {log_lr}) < 1e-3"

        # The boundary: grid cells in grid units (each problem has its own plane).
        boundaries = keyed(self.data["boundaries"])
        frames, extents = [], []
        for name in self.options["dataset"]:
            rows = boundaries[boundaries["dataset"] == name]
            x1, x2 = np.unique(rows["x1"]), np.unique(rows["x2"])
            extents.append((x1[0], x1[1] - x1[0], x2[0], x2[1] - x2[0]))
            frames.append(rows.assign(gx=np.searchsorted(x1, rows["x1"]), gy=np.searchsorted(x2, rows["x2"])))
        cells = pd.concat(frames)[["k", "log_lr", "gx", "gy", "probability"]]
        side = int(cells["gx"].max()) + 1
        points = self.data["points"]
        points = points[points["split"] == "train"].copy()
        points["ds"] = points["dataset"].map(index["dataset"])
        lows1, steps1, lows2, steps2 = (np.array(v) for v in zip(*extents))
        points["px"] = (points["x1"] - lows1[points["ds"]]) / steps1[points["ds"]]
        points["py"] = (points["x2"] - lows2[points["ds"]]) / steps2[points["ds"]]
        domain = [-0.5, side - 0.5]
        x = alt.X("gx0:Q", scale=alt.Scale(domain=domain, nice=False), axis=None)
        y = alt.Y("gy0:Q", scale=alt.Scale(domain=domain, nice=False), axis=None)
        plane = alt.Chart(csv_data(cells, digits=2)).transform_filter(chosen).transform_calculate(
            gx0="datum.gx - 0.5", gx1="datum.gx + 0.5", gy0="datum.gy - 0.5", gy1="datum.gy + 0.5"
        ).mark_rect(opacity=0.75).encode(
            x=x, x2="gx1:Q", y=y, y2="gy1:Q",
            color=alt.Color("probability:Q", legend=None, scale=alt.Scale(
                domain=[0, 0.5, 1], range=[_CLASS_COLOURS[0], "#FFFFFF", _CLASS_COLOURS[1]])))
        dots = alt.Chart(csv_data(points[["ds", "px", "py", "label"]], digits=3)).transform_filter(
            "datum.ds == problem").mark_circle(size=18, opacity=1, stroke="white", strokeWidth=0.5).encode(
            x=alt.X("px:Q", scale=alt.Scale(domain=domain, nice=False), axis=None),
            y=alt.Y("py:Q", scale=alt.Scale(domain=domain, nice=False), axis=None),
            color=alt.Color("label:N", legend=None, scale=alt.Scale(domain=[0, 1], range=list(_CLASS_COLOURS))))
        left = alt.layer(plane, dots).properties(width=260, height=260)

        losses = keyed(self.data["losses"]).melt(
            id_vars=["k", "log_lr", "epoch"], value_vars=list(_LOSS_COLOURS), var_name="split", value_name="value")
        losses = losses[np.isfinite(losses["value"])]
        losses["split"] = losses["split"].map({"loss": "training", "val_loss": "validation"})
        right = alt.Chart(csv_data(losses[["k", "log_lr", "epoch", "split", "value"]], digits=3)).transform_filter(
            chosen).mark_line().encode(
            x=alt.X("epoch:Q", scale=alt.Scale(domain=[1, self.epochs]), axis=alt.Axis(format="d")),
            y=alt.Y("value:Q", title="cross-entropy loss", scale=alt.Scale(
                type="log", nice=False, domain=list(self._loss_limits))),
            color=alt.Color("split:N", title=None, legend=alt.Legend(orient="top"), scale=alt.Scale(
                domain=["training", "validation"], range=list(_LOSS_COLOURS.values())))
        ).properties(width=300, height=260)

        scores = keyed(self.data["scores"])
        verdicts = np.where(scores["diverged"], "diverged", scores["test_accuracy"].map(lambda a: f"test accuracy {a:.2f}"))
        text = dict(zip(zip(scores["k"], scores["log_lr"]), verdicts))
        # keyed by "k:round(log10 η * 1e4)": integers print alike in Python and in Vega
        table = json.dumps({f"{k}:{int(round(v * 1e4))}": t for (k, v), t in text.items()})
        spec = alt.hconcat(left, right).add_params(*params, lr).to_dict()
        labels = {name: [str(v) for v in self.options[name]] for name in _KEYS}
        parts = [choose(labels[name], _PARAMS[name])["expr"] for name in _KEYS]
        spec["title"] = {"anchor": "start", "text": {"expr": (
            f"{parts[0]} + ': ' + {parts[1]} + ' x ' + {parts[2]} + ' ' + {parts[3]} + ', ' + {parts[4]}"
            f" + ', η = ' + format(pow(10, {log_lr}), '.3~g')"
            f" + ': ' + {table}[({key}) + ':' + round(({log_lr}) * 10000)]")}}
        return spec


def explore_playground(tables: Mapping[str, pd.DataFrame] | None = None,
                       profile: str | Profile | None = None) -> PlaygroundExplorer:
    """Explore small MLPs on 2-D problems: problem, depth, width, activation, init and rate.

    Args:
        tables: the tables of :func:`nntrain.playground.precompute`; ``None`` computes them
            for the run profile's grid (:data:`GRIDS`; about 10 s in ``smoke``, a minute in
            ``book`` on 2 cores).
        profile: the run profile whose grid to compute; ``None`` reads ``$NNTRAIN_PROFILE``.

    Returns:
        A :class:`PlaygroundExplorer`.

    Example:
        >>> explorer = nt.widgets.explore_playground()
        >>> explorer.set(init="zeros").score()["test_accuracy"]
        0.5
    """
    if tables is None:
        tables = _playground.precompute(**GRIDS[get_profile(profile).name])
    if not isinstance(tables, Mapping) or not set(_TABLES) <= set(tables):
        raise ValueError(f"`tables` must be the dict nntrain.playground.precompute returns, with "
                         f"{list(_TABLES)}. Received: tables={type(tables).__name__}"
                         + (f" with {sorted(tables)}" if isinstance(tables, Mapping) else ""))
    return PlaygroundExplorer(tables)
