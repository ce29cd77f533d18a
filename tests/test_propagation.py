"""Tests of nntrain.propagation: the variance laws of each rule, the backward pass and the
Jacobian against finite differences, histograms, and bad input. Runs on TF and JAX."""

import math

import nntrain  # first: it quiets TensorFlow's start-up logs before Keras imports it
import keras
import numpy as np
import pytest

from nntrain import initializers as nti
from nntrain import propagation as prop

RNG = np.random.default_rng(0)
# A batch of 128 inputs of 64 features, standard normal (E[x^2] = 1), shared by the tests.
X = RNG.standard_normal((128, 64)).astype("float32")


def _log2_ratio(frame, column, first=1, last=-1):
    values = frame[column].to_numpy()
    return math.log2(values[last] / values[first])


# ------------------------------------------------------------------ variance laws


def test_he_keeps_relu_variance_and_xavier_halves_it_per_layer():
    he = prop.propagate(X, "he_normal", "relu", depth=30, width=256, seed=1)
    xavier = prop.propagate(X, "xavier_normal", "relu", depth=30, width=256, seed=1)
    assert list(he.layer) == list(range(31))
    # He: Var(z_l) stays within a factor 4 of layer 1 over 30 layers. It is a product of 29
    # random gains of mean 1; at width 256 their log2 wanders by about 1 over 8 seeds
    # (measured: |log2 ratio| < 1.4). Xavier on square layers: 1/2 per layer, 2**-29 in all.
    assert abs(_log2_ratio(he, "preactivation_var")) < 2
    assert -32 < _log2_ratio(xavier, "preactivation_var") < -26
    # backward, the same: from the top (layer 30) down to layer 1
    assert abs(_log2_ratio(he, "gradient_var", first=-1, last=1)) < 2
    assert -32 < _log2_ratio(xavier, "gradient_var", first=-1, last=1) < -26


def test_first_layer_variance_matches_the_formula():
    # Var(z_1) = n_0 Var(W) E[x^2] with n_0 = 64, Var(W) = 2 / 64 (He): 2 E[x^2]
    frame = prop.propagate(X, "he_normal", "relu", depth=1, width=512, seed=3)
    expected = 64 * (2 / 64) * float(np.mean(X.astype(np.float64) ** 2))
    assert frame.preactivation_var.iloc[1] == pytest.approx(expected, rel=0.1)
    assert frame.activation_var.iloc[0] == pytest.approx(X.var(), rel=1e-5)
    assert np.isnan(frame.preactivation_var.iloc[0]) and np.isnan(frame.weight_gradient_var.iloc[0])


def test_linear_lecun_preserves_both_directions():
    # n Var(W) = 1 on square layers: forward and backward variances are preserved on average
    frame = prop.propagate(X, "lecun_normal", "linear", depth=10, width=256, seed=0)
    assert abs(_log2_ratio(frame, "preactivation_var")) < 1
    assert abs(_log2_ratio(frame, "gradient_var", first=-1, last=1)) < 1
    # the top gradient is the random r ~ N(0, 1), through phi' = 1
    assert frame.gradient_var.iloc[-1] == pytest.approx(1.0, rel=0.05)


def test_uniform_and_normal_with_equal_variance_propagate_alike():
    normal = prop.propagate(X, "he_normal", "relu", depth=5, width=256, seed=2)
    uniform = prop.propagate(X, "he_uniform", "relu", depth=5, width=256, seed=2)
    ratio = uniform.preactivation_var.to_numpy()[1:] / normal.preactivation_var.to_numpy()[1:]
    assert np.all((ratio > 0.7) & (ratio < 1.4)), ratio


