"""Tests of nntrain.gradcheck.normalization: batch and layer normalization written out in NumPy,
against Keras's BatchNormalization and LayerNormalization (outputs, gradients by the active
backend's autodiff, moving statistics), against central differences, and bad input.

Runs under KERAS_BACKEND=tensorflow and KERAS_BACKEND=jax. Under TensorFlow Keras computes a
float64 layer in float64, and everything agrees to 1e-12. Under JAX, Keras promotes float64
with float32 to float32 (its dtype lattice demotes 64-bit types on that backend), so both
layers compute in float32 even on float64 input: the agreement is then float32's, 1e-5.
"""

import contextlib
import doctest
import re

import keras
import numpy as np
import pytest

from nntrain.gradcheck import (
    NormCache,
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_inference,
    gradient_check,
    jax_float64,
    layer_norm_backward,
    layer_norm_forward,
    normalization,
    update_moving_statistics,
)

BACKEND = keras.backend.backend()
ATOL = 1e-12 if BACKEND == "tensorflow" else 1e-5   # see the module docstring
PASSES = {"batch": (batch_norm_forward, batch_norm_backward, keras.layers.BatchNormalization),
          "layer": (layer_norm_forward, layer_norm_backward, keras.layers.LayerNormalization)}


def _batch(n=8, d=5, seed=0):
    """A batch far from standardized (mean 2, std 3), a scale and shift, and a gradient dout."""
    rng = np.random.default_rng(seed)
    return (rng.normal(2.0, 3.0, size=(n, d)), rng.normal(1.0, 0.5, size=d), rng.normal(size=d),
            rng.normal(size=(n, d)))


def _float64():
    return jax_float64() if BACKEND == "jax" else contextlib.nullcontext()


def _keras_pass(layer, x, dout):
    """Keras's output on ``x`` (training mode) and the gradients of sum(dout * output) with
    respect to x, gamma and beta, by the active backend's automatic differentiation."""
    trainable = [v.value for v in layer.trainable_variables]             # gamma, beta
    others = [v.value for v in layer.non_trainable_variables]
    kwargs = {"training": True} if isinstance(layer, keras.layers.BatchNormalization) else {}

    def loss(x, trainable):
        out, _ = layer.stateless_call(trainable, others, x, **kwargs)
        return keras.ops.sum(out * dout), out

    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            tape.watch(trainable)
            value, out = loss(x, trainable)
        dx, (dgamma, dbeta) = tape.gradient(value, [x, trainable])
    elif BACKEND == "jax":
        import jax

        (dx, (dgamma, dbeta)), out = jax.grad(loss, argnums=(0, 1), has_aux=True)(
            keras.ops.convert_to_tensor(x), trainable)
    else:
        pytest.skip(f"no autodiff helper for the {BACKEND} backend")
    return [np.asarray(keras.ops.convert_to_numpy(a), dtype=np.float64) for a in (out, dx, dgamma, dbeta)]


def _keras_layer(kind, gamma, beta, **kwargs):
    layer = PASSES[kind][2](dtype="float64", **kwargs)
    layer.build((None, gamma.size))
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    return layer


# ------------------------------------------------------------------------ against Keras
@pytest.mark.parametrize("kind", PASSES)
@pytest.mark.parametrize("epsilon", [1e-3, 1e-5])
def test_forward_and_backward_match_keras(kind, epsilon):
    x, gamma, beta, dout = _batch()
    forward, backward, _ = PASSES[kind]
    with _float64():
        out, dx, dgamma, dbeta = _keras_pass(_keras_layer(kind, gamma, beta, epsilon=epsilon), x, dout)
    y, cache = forward(x, gamma, beta, epsilon=epsilon)
    ours = (y, *backward(dout, cache))
    for name, a, b in zip(["y", "dx", "dgamma", "dbeta"], ours, (out, dx, dgamma, dbeta)):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("kind", PASSES)
