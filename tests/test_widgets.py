"""Tests of nntrain.widgets: the live face responds to its controls, the static twin is valid."""

from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")

import altair as alt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import nntrain as nt  # noqa: E402
from nntrain import widgets  # noqa: E402
from nntrain.widgets import _static  # noqa: E402

# A small grid: 10^-3 ... 10^0 in quarter decades (13 rates).
RATES = 10.0 ** (np.arange(-12, 1) / 4)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _spec_of(html: str) -> dict:
    """The Vega-Lite specification embedded in a static twin's HTML."""
    match = re.search(r"spec = (\{.*\});\nconst embed", html, re.S)
    assert match, html[:300]
    return json.loads(match.group(1).replace("<\\/", "</"))


def _check_twin(explorer, params: set[str]) -> dict:
    """The explorer shows both faces, and its twin is a valid spec binding ``params``."""
    bundle = explorer._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and bundle["text/html"] == explorer.static_html()
    html = bundle["text/html"]
    assert '<script type="module">' in html and "src=" not in html  # loads nothing itself
    assert html.count(f'class="{_static.CSS_CLASS}"') == 1
    spec = _spec_of(html)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    alt.Chart.from_dict(spec)  # a valid Vega-Lite specification (altair checks the schema)
    bound = {p["name"] for p in spec["params"] if "bind" in p}
    assert bound == params
    return spec


@pytest.fixture(scope="module")
def lr_explorer():
    return widgets.explore_learning_rate(["quadratic", "saddle"], learning_rates=RATES, steps=60)


def test_learning_rate_explorer_verdicts_match_the_thresholds(lr_explorer):
    # The quadratic's curvatures are 1 and 10: oscillation above 0.1, divergence above 0.2.
    assert lr_explorer.verdict("quadratic", 10**-1) == "converges"  # 0.1
    assert lr_explorer.verdict("quadratic", 10**-0.75) == "oscillates"  # 0.178
    assert lr_explorer.verdict("quadratic", 10**-0.5) == "diverges"  # 0.316
    assert lr_explorer.verdict("quadratic", 1e-3) == "slow"
    outcomes = lr_explorer.data["outcomes"]
    quadratic = outcomes[outcomes["surface"] == "quadratic"]
    diverged = quadratic.loc[quadratic["diverged_step"].notna(), "learning_rate"]
    assert diverged.min() > 0.2 and quadratic.loc[quadratic["learning_rate"] > 0.2, "diverged_step"].notna().all()


def test_learning_rate_explorer_live_face_responds(lr_explorer):
    lr_explorer.set(surface="quadratic", learning_rate=10**-1)
    before, title = lr_explorer.image.value, lr_explorer._animated[-1].get_text()
    assert bytes(before).startswith(b"\xff\xd8")  # a JPEG frame
    lr_explorer.controls["learning_rate"].value = float(10**-0.75)  # as a reader's slider move
    assert lr_explorer.image.value != before
    assert lr_explorer._animated[-1].get_text() == "quadratic, η = 0.178: oscillates"
    assert title == "quadratic, η = 0.1: converges"
    line = lr_explorer._animated[0]
    paths = lr_explorer.data["paths"]
    expected = paths[(paths["surface"] == "quadratic") & np.isclose(paths["learning_rate"], 10**-0.75)]
    np.testing.assert_allclose(line.get_xdata(), expected["x"])
    lr_explorer.controls["surface"].value = "saddle"
    assert lr_explorer._animated[-1].get_text().startswith("saddle, η = 0.178")
    assert lr_explorer.last_redraw_s > 0
    assert "LearningRateExplorer(surface='saddle'" in repr(lr_explorer)


def test_learning_rate_explorer_static_twin(lr_explorer):
    spec = _check_twin(lr_explorer, {"surface", "log_lr"})
    log_lr = next(p for p in spec["params"] if p["name"] == "log_lr")
    assert log_lr["bind"]["min"] == -3 and log_lr["bind"]["max"] == 0 and log_lr["bind"]["step"] == 0.25
    assert next(p for p in spec["params"] if p["name"] == "surface")["bind"]["labels"] == ["quadratic", "saddle"]