def test_small_weights_vanish_and_large_weights_overflow():
    small = prop.propagate(X, nti.RandomNormal(stddev=0.01), "relu", depth=10, width=64, seed=0)
    # each layer multiplies Var(z) by n Var(W) / 2 = 64 * 1e-4 / 2 = 0.0032
    assert -100 < _log2_ratio(small, "preactivation_var") < -70
    large = prop.propagate(X, nti.RandomNormal(stddev=10.0), "relu", depth=20, width=256, seed=0)
    # each layer multiplies it by 256 * 100 / 2 = 12800 (about 10**4.1) from Var(z_1) = 6400:
    # the values pass float32's largest number (3.4e38, a variance of 1e77) before layer 20
    assert _log2_ratio(large, "preactivation_var", last=5) == pytest.approx(4 * math.log2(12800), abs=3)
    assert not np.isfinite(large.preactivation_var.iloc[-1])


def test_zero_initialization_gives_no_signal():
    frame = prop.propagate(X, "zeros", "relu", depth=3, width=16)
    assert np.all(frame.preactivation_var.iloc[1:] == 0)
    assert np.all(frame.gradient_var.iloc[1:-1] == 0)  # relu'(0) = 0 below the top


def test_seeds_reproducible_and_each_layer_has_its_own_kernel():
    a = prop._run(X, nti.RandomNormal(stddev=0.1, seed=5), "tanh", 3, 32, 7)
    b = prop._run(X, nti.RandomNormal(stddev=0.1, seed=5), "tanh", 3, 32, 7)
    c = prop._run(X, nti.RandomNormal(stddev=0.1, seed=5), "tanh", 3, 32, 8)
    assert all(np.array_equal(u, v) for u, v in zip(a.kernels, b.kernels))
    assert not np.allclose(a.kernels[1], a.kernels[2])  # same shape, different draws
    assert not np.allclose(a.kernels[1], c.kernels[1])  # the seed matters


# ---------------------------------------------------- backward pass and Jacobian


def _forward64(x, kernels, phi):
    h = x
    for w in kernels:
        h = phi(h @ w)
    return h


def test_backward_pass_matches_finite_differences():
    x = RNG.standard_normal((3, 4))
    run = prop._run(x, "xavier_normal", "tanh", depth=3, width=5, seed=0)
    kernels = [k.astype(np.float64) for k in run.kernels]
    r = np.random.default_rng([0, 3]).standard_normal((3, 5)).astype("float32").astype(np.float64)

    def loss(x_, ks):
        return float(np.sum(r * _forward64(x_, ks, np.tanh)))

    eps = 1e-6
    grad_x = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[idx] = eps
        grad_x[idx] = (loss(x + step, kernels) - loss(x - step, kernels)) / (2 * eps)
    np.testing.assert_allclose(run.input_gradient, grad_x, rtol=1e-3, atol=1e-5)
    # dl/dW_2, averaged over the batch as the module defines it
    grad_w = np.zeros_like(kernels[1])
    for idx in np.ndindex(*grad_w.shape):
        plus = [k.copy() for k in kernels]
        minus = [k.copy() for k in kernels]
        plus[1][idx] += eps
        minus[1][idx] -= eps
        grad_w[idx] = (loss(x, plus) - loss(x, minus)) / (2 * eps) / len(x)
    np.testing.assert_allclose(run.weight_gradient[1], grad_w, rtol=1e-3, atol=1e-5)


def test_jacobian_singular_values_match_finite_differences():
    x = RNG.standard_normal((2, 6))
    run = prop._run(x, "lecun_normal", "tanh", depth=3, width=5, seed=4)
    kernels = [k.astype(np.float64) for k in run.kernels]
    eps = 1e-6
    jacobian = np.stack([
        (_forward64(x[:1] + eps * np.eye(6)[i], kernels, np.tanh)
         - _forward64(x[:1] - eps * np.eye(6)[i], kernels, np.tanh))[0] / (2 * eps)
        for i in range(6)], axis=1)  # (n_L, n_0) = (5, 6)
    expected = np.linalg.svd(jacobian, compute_uv=False)
    frame = prop.jacobian_singular_values(x, "lecun_normal", "tanh", depth=3, width=5, seed=4,
                                          examples=1)
    assert list(frame.columns) == ["example", "rank", "singular_value"]
    assert list(frame["rank"]) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(frame.singular_value, expected, rtol=1e-4)


