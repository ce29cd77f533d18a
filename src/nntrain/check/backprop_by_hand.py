"""Checks for the lab "Backpropagation by hand".

The lab's network maps one example :math:`x \\in \\mathbb{R}^{d}` (a row, as Keras stores
it) through a ReLU hidden layer and a softmax output, with the cross-entropy loss:

.. math::

    z_1 = x W_1 + b_1, \\quad a_1 = \\max(z_1, 0), \\quad z_2 = a_1 W_2 + b_2, \\quad
    p = \\operatorname{softmax}(z_2), \\quad \\ell = -\\log p_y .

The learner's answers to the three coding tasks are *functions*. Each checker calls the
learner's function on inputs of its own (fixed random numbers of the right shapes), compares
what comes back with the gradients computed here, and names the part that is wrong, with a
hint for the usual mistakes (a sign, a transposed matrix, a forgotten ReLU mask, a sum where
the mean is due). The expected values are never shown in the notebook.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from ._core import Feedback, close, register

__all__: list[str] = []  # checkers only: they are reached through nntrain.check.exercise

# Sizes of the checkers' own test problem: inputs, hidden units, classes, batch.
_D, _M, _K, _N = 7, 5, 4, 6
_PARAMS = ("W1", "b1", "W2", "b2")


def _problem(seed: int = 0) -> dict[str, np.ndarray]:
    """A small random problem: parameters, a batch ``X``, labels ``y``."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(_D, _M)), "b1": rng.normal(size=_M) * 0.1,
            "W2": rng.normal(size=(_M, _K)), "b2": rng.normal(size=_K) * 0.1,
            "X": rng.normal(size=(_N, _D)), "y": rng.integers(0, _K, size=_N)}


def _forward(p: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, ...]:
    z1 = x @ p["W1"] + p["b1"]
    a1 = np.maximum(z1, 0.0)
    return z1, a1, a1 @ p["W2"] + p["b2"]


def _output(a1: np.ndarray, z2: np.ndarray, y: int) -> tuple[np.ndarray, ...]:
    dz2 = softmax(z2, axis=-1) - np.eye(z2.shape[-1])[y]
    return dz2, np.outer(a1, dz2), dz2


def _hidden(x: np.ndarray, z1: np.ndarray, W2: np.ndarray, dz2: np.ndarray) -> tuple[np.ndarray, ...]:
    dz1 = (W2 @ dz2) * (z1 > 0)
    return dz1, np.outer(x, dz1), dz1


def _batch(p: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    z1, a1, z2 = _forward(p, X)
    dz2 = (softmax(z2, axis=1) - np.eye(z2.shape[1])[y]) / len(X)
    dz1 = (dz2 @ p["W2"].T) * (z1 > 0)
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}


def _call(fn: object, *args) -> tuple[object, Feedback | None]:
    """Call the learner's function; a crash or a non-function is a wrong answer."""
    if not callable(fn):
        return None, Feedback(False, "Pass your function itself (without calling it), e.g. "
                                     "`nt.check.exercise(name, output_layer)`.")
    try:
        return fn(*args), None
    except Exception as error:  # the learner's code may raise anything
        return None, Feedback(False, f"Your function raised {type(error).__name__}: {error}. "
                                     "Check the shapes of the arrays you multiply.")


def _compare_parts(got: object, expected: dict[str, np.ndarray], hints: dict[str, str]) -> Feedback:
    """Compare a tuple or dict ``got`` with ``expected`` part by part."""
    names = list(expected)
    if isinstance(got, dict):
        if sorted(got) != sorted(names):
            return Feedback(False, f"Return a dict with the keys {names}. Received keys: "
                                   f"{sorted(map(str, got))}.")
        got = [got[n] for n in names]
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        return Feedback(False, f"Return a dict with the keys {names} (a tuple of the "
                               f"{len(names)} arrays in that order works too).")
    for name, value in zip(names, got):
        verdict = close(value, expected[name], rtol=1e-6, atol=1e-9, hint=hints[name])
        if not verdict:
            return Feedback(False, f"`{name}` is not right. {verdict.message}")
    return Feedback(True, "Well done: every part matches.")


