"""Checks for the exercises of the chapter "The learning rate and its schedules".

Each expected answer is computed here from the exercise's setting (the constants below),
with the course's own code where it has some: the thresholds from the Hessian's
eigenvalues, the escape time from the linearized saddle, the schedule's value from
:mod:`nntrain.schedules`, the batch size from the noise scale. A few typical wrong answers
get a hint aimed at their mistake.
"""

from __future__ import annotations

import math

import numpy as np

from .. import schedules
from ._core import Feedback, close, equal, register

__all__ = [
    "BATCH_SETTING",
    "HESSIAN",
    "SADDLE_SETTING",
    "WARMUP_SETTING",
    "batch_instead",
    "saddle_escape",
    "thresholds",
    "warmup_cosine",
]

# "learning_rate.thresholds": gradient descent on L = 1/2 theta^T H theta with this Hessian.
HESSIAN = ((3.0, 1.0), (1.0, 3.0))
# "learning_rate.saddle-escape": rate, starting distance from the ridge, distance to reach.
SADDLE_SETTING = {"learning_rate": 0.1, "y0": 1e-4, "y_end": 0.5}
# "learning_rate.warmup-cosine": peak rate, warm-up steps, total steps, the step asked about.
WARMUP_SETTING = {"peak": 0.1, "warmup_steps": 100, "total_steps": 1000, "step": 550}
# "learning_rate.batch-instead": batch size, rate, and the factor step decay would divide by.
BATCH_SETTING = {"batch_size": 128, "learning_rate": 0.1, "drop": 10}


def _float(answer: object) -> float | None:
    try:
        return float(answer)
    except (TypeError, ValueError):
        return None


def thresholds() -> np.ndarray:
    r"""``[2 / lambda_max, 2 / (lambda_min + lambda_max)]`` of :data:`HESSIAN`."""
    low, high = np.linalg.eigvalsh(np.asarray(HESSIAN))
    return np.array([2.0 / high, 2.0 / (low + high)])


@register("learning_rate.thresholds")
def _thresholds(answer: object) -> Feedback:
    """The largest stable rate and the fastest rate of gradient descent on :data:`HESSIAN`."""
    feedback = close(answer, thresholds(), hint=(
        "Give [largest stable rate, fastest rate]. Both come from the eigenvalues of H "
        "(np.linalg.eigvalsh), not from its diagonal entries."))
    if feedback:
        return feedback
    diagonal = 2.0 / max(np.diag(np.asarray(HESSIAN)))
    try:
        first = float(np.ravel(np.asarray(answer, dtype=float))[0])
    except (TypeError, ValueError, IndexError):
        return feedback
    if math.isclose(first, diagonal, rel_tol=1e-3):
        return Feedback(False, "2 / 3 uses the diagonal of H. H is not diagonal: its off-diagonal "
                               "entries couple the coordinates, so use its eigenvalues.")
    if math.isclose(first, thresholds()[0] / 2, rel_tol=1e-3):
        return Feedback(False, "1 / lambda_max is where the steep component starts to oscillate; "
                               "the path still converges up to 2 / lambda_max.")
    return feedback


def saddle_escape() -> float:
    r"""Steps for :math:`y_t = (1 + \eta)^t y_0` to grow from ``y0`` to ``y_end``."""
    s = SADDLE_SETTING
    return math.log(s["y_end"] / s["y0"]) / math.log(1 + s["learning_rate"])


@register("learning_rate.saddle-escape")
def _saddle_escape(answer: object) -> Feedback:
    """The number of steps to leave the saddle, from the linearized update (2% tolerance)."""
    feedback = close(answer, saddle_escape(), rtol=0.02, hint=(
        "Near the saddle, y is multiplied by (1 + eta) at every step: solve "
        "(1 + eta)^t y0 = y_end for t."))
    if feedback:
        return feedback
    value = _float(answer)
    s = SADDLE_SETTING
    shortcut = math.log(s["y_end"] / s["y0"]) / s["learning_rate"]
    if value is not None and math.isclose(value, shortcut, rel_tol=1e-2):
        return Feedback(False, "log(1 + eta) is close to eta only for very small eta; with "
                               "eta = 0.1 keep the logarithm.")
    return feedback


def warmup_cosine() -> float:
    """The rate of :data:`WARMUP_SETTING`'s warm-up + cosine schedule at its step."""
    s = WARMUP_SETTING
    decay = schedules.CosineDecay(s["peak"], decay_steps=s["total_steps"] - s["warmup_steps"])
    schedule = schedules.LinearWarmup(decay, warmup_steps=s["warmup_steps"])
    return float(np.asarray(schedule(s["step"])))


@register("learning_rate.warmup-cosine")
def _warmup_cosine(answer: object) -> Feedback:
    """The value of the warm-up + cosine schedule at the step of :data:`WARMUP_SETTING`."""
    feedback = close(answer, warmup_cosine(), rtol=1e-3, hint=(
        "After the warm-up, the cosine starts from its own step 0: evaluate it at "
        "t - W over T - W steps."))
    if feedback:
        return feedback
    value = _float(answer)
    s = WARMUP_SETTING
    no_offset = s["peak"] * 0.5 * (1 + math.cos(math.pi * s["step"] / s["total_steps"]))
    if value is not None and math.isclose(value, no_offset, rel_tol=1e-3):
        return Feedback(False, "That is the cosine counted from step 0 of training; the warm-up "
                               "shifts it by W steps.")
    return feedback


def batch_instead() -> int:
    """The batch size that replaces dividing the rate by ``drop`` (same noise scale)."""
    s = BATCH_SETTING
    return int(s["batch_size"] * s["drop"])


@register("learning_rate.batch-instead")
def _batch_instead(answer: object) -> Feedback:
    """The batch size with the noise scale of the decayed rate, eta N / B."""
    feedback = equal(answer, batch_instead(), hint=(
        "Keep g = eta N / B unchanged: dividing eta by the factor is the same as "
        "multiplying B by it."))
    value = _float(answer)
    if not feedback and value is not None and math.isclose(value, BATCH_SETTING["batch_size"]
                                                           / BATCH_SETTING["drop"]):
        return Feedback(False, "The noise scale falls when the batch grows: a smaller rate "
                               "corresponds to a larger batch, not a smaller one.")
    return feedback
