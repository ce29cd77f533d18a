"""Checks for the exercises of the chapter "Backpropagation".

The expected answers are computed here with :mod:`nntrain.backprop` (the chapter's own
engine), never typed in; a few typical wrong answers get a hint aimed at their mistake.
"""

from __future__ import annotations

import numpy as np

from ..backprop import Scalar
from ._core import Feedback, close, equal, register

__all__ = ["CHAIN_RULE_POINT", "EVALUATIONS_SIZES", "HIDDEN_WEIGHT_POINT"]

# The exercise "backprop.chain-rule": y = (a + b)(b + 1) at this point.
CHAIN_RULE_POINT = {"a": -1.0, "b": 3.0}
# The exercise "backprop.hidden-weight": the one-neuron-per-layer network at this point.
HIDDEN_WEIGHT_POINT = {"x": 1.5, "y": 1.0, "w1": 0.8, "b1": -0.2, "w2": -1.1, "b2": 0.3}
# The exercise "backprop.evaluations": an MNIST-sized two-layer network, d-m-k.
EVALUATIONS_SIZES = (784, 32, 10)


def _chain_rule_gradient() -> np.ndarray:
    a, b = Scalar(CHAIN_RULE_POINT["a"]), Scalar(CHAIN_RULE_POINT["b"])
    y = (a + b) * (b + 1)
    y.backward()
    return np.array([a.grad, b.grad])


@register("backprop.chain-rule")
def _chain_rule(answer: object) -> Feedback:
    """``[dy/da, dy/db]`` for ``y = (a + b)(b + 1)`` at ``a = -1, b = 3``."""
    expected = _chain_rule_gradient()
    feedback = close(answer, expected, hint=(
        "Give [dy/da, dy/db]. With c = a + b and d = b + 1, y = c d: dy/dc = d, dy/dd = c, "
        "and every path from a variable to y contributes the product of its local derivatives."))
    a, b = CHAIN_RULE_POINT["a"], CHAIN_RULE_POINT["b"]
    one_path = {"through c = a + b only": b + 1, "through d = b + 1 only": a + b}
    value = None if feedback else _floats(answer)
    if value is not None and value.shape == (2,) and np.isclose(value[0], expected[0]):
        for path, partial in one_path.items():
            if np.isclose(value[1], partial):
                return Feedback(False, f"dy/da is right, but your dy/db follows the path {path}. "
                                       "b reaches y along two paths: add the two products.")
    return feedback


def _hidden_network() -> dict[str, Scalar]:
    p = {name: Scalar(value, name) for name, value in HIDDEN_WEIGHT_POINT.items()}
    a1 = (p["w1"] * p["x"] + p["b1"]).sigmoid()
    a2 = (p["w2"] * a1 + p["b2"]).sigmoid()
    cost = (a2 - p["y"]) ** 2
    cost.backward()
    return p


@register("backprop.hidden-weight")
def _hidden_weight(answer: object) -> Feedback:
    """``[dC/dw2, dC/db2, dC/dw1, dC/db1]`` for the one-neuron-per-layer network."""
    p = _hidden_network()
    expected = np.array([p[name].grad for name in ("w2", "b2", "w1", "b1")])
    feedback = close(answer, expected, rtol=1e-4, hint=(
        "Give [dC/dw2, dC/db2, dC/dw1, dC/db1]. Run the forward pass first (z1, a1, z2, a2), "
        "then apply the chain rule from the loss backwards; sigma'(z) = sigma(z)(1 - sigma(z))."))
    value = None if feedback else _floats(answer)
    if value is not None and value.shape == (4,):
        if np.allclose(value, expected / 2, rtol=1e-4):
            return Feedback(False, "Every entry is half the right value: the derivative of "
                                   "(a2 - y)^2 with respect to a2 is 2 (a2 - y).")
        if np.allclose(value[:2], expected[:2], rtol=1e-4):
            return Feedback(False, "The last layer is right. For the hidden layer, first find "
                                   "dC/da1 = w2 sigma'(z2) 2(a2 - y), then multiply by "
                                   "sigma'(z1) and by x (for w1) or 1 (for b1).")
    return feedback


def _floats(answer: object) -> np.ndarray | None:
    """The answer as a flat float array, or None when it is not numbers (or not finite)."""
    try:
        value = np.asarray(answer, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return None
    return value if np.all(np.isfinite(value)) else None


@register("backprop.evaluations")
def _evaluations(answer: object) -> Feedback:
    """Loss evaluations central differences need for the gradient of a 784-32-10 network."""
    d, m, k = EVALUATIONS_SIZES
    n_params = d * m + m + m * k + k
    if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
        if answer == n_params:
            return Feedback(False, "That is the number of parameters. How many evaluations "
                                   "does one central difference take?")
        if answer == n_params + 1:
            return Feedback(False, "That is what forward differences need: one evaluation per "
                                   "parameter plus one at theta. Central differences need more.")
    return equal(answer, 2 * n_params, hint=(
        "Count the parameters first: a d-by-m weight matrix, m biases, an m-by-k matrix and k "
        "biases. Then count the loss evaluations of one central difference (answer an integer)."))
