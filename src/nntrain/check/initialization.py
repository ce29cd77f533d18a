"""Checks for the exercises of the chapter "Weight initialization".

The expected answers are computed here with :mod:`nntrain.initializers` (the variance each
rule targets), never typed in; typical wrong answers get a hint aimed at their mistake.
"""

from __future__ import annotations

import math

import numpy as np

from ..initializers import VarianceScaling, XavierUniform
from ._core import Feedback, close, register

__all__ = ["LEAKY_RELU_LAYER", "SPARSE_K", "XAVIER_SHAPE"]

# "initialization.xavier-limit": the kernel of a dense layer from 784 inputs to 256 units.
XAVIER_SHAPE = (784, 256)
# "initialization.leaky-relu-std": a leaky ReLU of negative slope a after a layer of n_in inputs.
LEAKY_RELU_LAYER = {"slope": 0.2, "fan_in": 512}
# "initialization.sparse-stddev": the number of nonzero incoming weights per ReLU unit.
SPARSE_K = 15


def _float(answer: object) -> float | None:
    try:
        value = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(value) if value.shape == () and np.isfinite(value) else None


def _near(value: float | None, target: float) -> bool:
    return value is not None and math.isclose(value, target, rel_tol=1e-3)


@register("initialization.xavier-limit")
def _xavier_limit(answer: object) -> Feedback:
    """The bound ``L`` of Xavier/Glorot uniform, ``U(-L, L)``, for a 784 x 256 kernel."""
    variance = XavierUniform(seed=0).variance(XAVIER_SHAPE)  # a seed: leave Python's random alone
    expected = math.sqrt(3 * variance)
    fan_in, fan_out = XAVIER_SHAPE
    value = _float(answer)
    if _near(value, math.sqrt(variance)):
        return Feedback(False, "That is the standard deviation of the weights. A uniform "
                               "U(-L, L) has variance L^2 / 3: solve L^2 / 3 = 2 / (n_in + n_out).")
    if _near(value, math.sqrt(6 / fan_in)):
        return Feedback(False, "That bound uses n_in alone (He uniform's rule). Xavier averages "
                               "the two fans: the variance is 2 / (n_in + n_out).")
    if _near(value, math.sqrt(1 / fan_in)):
        return Feedback(False, "U(-1/sqrt(n), 1/sqrt(n)) has variance 1 / (3 n): that is the "
                               "'standard' rule Glorot and Bengio improved on, not theirs.")
    return close(answer, expected, hint=(
        "Set the variance of U(-L, L), which is L^2 / 3, equal to 2 / (n_in + n_out) with "
        f"n_in = {fan_in} and n_out = {fan_out}, and solve for L."))


@register("initialization.leaky-relu-std")
def _leaky_relu_std(answer: object) -> Feedback:
    """The standard deviation of He normal weights for a leaky ReLU of slope ``a``."""
    a, fan_in = LEAKY_RELU_LAYER["slope"], LEAKY_RELU_LAYER["fan_in"]
    # E[phi(z)^2] = (1 + a^2) Var(z) / 2 for a symmetric z: the gain is 2 / (1 + a^2)
    rule = VarianceScaling(scale=2 / (1 + a**2), mode="fan_in", seed=0)
    expected = math.sqrt(rule.variance((fan_in, 1)))
    value = _float(answer)
    if _near(value, math.sqrt(2 / fan_in)):
        return Feedback(False, "That is the plain ReLU's He rule. A leaky ReLU lets a * z through "
                               "for z < 0, so E[phi(z)^2] = (1 + a^2) Var(z) / 2, not Var(z) / 2.")
    if _near(value, 2 / ((1 + a**2) * fan_in)):
        return Feedback(False, "That is the variance; the exercise asks for the standard deviation.")
    return close(answer, expected, hint=(
        "Keep Var(z) the same from layer to layer: n_in Var(W) E[phi(z)^2] = Var(z), with "
        f"E[phi(z)^2] = (1 + a^2) Var(z) / 2, a = {a}, n_in = {fan_in}. Then take the square root."))


@register("initialization.sparse-stddev")
def _sparse_stddev(answer: object) -> Feedback:
    """The standard deviation of the nonzero weights of a sparse ReLU layer with ``k`` inputs."""
    # Only k inputs count: k sigma^2 E[h^2] = Var(z), with E[h^2] = Var(z) / 2 for ReLU.
    expected = math.sqrt(VarianceScaling(scale=2.0, seed=0).variance((SPARSE_K, 1)))
    value = _float(answer)
    if _near(value, 1.0):
        return Feedback(False, "sigma = 1 is Martens's choice for sigmoid units with Hessian-free "
                               "optimization; with it every ReLU layer multiplies the "
                               f"variance by k / 2 = {SPARSE_K / 2}.")
    if _near(value, 2 / SPARSE_K):
        return Feedback(False, "That is the variance; the exercise asks for the standard deviation.")
    if _near(value, math.sqrt(1 / SPARSE_K)):
        return Feedback(False, "That keeps the variance for a linear unit. ReLU zeroes half of "
                               "its inputs: E[h^2] = Var(z) / 2, so double the variance.")
    return close(answer, expected, hint=(
        f"Each unit sums only k = {SPARSE_K} nonzero terms w h: Var(z) = k sigma^2 E[h^2]. "
        "With ReLU, E[h^2] = Var(z) / 2. Solve for sigma."))
