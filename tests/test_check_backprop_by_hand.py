"""The backprop-by-hand lab's checkers: right solutions pass, typical mistakes get their hint,
and the checkers' own reference gradients agree with tf.GradientTape."""

import numpy as np
import tensorflow as tf
from scipy.special import softmax

from nntrain import check
from nntrain.check import backprop_by_hand as lab


def output_layer(a1, z2, y):
    dz2 = softmax(z2) - np.eye(len(z2))[y]
    return dz2, np.outer(a1, dz2), dz2


def hidden_layer(x, z1, W2, dz2):
    dz1 = (W2 @ dz2) * (z1 > 0)
    return dz1, np.outer(x, dz1), dz1


def batch_gradients(params, X, y):
    z1 = X @ params["W1"] + params["b1"]
    a1 = np.maximum(z1, 0)
    dz2 = (softmax(a1 @ params["W2"] + params["b2"], axis=1) - np.eye(params["W2"].shape[1])[y]) / len(X)
    dz1 = (dz2 @ params["W2"].T) * (z1 > 0)
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}


def test_reference_matches_gradient_tape():
    prob = lab._problem(5)
    params = {k: tf.Variable(prob[k]) for k in ("W1", "b1", "W2", "b2")}
    with tf.GradientTape() as tape:
        z1 = prob["X"] @ params["W1"] + params["b1"]
        z2 = tf.nn.relu(z1) @ params["W2"] + params["b2"]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(prob["y"], z2))
    taped = tape.gradient(loss, params)
    ours = lab._batch(prob, prob["X"], prob["y"])
    for name in params:
        np.testing.assert_allclose(ours[name], taped[name].numpy(), rtol=1e-10, atol=1e-12)
    # one example through the per-example references gives the same as a batch of one
    z1, a1, z2 = lab._forward(prob, prob["X"][:1])
    dz2, dW2, db2 = lab._output(a1[0], z2[0], int(prob["y"][0]))
    dz1, dW1, db1 = lab._hidden(prob["X"][0], z1[0], prob["W2"], dz2)
    one = lab._batch(prob, prob["X"][:1], prob["y"][:1])
    for got, name in ((dW2, "W2"), (db2, "b2"), (dW1, "W1"), (db1, "b1")):
        np.testing.assert_allclose(got, one[name], rtol=1e-12)


def test_output_layer():
    assert check.exercise("backprop_by_hand.output", output_layer)
    wrong_sign = lambda a1, z2, y: tuple(-g for g in output_layer(a1, z2, y))
    assert "sign" in str(check.exercise("backprop_by_hand.output", wrong_sign))
    transposed = lambda a1, z2, y: (lambda d: (d, np.outer(d, a1), d))(softmax(z2) - np.eye(len(z2))[y])
    assert "transposed" in str(check.exercise("backprop_by_hand.output", transposed))
    no_onehot = lambda a1, z2, y: (lambda d: (d, np.outer(a1, d), d))(softmax(z2))
    feedback = check.exercise("backprop_by_hand.output", no_onehot)
    assert not feedback and "`dz2`" in str(feedback)
    assert "itself" in str(check.exercise("backprop_by_hand.output", 3))
    crash = check.exercise("backprop_by_hand.output", lambda a1, z2, y: a1 @ np.ones((2, 2)))
    assert not crash and "ValueError" in str(crash)


def test_hidden_layer():
    assert check.exercise("backprop_by_hand.hidden", hidden_layer)
    unmasked = lambda x, z1, W2, dz2: (W2 @ dz2, np.outer(x, W2 @ dz2), W2 @ dz2)
    assert "ReLU" in str(check.exercise("backprop_by_hand.hidden", unmasked))
    bad_bias = lambda x, z1, W2, dz2: hidden_layer(x, z1, W2, dz2)[:2] + (np.zeros_like(z1),)
    feedback = check.exercise("backprop_by_hand.hidden", bad_bias)
    assert not feedback and "`db1`" in str(feedback)


def test_batch_gradients():
    assert check.exercise("backprop_by_hand.batch", batch_gradients)
    summed = lambda p, X, y: {k: v * len(X) for k, v in batch_gradients(p, X, y).items()}
    assert "mean" in str(check.exercise("backprop_by_hand.batch", summed))
    as_tuple = lambda p, X, y: tuple(batch_gradients(p, X, y).values())
    assert check.exercise("backprop_by_hand.batch", as_tuple)  # W1, b1, W2, b2 in order
    wrong_keys = lambda p, X, y: {"dW1": 0}
    assert "keys" in str(check.exercise("backprop_by_hand.batch", wrong_keys))


def test_evaluations():
    assert check.exercise("backprop_by_hand.evaluations", 2 * 25450)
    assert not check.exercise("backprop_by_hand.evaluations", 25450)