def test_learning_rate_explorer_bad_input(lr_explorer):
    with pytest.raises(ValueError, match=r"`learning_rate` must be one of \[0.001, .*Received: learning_rate=0.15"):
        lr_explorer.set(learning_rate=0.15)
    with pytest.raises(ValueError, match=r"Controls are \['learning_rate', 'surface'\]. Received: \['speed'\]"):
        lr_explorer.set(speed=1)
    with pytest.raises(ValueError, match=r"`surface` must be one of \['quadratic', 'saddle'\]"):
        lr_explorer.verdict("beale", 0.1)
    with pytest.raises(ValueError, match=r"`learning_rate` must be a rate of the explorer's grid"):
        lr_explorer.verdict("quadratic", 0.15)
    with pytest.raises(ValueError, match=r"`learning_rates` must be at least two increasing, log-spaced"):
        widgets.explore_learning_rate(learning_rates=[0.1, 0.2, 0.5])
    with pytest.raises(ValueError, match=r"`surface_names` must be a non-empty list .*Received: surface_names='saddle'"):
        widgets.explore_learning_rate("saddle")
    with pytest.raises(ValueError, match=r"`surface_names` must be a non-empty list of distinct surfaces.*Received: surface_names=\['saddle', 'saddle'\]"):
        widgets.explore_learning_rate(["saddle", "saddle"])
    with pytest.raises(ValueError, match=r"`steps` must be an integer from 1 to 1000. Received: steps=0"):
        widgets.explore_learning_rate(steps=0)


def _fake_sweep() -> nt.SweepResult:
    """A SweepResult of 2 inits x 3 rates x 2 seeds x 3 epochs with known curves."""
    rows = []
    for i, init in enumerate(["xavier_normal", "he_normal"]):
        for rate in (1e-3, 1e-2, 1e-1):
            for seed in (0, 1):
                for epoch in (1, 2, 3):
                    loss = 2.0 / epoch + i + rate + 0.1 * seed
                    rows.append({"init": init, "learning_rate": rate, "seed": seed, "epoch": epoch,
                                 "loss": loss, "accuracy": 1 - loss / 5,
                                 "val_loss": loss + 0.2, "val_accuracy": 1 - (loss + 0.2) / 5})
    history = pd.DataFrame(rows)
    table = history[history["epoch"] == 3].drop(columns="epoch").assign(diverged=False)
    return nt.SweepResult(table=table.reset_index(drop=True), history=history,
                          config={"hyperparameters": ["init", "learning_rate", "seed"]})


def test_sweep_explorer_shows_mean_and_band():
    explorer = widgets.explore_sweep(_fake_sweep())
    before = explorer.image.value
    explorer.set(init="he_normal", learning_rate=0.1)
    assert explorer.image.value != before
    line = explorer._animated[0]  # the loss panel's training curve: mean over the two seeds
    np.testing.assert_allclose(line.get_ydata(), [2.0 / e + 1 + 0.1 + 0.05 for e in (1, 2, 3)])
    assert explorer._title.get_text() == "he_normal, η = 0.1 (mean of 2 seeds)"
    curves = explorer.data["curves"]
    assert curves["std"].iloc[0] == pytest.approx(0.1 / np.sqrt(2))  # sample std of two seeds
    spec = _check_twin(explorer, {"init", "log_lr"})
    assert spec["title"]["text"]["expr"].startswith('["xavier_normal","he_normal"][init]')


def test_sweep_explorer_bad_input():
    with pytest.raises(ValueError, match=r"`result` must be an nntrain.SweepResult .*Received: result=dict"):
        widgets.explore_sweep({})
    with pytest.raises(ValueError, match=r"`metrics` must name metrics recorded .*Received: metrics=\['f1'\]"):
        widgets.explore_sweep(_fake_sweep(), metrics=["f1"])


@pytest.fixture(scope="module")
def digits():
    return nt.load("digits")