def test_defaults_are_keras_defaults(kind):
    """epsilon = 1e-3 (both layers) and momentum = 0.99 (batch normalization), as Keras's."""
    layer = PASSES[kind][2]()
    assert layer.epsilon == normalization.EPSILON == 1e-3
    if kind == "batch":
        assert layer.momentum == normalization.MOMENTUM == 0.99


def test_moving_statistics_and_inference_match_keras_after_a_few_steps():
    """Five training steps on five different batches move Keras's moving mean and variance
    exactly as update_moving_statistics does (biased variance, momentum 0.9 here so that they
    move visibly); inference with them matches training=False."""
    x, gamma, beta, _ = _batch()
    with _float64():
        layer = _keras_layer("batch", gamma, beta, momentum=0.9)
        mean, variance = np.zeros(5), np.ones(5)
        for step in range(5):
            batch = _batch(seed=10 + step)[0] * (step + 1)
            layer(keras.ops.convert_to_tensor(batch), training=True)
            mean, variance = update_moving_statistics(mean, variance, batch_norm_forward(batch, gamma, beta)[1],
                                                      momentum=0.9)
        keras_mean, keras_variance = (keras.ops.convert_to_numpy(v) for v in (layer.moving_mean, layer.moving_variance))
        keras_inference = keras.ops.convert_to_numpy(layer(keras.ops.convert_to_tensor(x), training=False))
    np.testing.assert_allclose(mean, keras_mean, rtol=1e-6 if BACKEND == "jax" else 1e-12)
    np.testing.assert_allclose(variance, keras_variance, rtol=1e-6 if BACKEND == "jax" else 1e-12)
    assert np.abs(mean).max() > 1.0 and np.abs(variance - 1).max() > 1.0   # they did move
    np.testing.assert_allclose(batch_norm_inference(x, gamma, beta, mean, variance), keras_inference,
                               rtol=0, atol=ATOL)


def test_moving_statistics_use_the_biased_variance():
    x = np.array([[1.0], [3.0]])             # mean 2, biased variance 1 (unbiased would be 2)
    _, cache = batch_norm_forward(x, np.ones(1), np.zeros(1))
    mean, variance = update_moving_statistics(np.zeros(1), np.zeros(1), cache, momentum=0.0)
    assert mean.tolist() == [2.0] and variance.tolist() == [1.0]
    unchanged = update_moving_statistics(np.full(1, 5.0), np.full(1, 7.0), cache, momentum=1.0)
    assert [a.tolist() for a in unchanged] == [[5.0], [7.0]]


# ------------------------------------------------------------------ against finite differences
@pytest.mark.parametrize("kind", PASSES)
def test_backward_passes_the_gradient_check(kind):
    """The loss sum(dout * y) as a function of (x, gamma, beta) flattened: every group's
    relative error is below 1e-7 with central differences in float64."""
    x, gamma, beta, dout = _batch(n=6, d=4, seed=3)
    forward, backward, _ = PASSES[kind]
    n = x.size

    def loss(theta):
        return float(np.sum(dout * forward(theta[:n].reshape(x.shape), theta[n:n + 4], theta[n + 4:])[0]))

    theta = np.concatenate([x.ravel(), gamma, beta])
    dx, dgamma, dbeta = backward(dout, forward(x, gamma, beta)[1])
    table = gradient_check(loss, np.concatenate([dx.ravel(), dgamma, dbeta]), theta, tolerance=1e-7,
                           groups={"x": slice(0, n), "gamma": slice(n, n + 4), "beta": slice(n + 4, None)})
    assert table["passes"].all(), table


# ---------------------------------------------------------------------------- properties
def test_batch_norm_standardizes_columns_and_layer_norm_rows():
    x, gamma, beta, _ = _batch(n=64, d=16)
    y, cache = batch_norm_forward(x, np.ones(16), np.zeros(16), epsilon=1e-12)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-9)
    assert cache.axis == 0 and cache.mean.shape == (16,)
    y, cache = layer_norm_forward(x, np.ones(16), np.zeros(16), epsilon=1e-12)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=1), 1, atol=1e-9)
    assert cache.axis == 1 and cache.mean.shape == (64, 1)


