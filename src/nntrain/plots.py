r"""Matplotlib figures shared by the chapters and the explorers.

Three pictures recur through the course, and each has one function here that draws it on
axes you pass (so a chapter can place it in its own layout) and returns the artists it made
(so an explorer can update them in place, which is what keeps a redraw fast):

* a loss surface as contour lines with a descent path on top (:func:`contours`,
  :func:`path`), for the learning-rate and optimizer chapters;
* curves with a band over seeds (:func:`band`), for sweeps;
* per-layer histograms of activations or gradients (:func:`layer_histograms`), the
  picture of Glorot & Bengio (2010).

Two helpers return data rather than drawings, so that the explorers' static twins (drawn
in the browser by Vega-Lite) show exactly the same lines: :func:`loss_levels` and
:func:`contour_lines`.

Example:
    >>> import matplotlib.pyplot as plt
    >>> import nntrain as nt
    >>> from nntrain import plots, surfaces
    >>> bowl = surfaces.Quadratic()
    >>> route = surfaces.descend(bowl, nt.optimizers.SGD(learning_rate=0.15), steps=30)
    >>> fig, ax = plt.subplots()
    >>> _ = plots.contours(ax, bowl)
    >>> line = plots.path(ax, route)
"""

from __future__ import annotations

from collections.abc import Sequence

import contourpy
import matplotlib.axes
import matplotlib.lines
import numpy as np
import pandas as pd

from . import _checks
from .surfaces import Surface

__all__ = [
    "band",
    "contour_lines",
    "contours",
    "layer_histograms",
    "loss_levels",
    "path",
]

# Contour levels of L - L*: this many per surface, log-spaced (suboptimality spans decades).
_LEVELS = 12
# Grid points per side for contour lines: smooth at the explorers' sizes, small in a page.
_GRID = 121
# The smallest suboptimality L - L* a log-scale level may take (L* itself is -inf on a log axis).
_FLOOR = 1e-3


def _check_axes(ax) -> None:
    _checks.axes("ax", ax)


def _check_surface(surface) -> None:
    _checks.instance("surface", surface, Surface, "a Surface (see nntrain.surfaces.get)")


def _check_levels(levels) -> np.ndarray:
    return np.asarray(_checks.sequence("levels", levels, lambda v: _checks.is_real(v) and v > 0,
                                       accepted="None or a non-empty list of positive numbers "
                                                "(levels of L - L*)"), dtype=float)


def loss_levels(surface: Surface, count: int = _LEVELS) -> np.ndarray:
    r"""Log-spaced contour levels of the suboptimality :math:`L - L^*` over the surface's window.

    From the :math:`2`-nd to the :math:`95`-th percentile of :math:`L - L^*` on a grid over
    :attr:`Surface.xlim` x :attr:`Surface.ylim` (at least ``1e-3``), so that levels crowd
    where the surface is flat and thin out on steep walls, as a map's contour lines do.

    Args:
        surface: a :class:`nntrain.surfaces.Surface`.
        count: how many levels, at least 2.

    Returns:
        ``count`` increasing positive numbers: levels of :math:`L - L^*`.
    """
    _check_surface(surface)
    _checks.integer("count", count, minimum=2)
    _, _, z = surface.grid(_GRID)
    gap = z - surface.minimum_value
    low, high = np.percentile(gap, [2, 95])
    return np.geomspace(max(low, _FLOOR), max(high, 10 * max(low, _FLOOR)), count)


def contour_lines(surface: Surface, levels: Sequence[float] | None = None, n: int = _GRID) -> pd.DataFrame:
    """The contour lines of :math:`L - L^*` as a tidy table (for a Vega-Lite line chart).

    Args:
        surface: a :class:`nntrain.surfaces.Surface`.
        levels: levels of :math:`L - L^*`; default :func:`loss_levels`.
        n: grid points per side the lines are traced on (fewer: lighter, coarser lines).

    Returns:
        One row per vertex: ``level`` (the value of :math:`L - L^*`), ``line`` (an id,
        unique per connected piece), ``order`` (vertex number along the line), ``x``, ``y``.
    """
    _check_surface(surface)
    levels = loss_levels(surface) if levels is None else _check_levels(levels)
    x, y, z = surface.grid(n)
    generator = contourpy.contour_generator(x, y, z - surface.minimum_value)
    frames, line = [], 0
    for level in levels:
        for vertices in generator.lines(float(level)):
            frames.append(pd.DataFrame({"level": level, "line": line,
                                        "order": np.arange(len(vertices)),
                                        "x": vertices[:, 0], "y": vertices[:, 1]}))
            line += 1
    return pd.concat(frames, ignore_index=True)


def contours(ax, surface: Surface, levels: Sequence[float] | None = None, *, minima: bool = True):
    r"""Draw the surface's contour lines (of :math:`L - L^*`, log-spaced) and its minima.

    Args:
        ax: a matplotlib ``Axes``.
        surface: a :class:`nntrain.surfaces.Surface`; the axes are limited to its window.
        levels: levels of :math:`L - L^*`; default :func:`loss_levels`.
        minima: whether to mark the global minima with stars.

    Returns:
        The ``QuadContourSet``.
    """
    _check_axes(ax)
    _check_surface(surface)
    minima = _checks.boolean("minima", minima)
    levels = loss_levels(surface) if levels is None else np.sort(_check_levels(levels))
    x, y, z = surface.grid(_GRID)
    contour_set = ax.contour(x, y, z - surface.minimum_value, levels=levels,
                             cmap="viridis", norm="log", linewidths=0.8, alpha=0.8)
    if minima:
        points = np.asarray(surface.minima)
        ax.plot(points[:, 0], points[:, 1], "*", color="black", markersize=10, zorder=3)
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.grid(False)
    return contour_set