def test_initialization_explorer_computes_on_demand_with_progress(digits):
    explorer = widgets.explore_initialization(digits, inits=["he_normal", "random_normal"],
                                              activations=["relu"], depths=[1, 6], width=32,
                                              examples=128)
    assert explorer.values == {"init": "he_normal", "activation": "relu", "depth": 6}
    shown = []
    explorer.status.observe(lambda change: shown.append(change["new"]), names="value")
    before = explorer.image.value
    explorer.set(init="random_normal")
    assert explorer.image.value != before
    assert any("computing random_normal / relu / depth 6" in s for s in shown)  # progress shown
    assert explorer.status.value == "" and explorer.progress.layout.visibility == "hidden"
    stats = explorer.data["stats"].set_index(["init", "layer"])
    # He keeps ReLU activations at scale through depth; random_normal (std 0.05) shrinks
    # them layer after layer (measured: about x0.3 per layer at width 32).
    he = stats.loc["he_normal", "activation_std"]
    small = stats.loc["random_normal", "activation_std"]
    assert he.iloc[-1] > 0.3 * he.iloc[0]
    assert small.iloc[-1] < 0.01 * small.iloc[0]
    assert widgets.initialization.shown_layers(6) == [1, 2, 4, 5, 6]
    histograms = explorer.data["histograms"]
    assert histograms["height"].max() == 1.0 and set(histograms["kind"]) == {"activation", "gradient"}
    _check_twin(explorer, {"init", "activation", "depth"})
    assert len(explorer._cache) == 4  # the twin computed the whole grid


def test_initialization_explorer_bad_input(digits):
    with pytest.raises(ValueError, match=r"`data` must be a classification nntrain Dataset"):
        widgets.explore_initialization(None)
    with pytest.raises(ValueError, match=r"`activations` must be a non-empty list of distinct names from .*Received: activations=\['elu'\]"):
        widgets.explore_initialization(digits, activations=["elu"])
    with pytest.raises(ValueError, match=r"`depths` must be increasing integers .*Received: depths=\[5, 2\]"):
        widgets.explore_initialization(digits, depths=[5, 2])
    with pytest.raises(ValueError, match=r"`width` must be a positive integer. Received: width=0"):
        widgets.explore_initialization(digits, width=0)


def test_optimizer_explorer_paths_and_checkboxes():
    explorer = widgets.explore_optimizers(["sgd", "adam"], ["quadratic", "saddle"],
                                          learning_rates=[0.01, 0.1], steps=20)
    assert set(explorer.controls) == {"surface", "learning_rate", "sgd", "adam"}
    explorer.set(surface="quadratic", learning_rate=0.1)
    # Adam's first step moves each coordinate by about the learning rate, whatever the gradient.
    paths = explorer.data["paths"]
    adam = paths[(paths["optimizer"] == "adam") & (paths["surface"] == "quadratic")
                 & np.isclose(paths["learning_rate"], 0.1)]
    np.testing.assert_allclose(np.abs(np.diff(adam[["x", "y"]].to_numpy()[:2], axis=0)), 0.1, rtol=1e-3)
    before = explorer.image.value
    explorer.controls["sgd"].value = False
    assert explorer.image.value != before
    assert not explorer._lines["sgd"][0].get_visible() and explorer._lines["adam"][0].get_visible()
    # eta = 1/lambda_max zeroes y in one step; x shrinks by 0.9 a step: L = x0^2 0.9^40 / 2.
    assert explorer.outcome("quadratic", "sgd", 0.1)["final_gap"] == pytest.approx(2.5**2 * 0.9**40 / 2, rel=1e-4)
    _check_twin(explorer, {"surface", "log_lr", "show_sgd", "show_adam"})


def test_optimizer_explorer_bad_input():
    with pytest.raises(ValueError, match=r"`optimizer_names` must be a list of 1 to 7 distinct names from .*Received: optimizer_names=\['lion'\]"):
        widgets.explore_optimizers(["lion"])
    with pytest.raises(ValueError, match=r"`learning_rates` must be increasing positive rates"):
        widgets.explore_optimizers(["sgd"], learning_rates=[0.1, 0.01])
    explorer = widgets.explore_optimizers(["sgd"], ["quadratic"], learning_rates=[0.1], steps=2)
    with pytest.raises(ValueError, match=r"Received: surface='beale'"):
        explorer.outcome("beale", "sgd", 0.1)


