"""Tests of nntrain.playground: the 2-D problems, training, the boundary grid and the view."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402

import numpy as np
import pytest

import nntrain as nt
from nntrain import playground


@pytest.mark.parametrize("name", ["moons", "circles", "spiral"])
def test_problems_are_balanced_two_class_splits(name):
    data = playground.dataset(name, n=200, seed=1)
    assert data.input_shape == (2,) and data.num_classes == 2
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (120, 40, 40)
    for _, y in data.splits().values():
        assert y.dtype == np.int32 and np.bincount(y).tolist() == [len(y) // 2] * 2
    assert data.x_train.dtype == np.float32 and not data.synthetic
    again = playground.dataset(name, n=200, seed=1)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    assert not np.array_equal(data.x_train, playground.dataset(name, n=200, seed=2).x_train)


def test_the_spiral_arms_follow_their_formula():
    data = playground.dataset("spiral", n=400, noise=0.0)
    x = np.concatenate([data.x_train, data.x_val, data.x_test])
    y = np.concatenate([data.y_train, data.y_val, data.y_test])
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.min() >= 0.15 - 1e-6 and r.max() <= 1 + 1e-6
    # phi = 3 pi r + pi c, so the point's angle minus that is a multiple of 2 pi
    gap = np.arctan2(x[:, 1], x[:, 0]) - 3 * np.pi * r - np.pi * y
    np.testing.assert_allclose(np.cos(gap), 1.0, atol=1e-5)
    circles = playground.dataset("circles", n=400, noise=0.0)
    radii = np.round(np.hypot(*circles.x_train.T), 4)
    assert set(radii) == {0.5, 1.0}  # the inner circle has half the radius


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "xor"}, r"`name` must be one of \['moons', 'circles', 'spiral'\]. Received: name='xor'"),
    ({"n": 10}, r"Received: n=10"),
    ({"noise": -0.1}, r"Received: noise=-0.1"),
    ({"seed": -1}, r"Received: seed=-1"),
])
def test_bad_problem_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        playground.dataset(**kwargs)


@pytest.fixture(scope="module")
def moons():
    data = playground.dataset("moons", n=200, seed=0)
    return playground.train(data, depth=2, width=8, activation="tanh", learning_rates=[0.01, 0.3],
                            inits=["xavier_uniform", "zeros"], epochs=20, batch_size=20, resolution=12)


def test_train_gives_every_member_its_boundary_and_loss_curve(moons):
    assert moons.probability.shape == (4, 12, 12)
    assert moons.probability.min() >= 0 and moons.probability.max() <= 1
    assert len(moons.table) == 4 and len(moons.history) == 4 * 20
    assert moons.settings == {"depth": 2, "width": 8, "activation": "tanh", "optimizer": "sgd",
                              "epochs": 20, "batch_size": 20}
    x = np.concatenate([moons.data.x_train, moons.data.x_test])
    assert moons.x1[0] < x[:, 0].min() and moons.x1[-1] > x[:, 0].max()  # the grid covers the data
    assert moons.x2[0] < x[:, 1].min() and moons.x2[-1] > x[:, 1].max()


def test_the_grid_is_what_each_member_predicts_there(moons):
    for member in (1, 2):
        model = moons.sweep.model(member)
        point = np.array([[moons.x1[3], moons.x2[7]]], dtype="float32")
        expected = model.predict(point, verbose=0)[0, 1]
        assert moons.probability[member, 7, 3] == pytest.approx(float(expected), abs=1e-5)


def test_zero_init_stays_symmetric_and_learns_no_boundary(moons):
    zeros = moons.table.index[moons.table["init"] == "zeros"]
    for member in zeros:
        assert np.ptp(moons.probability[member]) < 1e-6  # the same answer everywhere
    best = moons.table.loc[moons.table["init"] == "xavier_uniform", "test_accuracy"].max()
    assert best > 0.75  # a trained network does separate the moons


def test_the_boundary_table_is_the_array_in_tidy_form(moons):
    frame = moons.boundary()
    assert len(frame) == 4 * 12 * 12
    row = frame[(frame["member"] == 2) & (frame["x1"] == moons.x1[5]) & (frame["x2"] == moons.x2[9])]
    assert row["probability"].item() == pytest.approx(float(moons.probability[2, 9, 5]))


def test_plot_draws_a_panel_per_member_and_the_losses(moons):
    fig = moons.plot(columns=3)
    shown = [ax for ax in fig.axes if ax.axison]
    assert len(shown) == 5 and len(fig.axes) == 6
    assert shown[-1].get_ylabel() == "cross-entropy loss"
    assert len(shown[-1].lines) == 2 * 4
    assert "test accuracy" in shown[0].get_title()
    fig = moons.plot(members=[1], loss=False)
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match=r"`members` must be indices in \[0, 4\). Received: members=\[4\]"):
        moons.plot(members=[4])


def test_draw_puts_one_titled_boundary_on_given_axes(moons):
    fig, ax = matplotlib.pyplot.subplots()
    moons.draw(ax, member=2, title="depth 2")
    assert ax.get_title().startswith("depth 2\ntest accuracy")
    assert len(ax.collections) >= 2  # the shading and the training points
    with pytest.raises(ValueError, match=r"`member` must be an index in \[0, 4\). Received: member=-1"):
        moons.draw(ax, member=-1)


def test_train_refuses_data_that_is_not_a_2d_two_class_problem():
    with pytest.raises(ValueError, match=r"`data` must be a two-class Dataset with 2 features"):
        playground.train(nt.load("digits", profile="smoke"))
    with pytest.raises(ValueError, match=r"Received: resolution=1"):
        playground.train(playground.dataset("moons", n=40), resolution=1)


def test_precompute_fills_the_explorer_tables():
    tables = playground.precompute(names=["circles"], depths=[1], widths=[3], activations=["relu"],
                                   learning_rates=[0.1, 0.3], inits=["he_normal"], epochs=2,
                                   resolution=5, n=40)
    assert set(tables) == {"boundaries", "losses", "scores", "points"}
    assert len(tables["boundaries"]) == 2 * 5 * 5
    assert list(tables["boundaries"].columns) == ["dataset", "depth", "width", "activation", "init",
                                                  "learning_rate", "x1", "x2", "probability"]
    assert len(tables["losses"]) == 2 * 2 and len(tables["scores"]) == 2 and len(tables["points"]) == 40
    assert set(tables["points"]["split"]) == {"train", "val", "test"}