def path(ax, frame: pd.DataFrame, *, label: str | None = None, color=None, markersize: float = 3.0):
    """Draw one descent path (``x``, ``y`` columns, e.g. from :func:`nntrain.surfaces.descend`).

    The start is marked with a larger dot. A path that diverged ends where it left the
    finite values; the axes keep their limits, so a path leaving the window is cut at
    its edge.

    Args:
        ax: a matplotlib ``Axes``.
        frame: a DataFrame with columns ``x`` and ``y``, in step order (one path).
        label: the legend label.
        color: any matplotlib colour; default the next one of the course palette.
        markersize: the size of the dots on the steps.

    Returns:
        ``(line, start)``: the ``Line2D`` of the path and the one of its starting dot.
    """
    _check_axes(ax)
    _checks.frame("frame", frame, ["x", "y"])
    _checks.non_negative("markersize", markersize)
    limits = ax.get_xlim(), ax.get_ylim()
    (line,) = ax.plot(frame["x"], frame["y"], "o-", color=color, label=label,
                      markersize=markersize, linewidth=1.2, zorder=4)
    (start,) = ax.plot(frame["x"].iloc[:1], frame["y"].iloc[:1], "o", color=line.get_color(),
                       markersize=2.5 * markersize, zorder=5)
    ax.set_xlim(limits[0])
    ax.set_ylim(limits[1])
    return line, start


def band(
    ax,
    frame: pd.DataFrame,
    x: str = "epoch",
    y: str = "mean",
    spread: str = "std",
    *,
    label: str | None = None,
    color=None,
    linestyle: str = "-",
):
    r"""Draw a mean curve with a band of :math:`\pm` one spread (e.g. one standard deviation over seeds).

    Takes a tidy frame such as :meth:`nntrain.SweepResult.curves` returns for one
    configuration; a missing spread (one seed) draws no band.

    Args:
        ax: a matplotlib ``Axes``.
        frame: a DataFrame with columns ``x``, ``y`` and ``spread``.
        x, y, spread: the column names.
        label, color, linestyle: the line's legend label, colour and style.

    Returns:
        ``(line, fill)``: the ``Line2D`` and the band's ``PolyCollection``.
    """
    _check_axes(ax)
    _checks.frame("frame", frame)
    for name, column in (("x", x), ("y", y), ("spread", spread)):
        if not isinstance(column, str) or column not in frame.columns:
            _checks.fail(name, f"a column of `frame`, one of {list(frame.columns)}", column)
    try:
        matplotlib.lines.Line2D([], [], linestyle=linestyle)
    except (ValueError, TypeError):
        _checks.fail("linestyle", "a matplotlib line style such as '-', '--', ':' or '-.'", linestyle)
    frame = frame.sort_values(x)
    mean = frame[y].to_numpy(dtype=float)
    half = np.nan_to_num(frame[spread].to_numpy(dtype=float))
    (line,) = ax.plot(frame[x], mean, color=color, label=label, linestyle=linestyle)
    fill = ax.fill_between(frame[x], mean - half, mean + half, color=line.get_color(),
                           alpha=0.2, linewidth=0)
    return line, fill


def layer_histograms(
    axes: Sequence,
    counts: np.ndarray,
    edges: np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    color=None,
):
    """Draw one histogram per layer, each on its own axes, from binned counts.

    The counts are normalised to densities, so layers with different sample sizes compare
    by shape, as in Figure 6 and 7 of Glorot & Bengio (2010).

    Args:
        axes: one matplotlib ``Axes`` per layer.
        counts: an array of shape ``(layers, bins)``.
        edges: the bin edges, shape ``(bins + 1,)``, shared by every layer.
        labels: a title per layer; default ``"layer 1"``, ``"layer 2"``, ...
        color: the bars' colour.

    Returns:
        The list of bar containers, one per layer.

    References:
        Glorot, X. & Bengio, Y. (2010). Understanding the difficulty of training deep
        feedforward neural networks. *AISTATS*. https://proceedings.mlr.press/v9/glorot10a.html
    """
    counts = _checks.array("counts", counts, ndim=2, accepted="a non-empty array of finite counts of "
                           "shape (layers, bins)")
    edges = _checks.array("edges", edges, ndim=1, accepted="a finite array of bin edges of shape (bins + 1,)")
    if edges.shape != (counts.shape[1] + 1,):
        _checks.fail("edges", f"an array of bin edges of shape (bins + 1,) = ({counts.shape[1] + 1},)",
                     edges, shown=_checks.shown(edges))
    axes = _checks.sequence("axes", axes, accepted=f"a list of one Axes per layer ({len(counts)})")
    if len(axes) != len(counts):
        _checks.fail("axes", f"a list of one Axes per layer ({len(counts)})", axes, shown=f"<{len(axes)} Axes>")
    labels = [f"layer {i + 1}" for i in range(len(counts))] if labels is None else list(labels)
    widths = np.diff(edges)
    containers = []
    for ax, row, label in zip(axes, counts, labels):
        _check_axes(ax)
        density = row / max(row.sum(), 1.0) / widths
        containers.append(ax.bar(edges[:-1], density, width=widths, align="edge",
                                 color=color, linewidth=0))
        ax.set_title(label)
    return containers