def test_static_helpers():
    data = _static.csv_data(pd.DataFrame({"a": [1.23456, 2.0], "b": ["x", "y"]}), digits=3)
    assert data.values == "a,b\n1.23,x\n2,y\n"
    assert data.format.parse == {"a": "number"}
    param, expression = _static.log_slider("lr", [0.001, 0.01, 0.1], 0.01)
    assert expression == "lr" and param.param.bind.step == 1.0 and param.param.value == -2.0
    param, expression = _static.log_slider("lr", [0.001, 0.002, 0.1], 0.1)
    assert expression == "[-3.0,-2.699,-1.0][lr]" and param.param.value == 2
    assert _static.choose([1.5, 2], "surface") == {"expr": "[1.5,2][surface]"}
    html = _static.to_html({"a": "</script>"}, "k")
    assert "</script>" not in html.split('<script type="module">')[1][:-len("</script>")]
    with pytest.raises(ValueError, match=r"`key` must be a short identifier .*Received: key='a b'"):
        _static.to_html({}, "a b")
    with pytest.raises(ValueError, match=r"`frame` must be a non-empty DataFrame. Received: frame=DataFrame"):
        _static.csv_data(pd.DataFrame())


@pytest.fixture(scope="module")
def playground_tables():
    """Two problems, one small architecture, two initializers and two rates, two epochs."""
    return nt.playground.precompute(names=("circles", "moons"), depths=(1,), widths=(2,),
                                    activations=("relu",), learning_rates=(0.01, 0.1),
                                    inits=("xavier_uniform", "zeros"), epochs=2, resolution=4, n=60)


def test_playground_explorer_looks_every_setting_up(playground_tables):
    explorer = widgets.explore_playground(playground_tables)
    assert explorer.values == {"dataset": "circles", "depth": 1, "width": 2, "activation": "relu",
                               "init": "xavier_uniform", "learning_rate": 0.1}
    for change in ({"learning_rate": 0.01}, {"init": "zeros"}, {"dataset": "moons"}):
        before, title = explorer.image.value, explorer._title.get_text()
        explorer.set(**change)
        assert explorer.image.value != before and explorer._title.get_text() != title, change
    # what the live face shows is the table's row for the controls
    scores = playground_tables["scores"].set_index(["dataset", "init", "learning_rate"])
    row = scores.loc[("moons", "zeros", 0.01)]
    assert explorer.score()["test_accuracy"] == row["test_accuracy"]
    assert f"test accuracy {row['test_accuracy']:.2f}" in explorer._title.get_text()
    grid = playground_tables["boundaries"].query("dataset == 'moons' and init == 'zeros' and learning_rate == 0.01")
    shown = np.asarray(explorer._image.get_array())
    np.testing.assert_allclose(np.sort(shown.ravel()), np.sort(grid["probability"].to_numpy()), rtol=1e-6)
    line = explorer._lines["val_loss"]
    curve = playground_tables["losses"].query("dataset == 'moons' and init == 'zeros' and learning_rate == 0.01")
    np.testing.assert_allclose(line.get_ydata(), curve["val_loss"])
    spec = _check_twin(explorer, {"problem", "layers", "units", "act", "init", "log_lr"})
    assert "test accuracy" in spec["title"]["text"]["expr"]


def test_playground_explorer_bad_input(playground_tables):
    with pytest.raises(ValueError, match=r"`tables` must be the dict nntrain.playground.precompute returns"
                                         r".*Received: tables=dict with \['scores'\]"):
        widgets.explore_playground({"scores": playground_tables["scores"]})
    explorer = widgets.explore_playground(playground_tables)
    with pytest.raises(ValueError, match=r"`init` must be one of \['xavier_uniform', 'zeros'\]. Received: init='ones'"):
        explorer.set(init="ones")


def test_an_explorer_shows_under_ipywidgets_7():
    """Colab ships ipywidgets 7.7, whose widgets have no _repr_mimebundle_: the explorer then
    hands Jupyter the view reference ipywidgets 7 sends itself (its _ipython_display_)."""
    from nntrain.widgets import _base

    class Widget7:  # what matters of an ipywidgets 7 widget here
        _model_id = "0123abcd"

    assert _base._widget_bundle(Widget7(), None, None) == {
        WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "0123abcd"}}
    explorer = widgets.explore_sweep(_fake_sweep())  # ipywidgets 8: the widget's own bundle
    assert _base._widget_bundle(explorer.widget, None, None)[WIDGET_VIEW] == \
        explorer.widget._repr_mimebundle_()[WIDGET_VIEW]