def test_orthogonal_linear_network_is_isometric_and_gaussian_is_not():
    ortho = prop.jacobian_singular_values(X, "orthogonal", "linear", depth=30, width=32, examples=2)
    assert len(ortho) == 2 * 32
    np.testing.assert_allclose(ortho.singular_value, 1.0, atol=1e-4)
    gauss = prop.jacobian_singular_values(X, "lecun_normal", "linear", depth=30, width=32, examples=2)
    values = gauss.singular_value.to_numpy()
    assert values.max() / values.min() > 1e3  # a product of 30 random matrices is ill-conditioned


# -------------------------------------------------------------------- histograms


def test_histograms_are_normalized_and_share_one_grid():
    frame = prop.histograms(X, "xavier_uniform", "tanh", depth=4, width=64, bins=30)
    assert list(frame.columns) == ["signal", "layer", "left", "right", "center", "fraction"]
    assert set(frame.signal) == {"activation", "gradient"}
    sizes = frame.groupby(["signal", "layer"]).size()
    assert len(sizes) == 8 and (sizes == 30).all()
    totals = frame.groupby(["signal", "layer"]).fraction.sum()
    # the grid spans the pooled 0.1%-99.9% quantiles: almost every value of each layer is in it
    assert ((totals > 0.98) & (totals <= 1 + 1e-12)).all(), totals
    grids = frame.groupby(["signal", "layer"]).left.apply(tuple)
    assert grids.loc["activation"].nunique() == 1 and grids.loc["gradient"].nunique() == 1
    activation = frame[frame.signal == "activation"]
    assert activation.left.min() >= -1 and activation.right.max() <= 1  # tanh's range


def test_histograms_of_a_constant_signal_do_not_fail():
    frame = prop.histograms(X, "zeros", "tanh", depth=2, width=8, bins=5)
    by_layer = frame.groupby(["signal", "layer"]).fraction.sum()
    # every activation is 0: one grid around it holds them all
    np.testing.assert_allclose(by_layer.loc["activation"], 1.0)
    assert (by_layer.loc["gradient"] > 0.98).all()  # r at the top, phi'(0) r below


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": np.zeros(5)}, "`x` must be a non-empty batch"),
        ({"x": np.zeros((0, 4))}, "`x` must be a non-empty batch"),
        ({"x": np.array([["a", "b"]])}, "`x` must be a non-empty batch"),
        ({"depth": 0}, "`depth` must be a positive integer. Received: depth=0"),
        ({"width": 2.5}, "`width` must be a positive integer. Received: width=2.5"),
        ({"seed": -1}, "`seed` must be a non-negative integer. Received: seed=-1"),
        ({"init": "nope"}, "`init` must be an initializer name, one of"),
        ({"init": 3}, "`init` must be an initializer name"),
        ({"activation": "softmax"}, "`activation` must be elementwise"),
        ({"activation": "nope"}, "`activation` must be an elementwise Keras activation"),
    ],
)
def test_bad_input_raises(kwargs, match):
    args = {"x": X[:4], "init": "he_normal", "activation": "relu", "depth": 2, "width": 4,
            "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        prop.propagate(**args)


def test_bad_bins_and_examples_raise():
    with pytest.raises(ValueError, match="`bins` must be a positive integer. Received: bins=0"):
        prop.histograms(X[:4], depth=2, width=4, bins=0)
    with pytest.raises(ValueError, match=r"`examples` must be an integer from 1 to the batch size 4\. "
                                         r"Received: examples=5"):
        prop.jacobian_singular_values(X[:4], depth=2, width=4, examples=5)


def test_keras_initializers_are_accepted():
    frame = prop.propagate(X, keras.initializers.HeNormal(seed=1), "relu", depth=3, width=64)
    assert np.isfinite(frame.preactivation_var.iloc[1:]).all()