def test_layer_norm_of_an_example_does_not_depend_on_the_batch_and_batch_norm_does():
    x, gamma, beta, _ = _batch(n=8, d=5)
    other = _batch(n=8, d=5, seed=1)[0]
    mixed = np.vstack([x[:1], other[1:]])           # the same first example, other company
    np.testing.assert_array_equal(layer_norm_forward(mixed, gamma, beta)[0][0], layer_norm_forward(x, gamma, beta)[0][0])
    np.testing.assert_array_equal(layer_norm_forward(x[:1], gamma, beta)[0][0], layer_norm_forward(x, gamma, beta)[0][0])
    shift = np.abs(batch_norm_forward(mixed, gamma, beta)[0][0] - batch_norm_forward(x, gamma, beta)[0][0])
    assert shift.max() > 0.1, shift


def test_inputs_are_not_modified_and_float32_is_computed_in_float64():
    x, gamma, beta, dout = _batch()
    before = x.copy()
    y, cache = batch_norm_forward(x.astype("float32"), gamma, beta)
    assert y.dtype == np.float64 and isinstance(cache, NormCache)
    batch_norm_forward(x, gamma, beta)
    np.testing.assert_array_equal(x, before)


def test_docstring_examples_run():
    result = doctest.testmod(normalization, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------------------- bad input
def _raises(message, call, *args, **kwargs):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call(*args, **kwargs)


def test_bad_input_names_the_argument_and_what_it_received():
    x, gamma, beta, dout = _batch()
    _raises("`x` must be a finite real array of 2 dimensions. Received: x=array of shape (5,)",
            batch_norm_forward, gamma, gamma, beta)
    _raises("`x` must be a finite real array of 2 dimensions. Received: x='abc'",
            layer_norm_forward, "abc", gamma, beta)
    _raises("`x` must be a finite real array of 2 dimensions. Received: x=array of shape (8, 5) holding inf or NaN",
            batch_norm_forward, np.where(x > 5, np.nan, x), gamma, beta)
    _raises("`gamma` must be a finite real array of shape (5,). Received: gamma=array of shape (4,)",
            batch_norm_forward, x, gamma[:4], beta)
    _raises("`beta` must be a finite real array of shape (5,). Received: beta=array of shape (5, 1)",
            layer_norm_forward, x, gamma, beta[:, None])
    _raises("`epsilon` must be a positive number. Received: epsilon=0", batch_norm_forward, x, gamma, beta, epsilon=0)
    _raises("`epsilon` must be a positive number. Received: epsilon=True", layer_norm_forward, x, gamma, beta,
            epsilon=True)
    _, cache = batch_norm_forward(x, gamma, beta)
    _raises("`dout` must be a finite real array of shape (8, 5). Received: dout=array of shape (8, 4)",
            batch_norm_backward, dout[:, :4], cache)
    _raises("`cache` must be the cache returned by layer_norm_forward. Received: cache=NormCache(axis=0)",
            layer_norm_backward, dout, cache)
    _raises("`cache` must be the cache returned by batch_norm_forward. Received: cache=tuple",
            batch_norm_backward, dout, (1, 2))
    _raises("`momentum` must be a number in [0, 1]. Received: momentum=1.5",
            update_moving_statistics, np.zeros(5), np.ones(5), cache, momentum=1.5)
    _raises("`moving_mean` must be a finite real array of shape (5,). Received: moving_mean=array of shape (3,)",
            update_moving_statistics, np.zeros(3), np.ones(5), cache)
    _raises("`moving_variance` must be a non-negative array. Received: moving_variance=array with minimum -1.0",
            batch_norm_inference, x, gamma, beta, np.zeros(5), -np.ones(5))