@register("backprop_by_hand.output")
def _output_layer(answer: object) -> Feedback:
    """``output_layer(a1, z2, y) -> (dz2, dW2, db2)`` for one example."""
    prob = _problem(1)
    _, a1, z2 = _forward(prob, prob["X"][:1])
    a1, z2, y = a1[0], z2[0], int(prob["y"][0])
    got, failed = _call(answer, a1.copy(), z2.copy(), y)
    if failed is not None:
        return failed
    expected = dict(zip(("dz2", "dW2", "db2"), _output(a1, z2, y)))
    if isinstance(got, (tuple, list)) and len(got) == 3:
        dz2 = np.asarray(got[0], dtype=float)
        if dz2.shape == expected["dz2"].shape and np.allclose(dz2, -expected["dz2"]):
            return Feedback(False, "`dz2` has the wrong sign: the derivative of -log p_y with "
                                   "respect to z_2 is p minus the one-hot vector of y.")
        if np.shape(got[1]) == expected["dW2"].T.shape != expected["dW2"].shape:
            return Feedback(False, "`dW2` is transposed: it must have the shape of W2, "
                                   "(hidden units, classes) = np.outer(a1, dz2).")
    return _compare_parts(got, expected, {
        "dz2": "dl/dz2 = softmax(z2) - onehot(y): the probabilities, minus 1 at the true class.",
        "dW2": "Each weight W2[j, c] multiplies a1[j] on its way to z2[c]: dW2 = np.outer(a1, dz2).",
        "db2": "The bias adds straight into z2, so its gradient is dz2 itself."})


@register("backprop_by_hand.hidden")
def _hidden_layer(answer: object) -> Feedback:
    """``hidden_layer(x, z1, W2, dz2) -> (dz1, dW1, db1)`` for one example."""
    prob = _problem(2)
    z1, a1, z2 = _forward(prob, prob["X"][:1])
    x, z1, y = prob["X"][0], z1[0], int(prob["y"][0])
    dz2 = _output(a1[0], z2[0], y)[0]
    got, failed = _call(answer, x.copy(), z1.copy(), prob["W2"].copy(), dz2.copy())
    if failed is not None:
        return failed
    expected = dict(zip(("dz1", "dW1", "db1"), _hidden(x, z1, prob["W2"], dz2)))
    if isinstance(got, (tuple, list)) and len(got) == 3:
        unmasked = prob["W2"] @ dz2
        if np.shape(got[0]) == unmasked.shape and np.allclose(np.asarray(got[0], float), unmasked):
            return Feedback(False, "`dz1` misses the ReLU's derivative: multiply W2 @ dz2 by "
                                   "(z1 > 0), which is 1 where the unit was active and 0 elsewhere.")
    return _compare_parts(got, expected, {
        "dz1": "dl/da1 = W2 @ dz2 (each hidden unit feeds every class), then times ReLU'(z1).",
        "dW1": "dW1 = np.outer(x, dz1): the input times the hidden layer's delta.",
        "db1": "The bias adds straight into z1, so its gradient is dz1 itself."})


@register("backprop_by_hand.batch")
def _batch_gradients(answer: object) -> Feedback:
    """``batch_gradients(params, X, y) -> {"W1": ..., "b1": ..., "W2": ..., "b2": ...}``,
    the gradient of the *mean* loss over the batch."""
    prob = _problem(3)
    params = {k: prob[k].copy() for k in _PARAMS}
    got, failed = _call(answer, params, prob["X"].copy(), prob["y"].copy())
    if failed is not None:
        return failed
    expected = _batch(prob, prob["X"], prob["y"])
    if isinstance(got, dict) and sorted(got) == sorted(_PARAMS):
        summed = np.asarray(got["W2"], float) if np.shape(got["W2"]) == expected["W2"].shape else None
        if summed is not None and np.allclose(summed, _N * expected["W2"]):
            return Feedback(False, "Your gradients are the sum over the batch; the loss is the "
                                   "mean, so divide by the batch size n (once, in dz2).")
    return _compare_parts(got, expected, {
        "W1": "dW1 = X.T @ dZ1 sums the per-example outer products np.outer(x_i, dz1_i).",
        "b1": "db1 is dZ1 summed over the examples (axis 0).",
        "W2": "dW2 = A1.T @ dZ2 with dZ2 = (softmax(Z2) - onehot(y)) / n.",
        "b2": "db2 is dZ2 summed over the examples (axis 0)."})


@register("backprop_by_hand.evaluations")
def _evaluations(answer: object) -> Feedback:
    """Loss evaluations a central-difference gradient of the lab's network needs
    (784 inputs, 32 hidden units, 10 classes)."""
    parameters = 784 * 32 + 32 + 32 * 10 + 10  # W1, b1, W2, b2 of the lab's network
    return close(answer, 2 * parameters, rtol=0, atol=0.5, hint=(
        "Central differences evaluate the loss twice per parameter, at theta + eps e_i and "
        "theta - eps e_i. Count the parameters: W1 is 784 x 32, then b1, W2 and b2."))

