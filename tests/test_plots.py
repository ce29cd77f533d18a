"""Tests of nntrain.plots: the shared figures draw what they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from nntrain import plots, surfaces  # noqa: E402


@pytest.fixture
def ax():
    figure, axes = plt.subplots()
    yield axes
    plt.close(figure)


def test_loss_levels_are_log_spaced_inside_the_window():
    bowl = surfaces.Quadratic(eigenvalues=(1.0, 10.0))
    levels = plots.loss_levels(bowl, count=8)
    assert len(levels) == 8 and np.all(np.diff(levels) > 0)
    np.testing.assert_allclose(np.diff(np.log(levels)), np.log(levels[1] / levels[0]))
    _, _, z = bowl.grid(121)
    assert levels[0] >= 1e-3 and levels[-1] <= z.max()


def test_contour_lines_lie_on_their_level():
    bowl = surfaces.Quadratic(eigenvalues=(1.0, 4.0), angle=20.0)
    lines = plots.contour_lines(bowl, levels=[0.5, 2.0], n=81)
    assert set(lines.columns) == {"level", "line", "order", "x", "y"}
    assert set(lines["level"]) == {0.5, 2.0}
    values = bowl.value(lines[["x", "y"]].to_numpy())
    # Vertices are interpolated on an 81-point grid: within 2% of the level.
    np.testing.assert_allclose(values, lines["level"], rtol=0.02)
    assert (lines.groupby("line")["order"].min() == 0).all()


def test_contours_and_path_on_axes(ax):
    rosen = surfaces.Rosenbrock()
    contour_set = plots.contours(ax, rosen)
    assert len(contour_set.levels) == 12
    assert ax.get_xlim() == rosen.xlim and ax.get_ylim() == rosen.ylim
    frame = pd.DataFrame({"x": [-1.5, 0.0, 5.0], "y": [2.0, 1.0, 9.0]})
    line, start = plots.path(ax, frame, label="path")
    np.testing.assert_array_equal(line.get_xdata(), frame["x"])
    np.testing.assert_array_equal(start.get_xdata(), [-1.5])
    assert ax.get_xlim() == rosen.xlim  # a path leaving the window does not move the limits
    assert line.get_label() == "path"


def test_band_draws_mean_and_spread(ax):
    frame = pd.DataFrame({"epoch": [3, 1, 2], "mean": [1.0, 3.0, 2.0], "std": [0.1, 0.3, np.nan]})
    line, fill = plots.band(ax, frame, color="C1")
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.0])
    vertices = fill.get_paths()[0].vertices
    assert vertices[:, 1].max() == pytest.approx(3.3) and vertices[:, 1].min() == pytest.approx(0.9)


def test_layer_histograms_are_densities():
    figure, axes = plt.subplots(1, 2)
    counts = np.array([[1, 2, 1, 0], [0, 0, 4, 4]])
    edges = np.linspace(-1, 1, 5)
    containers = plots.layer_histograms(axes, counts, edges, labels=["a", "b"])
    for container in containers:
        heights = np.array([bar.get_height() for bar in container])
        assert np.sum(heights * 0.5) == pytest.approx(1.0)  # bins of width 0.5
    assert axes[1].get_title() == "b"
    plt.close(figure)


def test_bad_input(ax):
    bowl = surfaces.Quadratic()
    with pytest.raises(ValueError, match=r"`count` must be an integer >= 2. Received: count=1"):
        plots.loss_levels(bowl, count=1)
    with pytest.raises(ValueError, match=r"`ax` must be a matplotlib Axes. Received: ax=None"):
        plots.contours(None, bowl)
    with pytest.raises(ValueError, match=r"`frame` must be a DataFrame with the columns \['x', 'y'\]. Received: frame=<DataFrame of 1 rows"):
        plots.path(ax, pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match=r"`spread` must be a column of `frame`.*Received: spread='std'"):
        plots.band(ax, pd.DataFrame({"epoch": [1], "mean": [1.0]}))
    with pytest.raises(ValueError, match=r"`edges` must be an array of bin edges of shape \(bins \+ 1,\) = \(4,\). Received: edges=<ndarray of shape \(3,\)>"):
        plots.layer_histograms([ax, ax], np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"`axes` must be a list of one Axes per layer \(2\). Received: axes=<1 Axes>"):
        plots.layer_histograms([ax], np.ones((2, 3)), np.ones(4))
