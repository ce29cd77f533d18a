"""Tests of nntrain.published: the case study's table is complete and compare() is right."""

import pandas as pd
import pytest

from nntrain import initializers, published


def test_the_case_study_table_has_every_published_row():
    table = published.case_study()
    assert len(table) == 54  # 6 initializers x (2 models x 4 data sets + 1 regression)
    assert set(table["init"]) <= set(initializers.available())
    grid = table.groupby(["model", "dataset"]).size()
    assert (grid == 6).all() and len(grid) == 9
    mnist = table.query("model == 'mlp' and dataset == 'mnist'").set_index("init")
    assert mnist.loc["zeros", "test_accuracy"] == pytest.approx(0.1135)
    assert mnist.loc["xavier_uniform", "test_accuracy"] == pytest.approx(0.981)
    housing = table.query("model == 'regression'").set_index("init")
    assert housing.loc["xavier_uniform", "mae"] == pytest.approx(0.505778125)
    assert housing["test_accuracy"].isna().all()


def test_compare_gives_difference_and_spread():
    ours = pd.DataFrame({"model": "mlp", "dataset": "mnist", "init": ["zeros"] * 3 + ["he_normal"] * 3,
                         "test_accuracy": [0.11, 0.12, 0.10, 0.95, 0.96, 0.97]})
    table = published.compare(ours, published.case_study()).set_index("init")
    assert table.loc["zeros", "seeds"] == 3
    assert table.loc["zeros", "difference"] == pytest.approx(0.11 - 0.1135)
    assert bool(table.loc["zeros", "within_spread"])
    assert table.loc["he_normal", "difference"] == pytest.approx(0.96 - 0.9787)
    assert not bool(table.loc["he_normal", "within_spread"])
    assert len(table) == 2


def test_compare_names_missing_columns():
    with pytest.raises(ValueError, match=r"`ours` must be a DataFrame with the columns .*Received: ours=<DataFrame without \['dataset'\]>"):
        published.compare(pd.DataFrame({"model": [], "init": [], "test_accuracy": []}),
                          published.case_study())


def test_compare_can_keep_every_published_row():
    ours = pd.DataFrame({"model": "mlp", "dataset": "mnist", "init": ["zeros"] * 2,
                         "test_accuracy": [0.11, 0.12]})
    table = published.compare(ours, published.case_study(), every_published_row=True)
    assert len(table) == 48  # the regression rows have no accuracy
    ran = table.dropna(subset=["mean"])
    assert len(ran) == 1 and ran["init"].item() == "zeros"
    with pytest.raises(ValueError, match="Received: every_published_row='yes'"):
        published.compare(ours, published.case_study(), every_published_row="yes")
