"""Tests of nntrain.gradcheck: finite differences (exactness, error orders, call counts), the
relative error, the gradient-check table, the NumPy two-layer network against
tf.GradientTape and Keras, the cost measurement, and bad input."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from nntrain import descent
from nntrain.gradcheck import (
    ACTIVATIONS,
    TwoLayerNet,
    cost_comparison,
    gradient_check,
    numerical_gradient,
    relative_error,
)

TF_ACTIVATIONS = {"sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu,
                  "linear": tf.identity}


def _counted(f):
    def wrapper(t):
        wrapper.calls += 1
        return f(t)

    wrapper.calls = 0
    return wrapper


def _batch(n=7, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, k))


# ------------------------------------------------------------------ numerical gradients
def test_central_differences_are_exact_for_a_quadratic_and_keep_the_shape():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 6))
    a = a @ a.T
    theta = rng.normal(size=(2, 3))
    before = theta.copy()
    g = numerical_gradient(lambda t: 0.5 * t.reshape(-1) @ a @ t.reshape(-1), theta, epsilon=1e-3)
    assert g.shape == (2, 3)
    np.testing.assert_allclose(g.reshape(-1), a @ theta.reshape(-1), rtol=1e-9, atol=1e-9)
    assert np.array_equal(theta, before)  # the caller's array is never modified


def test_error_orders_central_quadratic_forward_linear():
    """Halving epsilon divides the central error by 4 and the forward error by 2."""
    f, x0, exact = (lambda t: float(np.exp(t[0]))), np.array([0.7]), np.exp(0.7)
    ratios = {}
    for method in ("central", "forward"):
        errors = [abs(numerical_gradient(f, x0, epsilon=h, method=method)[0] - exact)
                  for h in (1e-2, 5e-3)]
        ratios[method] = errors[0] / errors[1]
    assert ratios["central"] == pytest.approx(4.0, rel=0.02)
    assert ratios["forward"] == pytest.approx(2.0, rel=0.02)


@pytest.mark.parametrize("method, calls", [("central", lambda p: 2 * p), ("forward", lambda p: p + 1)])
def test_number_of_function_calls(method, calls):
    f = _counted(lambda t: float(np.sum(np.sin(t))))
    numerical_gradient(f, np.zeros(13), method=method)
    assert f.calls == calls(13)


def test_relative_error_values():
    a = np.array([3.0, -4.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # defined where both are 0
    assert relative_error(a, 2 * a) == pytest.approx(1 / 3)  # |a| / (|a| + 2|a|)
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(a, np.zeros(2)) == pytest.approx(1.0)
    assert relative_error(a, a + [1e-6, 0]) == pytest.approx(1e-6 / 10, rel=1e-6)
    assert relative_error(2 * a, a) == relative_error(a, 2 * a)


# ------------------------------------------------------------------ the gradient-check table
def test_gradient_check_passes_a_right_gradient_and_locates_a_wrong_one():
    net = TwoLayerNet(5, 4, 3)
    x, y = _batch()
    theta = net.init(seed=2)
    loss, grad = net.loss_and_grad(theta, x, y)
    f = lambda t: net.loss(t, x, y)  # noqa: E731
    table = gradient_check(f, grad, theta, groups=net.groups())
    assert list(table.index) == ["W1", "b1", "W2", "b2", "all"]
    assert list(table.columns) == ["size", "checked", "relative error", "max abs difference", "passes"]
    assert table["size"].tolist() == [20, 4, 12, 3, 39] == table["checked"].tolist()
    assert table["passes"].all() and (table["relative error"] < 1e-8).all()

    bad = grad.copy()
    bad[net.groups()["b1"]] /= len(x)  # a bias gradient averaged twice over the batch
    table = gradient_check(f, bad, theta, groups=net.groups())
    assert table["passes"].tolist() == [True, False, True, True, False]
    assert table.loc["b1", "relative error"] > 0.5


def test_gradient_check_samples_coordinates_and_defaults_to_one_group():
    f = _counted(lambda t: float(np.sum(t**3)))
    theta = np.linspace(-1, 1, 50)
    table = gradient_check(f, 3 * theta**2, theta, groups={"first": slice(0, 30), "rest": slice(30, 50)},
                           sample=5, seed=3)
    assert table["checked"].tolist() == [5, 5, 10] and table["size"].tolist() == [30, 20, 50]
    assert f.calls == 2 * 10
    assert table["passes"].all()
    single = gradient_check(lambda t: float(np.sum(t**3)), 3 * theta**2, theta, method="forward",
                            tolerance=1e-4)
    assert list(single.index) == ["all"] and single.loc["all", "checked"] == 50
    assert 1e-9 < single.loc["all", "relative error"] < 1e-4  # forward differences: O(epsilon)


# ------------------------------------------------------------------ the network
def test_shapes_parameters_groups_and_views():
    net = TwoLayerNet(8, 16, 1, "sigmoid", "linear")
    assert net.shapes == {"W1": (8, 16), "b1": (16,), "W2": (16, 1), "b2": (1,)}
    assert net.n_params == 8 * 16 + 16 + 16 + 1 == 161
    assert net.groups() == {"W1": slice(0, 128), "b1": slice(128, 144), "W2": slice(144, 160),
                            "b2": slice(160, 161)}
    theta = net.init(seed=0)
    params = net.unflatten(theta)
    params["b2"][0] = 5.0  # a view: writes through to theta
    assert theta[-1] == 5.0
    assert np.all(theta[128:144] == 0)  # biases start at 0
    assert np.std(params["W1"]) == pytest.approx(1 / np.sqrt(8), rel=0.25)  # LeCun normal
    assert np.array_equal(net.init(seed=0)[:128], theta[:128])
    assert not np.array_equal(net.init(seed=1), net.init(seed=0))


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output", ["sigmoid", "linear"])
def test_backward_matches_tf_gradient_tape(hidden, output):
    net = TwoLayerNet(5, 4, 3, hidden, output)
    x, y = _batch(seed=4)
    theta = net.init(seed=5) + 0.1  # nonzero biases
    loss, grad = net.loss_and_grad(theta, x, y)

    w1, b1, w2, b2 = (tf.Variable(p) for p in net.unflatten(theta).values())
    with tf.GradientTape() as tape:
        a1 = TF_ACTIVATIONS[hidden](x @ w1 + b1)
        a2 = TF_ACTIVATIONS[output](a1 @ w2 + b2)
        loss_tf = tf.reduce_mean(tf.reduce_sum((a2 - y) ** 2, axis=1))
    reference = np.concatenate([g.numpy().reshape(-1) for g in tape.gradient(loss_tf, [w1, b1, w2, b2])])
    assert loss == pytest.approx(float(loss_tf), rel=1e-12)
    assert relative_error(grad, reference) < 1e-12
    assert relative_error(grad, numerical_gradient(lambda t: net.loss(t, x, y), theta)) < 1e-7


def test_forward_matches_a_keras_model_with_the_same_weights():
    net = TwoLayerNet(5, 6, 2, "tanh", "sigmoid")
    x, _ = _batch(k=2, seed=6)
    theta = net.init(seed=7) + 0.05
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="tanh"),
                              keras.layers.Dense(2, activation="sigmoid")])
    model.set_weights([p.astype("float32") for p in net.unflatten(theta).values()])
    out, cache = net.forward(theta, x)
    keras_out = keras.ops.convert_to_numpy(model(x.astype("float32")))
    np.testing.assert_allclose(out, keras_out, rtol=1e-5, atol=1e-6)
    assert set(cache) == {"x", "z1", "a1", "z2", "a2"} and cache["a1"].shape == (7, 6)


def test_images_become_rows_and_one_output_takes_flat_targets():
    rng = np.random.default_rng(8)
    images, y = rng.uniform(size=(4, 3, 3, 1)), rng.normal(size=4)
    net = TwoLayerNet(9, 2, 1, "sigmoid", "linear")
    theta = net.init()
    loss_img, grad_img = net.loss_and_grad(theta, images, y)
    loss_row, grad_row = net.loss_and_grad(theta, images.reshape(4, 9), y[:, None])
    assert loss_img == loss_row and np.array_equal(grad_img, grad_row)


def test_the_batch_gradient_is_the_mean_of_the_example_gradients():
    net = TwoLayerNet(5, 4, 3)
    x, y = _batch(n=6, seed=9)
    theta = net.init(seed=10)
    _, batch_grad = net.loss_and_grad(theta, x, y)
    single = [net.loss_and_grad(theta, x[i:i + 1], y[i:i + 1])[1] for i in range(6)]
    np.testing.assert_allclose(batch_grad, np.mean(single, axis=0), rtol=1e-12, atol=1e-15)


def test_loss_is_the_mean_over_examples_of_the_sum_over_outputs():
    net = TwoLayerNet(2, 1, 2, "linear", "linear")
    theta = np.zeros(net.n_params)  # the output is 0 whatever the input
    x, y = np.ones((2, 2)), np.array([[1.0, 2.0], [3.0, 0.0]])
    assert net.loss(theta, x, y) == pytest.approx((1 + 4 + 9 + 0) / 2)


def test_loss_and_grad_trains_with_descent_minimize():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(64, 3))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2]
    net = TwoLayerNet(3, 16, 1, "tanh", "linear")
    run = descent.minimize(net.loss_and_grad, net.init(seed=0), x, y, learning_rate=0.05, epochs=300)
    assert not run.diverged
    assert run.final_loss < 0.3 * run.history["loss"].iloc[0]


# ------------------------------------------------------------------ the cost measurement
def test_cost_comparison_counts_exactly_and_agrees():
    x, y = _batch(n=4, d=3, k=2, seed=12)
    table = cost_comparison(x, y, [1, 3], repeats=1)
    params = [3 * 1 + 1 + 1 * 2 + 2, 3 * 3 + 3 + 3 * 2 + 2]
    assert isinstance(table, pd.DataFrame)
    assert table["parameters"].tolist() == params
    assert table["loss evaluations (differences)"].tolist() == [2 * p for p in params]
    assert table["forward passes (backprop)"].tolist() == [1, 1]
    assert table["backward passes (backprop)"].tolist() == [1, 1]
    assert (table["relative error"] < 1e-7).all()
    for column in ("differences s", "backprop s", "forward s", "time ratio", "backprop / forward"):
        assert (table[column] > 0).all() and np.isfinite(table[column]).all()
    np.testing.assert_allclose(table["time ratio"], table["differences s"] / table["backprop s"])


def test_cost_comparison_grows_with_the_parameter_count():
    """Loose (timings are noisy on a shared machine): the time ratio grows with P, and 2P loss
    evaluations cost far more than one backward pass at P ~ 400 (expected ratio ~ 400)."""
    x, y = _batch(n=8, d=8, k=1, seed=13)
    table = cost_comparison(x, y[:, 0], [2, 40], repeats=3)
    growth = table["parameters"].iloc[1] / table["parameters"].iloc[0]  # 401 / 21: about 19
    assert table["time ratio"].iloc[1] > growth / 8 * table["time ratio"].iloc[0]  # should be ~growth
    assert table["time ratio"].iloc[1] > 20


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: numerical_gradient(np.sum, np.ones(2), epsilon=0), r"`epsilon` .*Received: epsilon=0"),
        (lambda: numerical_gradient(np.sum, np.ones(2), epsilon=True), r"Received: epsilon=True"),
        (lambda: numerical_gradient(np.sum, np.ones(2), method="backward"),
         r"`method` must be one of \['central', 'forward'\]. Received: method='backward'"),
        (lambda: relative_error(np.ones(2), np.ones(3)), r"`numerical` must be an array of the shape of `analytic` \(2,\)\. Received: numerical=<ndarray of shape \(3,\)>"),
        (lambda: gradient_check(np.sum, np.ones(3), np.ones((3, 1))), r"`theta` must be a flat vector.*Received: theta=<ndarray of shape \(3, 1\)>"),
        (lambda: gradient_check(np.sum, np.ones(3), np.ones(3), sample=0), r"Received: sample=0"),
        (lambda: gradient_check(np.sum, np.ones(3), np.ones(3), epsilon=-1.0), r"Received: epsilon=-1.0"),
        (lambda: TwoLayerNet(0, 2, 1), r"`n_in` must be a positive integer. Received: n_in=0"),
        (lambda: TwoLayerNet(2, 2.5, 1), r"Received: n_hidden=2.5"),
        (lambda: TwoLayerNet(2, 2, 1, "softmax"), r"`hidden_activation` must be one of .*Received: hidden_activation='softmax'"),
        (lambda: TwoLayerNet(2, 2, 1, output_activation=None), r"Received: output_activation=None"),
        (lambda: TwoLayerNet(2, 2, 1).unflatten(np.ones(5)), r"9 parameters. Received: theta.shape=\(5,\)"),
        (lambda: TwoLayerNet(2, 2, 1).loss(np.ones(9), np.ones((3, 4)), np.ones(3)), r"2 features.*Received: x.shape=\(3, 4\)"),
        (lambda: TwoLayerNet(2, 2, 2).loss(np.ones(12), np.ones((3, 2)), np.ones(3)), r"2 target\(s\).*Received: y.shape=\(3,\)"),
        (lambda: cost_comparison(np.ones((2, 2)), np.ones(2), [1], repeats=0), r"Received: repeats=0"),
    ],
)
def test_bad_input_raises(make, match):
    with pytest.raises(ValueError, match=match):
        make()
