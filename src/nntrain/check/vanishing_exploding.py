"""Checks for the chapter "Vanishing and exploding gradients", and its gallery of broken runs.

The gallery is four short training runs that go wrong in four different ways. They are
built here, not in the notebook, so that a reader diagnoses each run from its plots
without reading the answer off the code that made it: :func:`gallery` returns them
labelled ``A`` to ``D`` only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import keras
import numpy as np

from .. import _checks
from .. import diagnostics as _diagnostics
from .. import initializers as _initializers
from .. import models as _models
from .. import optimizers as _optimizers
from ..data import Dataset
from ..profiles import get_profile
from ._core import Feedback, close, equal, register

__all__ = ["GALLERY_CHOICES", "gallery"]

# The diagnoses a reader chooses from, one per run of the gallery.
GALLERY_CHOICES: tuple[str, ...] = ("dead ReLUs", "saturation", "NaN loss", "learning rate too high")

# Each broken run: (activation, kernel initializer, optimizer); the network is the same for all.
_RECIPES: dict[str, tuple[str, Callable[[], object], Callable[[], keras.optimizers.Optimizer]]] = {
    # Adam's first steps move every weight by about the learning rate: at 0.05 that pushes
    # most ReLU units below zero for every input, where their gradient is 0 for good.
    "dead ReLUs": ("relu", lambda: "he_normal", lambda: _optimizers.Adam(learning_rate=0.05)),
    # weights of standard deviation 1 with 64 inputs: pre-activations of size ~8, tanh's flat tails
    "saturation": ("tanh", lambda: _initializers.RandomNormal(stddev=1.0),
                   lambda: _optimizers.SGD(learning_rate=0.1)),
    # a step of 5 along the gradient makes the weights, the outputs and the next gradient
    # larger, and so on, until they overflow float32
    "NaN loss": ("relu", lambda: "he_normal", lambda: _optimizers.SGD(learning_rate=5.0)),
    # a healthy tanh network, overshooting: the loss climbs instead of falling
    "learning rate too high": ("tanh", lambda: "xavier_normal",
                               lambda: _optimizers.SGD(learning_rate=1.0)),
}
# The label each run gets: a fixed shuffle, so that the order of GALLERY_CHOICES tells nothing.
_LABELS: dict[str, str] = {"A": "learning rate too high", "B": "dead ReLUs",
                           "C": "NaN loss", "D": "saturation"}
_DEPTH, _WIDTH = 4, 64  # the gallery's networks: four hidden layers of 64 units
_PROBE = 128  # examples in the fixed probe batch of the monitors
_EVERY = 2  # steps between two gradient and activation probes
_HINTS: dict[str, str] = {
    "dead ReLUs": "look at the third panel: what fraction of the units output 0 for every example?",
    "saturation": "look at the third panel at step 0: how many tanh units sit in the flat tails?",
    "NaN loss": "look at the loss panel: does the loss stay finite until the end?",
    "learning rate too high": "look at where the loss goes, and at the size of the updates "
                              "relative to the weights in the first steps.",
}

# The exercise on clipping: a gradient of three variables, and the threshold tau.
_CLIP_GRADIENT = (np.array([3.0, -4.0]), np.array([[12.0]]), np.array([0.0, 0.0, 0.0]))
_CLIP_TAU = 6.5
# The exercise on recurrent networks: the largest singular value of U, and the target factor.
_RNN_GAIN, _RNN_TARGET = 0.9, 1e-2


def gallery(data: Dataset, steps: int = 16, seed: int = 0) -> dict[str, _diagnostics.Monitor]:
    """Train the gallery's four broken runs and return their monitors, labelled A to D.

    Each run is an MLP of four hidden layers of 64 units trained with Keras's ``fit`` on the training
    split for at least ``steps`` optimizer steps (whole epochs), watched by a
    :class:`~nntrain.diagnostics.Monitor` (its probes every second step, on the first 128
    training examples). The divergence guard only stops a run whose loss or weights stop being
    finite, so that a loss that climbs is seen climbing.

    Args:
        data: a classification :class:`~nntrain.data.Dataset` (the chapter uses MNIST).
        steps: the least number of optimizer steps per run.
        seed: the seed of the weights and of the batch order.

    Returns:
        ``{"A": monitor, ..., "D": monitor}``; draw one with ``monitor.plot()``.

    Example:
        >>> runs = gallery(nt.load("mnist"))
        >>> runs["A"].plot(title="run A")
    """
    if not isinstance(data, Dataset) or data.task != "classification":
        raise ValueError("`data` must be a classification Dataset such as nt.load('mnist'). "
                         f"Received: data={data!r}")
    _checks.integer("steps", steps, minimum=1)
    batch_size = get_profile().batch_size
    epochs = math.ceil(steps / math.ceil(len(data.x_train) / batch_size))
    x_probe, y_probe = data.x_train[:_PROBE], data.y_train[:_PROBE]
    runs = {}
    for label, diagnosis in _LABELS.items():
        activation, init, optimizer = _RECIPES[diagnosis]
        model = _models.deep_mlp(_DEPTH, _WIDTH, activation, init=init(),
                                 input_shape=data.input_shape, num_classes=data.num_classes,
                                 seed=seed)
        # Logits out and the cross-entropy computed from them, on every backend. (From softmax
        # probabilities, Keras's TensorFlow backend recovers the logits, but its JAX backend
        # clips the probabilities, which caps the loss near 16 and freezes a diverging run
        # instead of letting it overflow.)
        model.get_layer("output").activation = keras.activations.linear
        monitor = _diagnostics.Monitor(x_probe, y_probe, every=_EVERY)
        # only a loss that is not finite stops a run (a NaN weight makes the next loss NaN)
        guard = _diagnostics.DivergenceGuard(loss_ratio=None, check_weights=False)
        model.compile(optimizer=optimizer(), jit_compile=False,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        keras.utils.set_random_seed(seed)  # the order of the mini-batches
        with np.errstate(all="ignore"):  # a diverging run overflows on purpose
            # the training split only: the diagnosis needs no validation or test scores
            model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=epochs,
                      callbacks=[monitor, guard], verbose=0)
        runs[label] = monitor
    return runs


@register("vanishing_exploding.gallery")
def _gallery(answer: object) -> Feedback:
    """The diagnosis of each run of the gallery: ``{"A": "...", ..., "D": "..."}``."""
    choices = ", ".join(repr(c) for c in GALLERY_CHOICES)
    if not isinstance(answer, Mapping) or sorted(map(str, answer)) != sorted(_LABELS):
        return Feedback(False, "Answer with a dict from each run's letter to its diagnosis, "
                               f"{{'A': ..., 'B': ..., 'C': ..., 'D': ...}}, choosing from {choices}.")
    wrong = [label for label, diagnosis in _LABELS.items()
             if not equal(answer[label], diagnosis, hint="")]
    if not wrong:
        return Feedback(True, "Well done: four runs, four diagnoses.")
    first = wrong[0]
    return Feedback(False, f"{len(_LABELS) - len(wrong)} of 4 right. For run {first}, "
                           f"{_HINTS[_LABELS[first]]} (Choose from {choices}.)")


@register("vanishing_exploding.clip_norm")
def _clip_norm(answer: object) -> Feedback:
    """The gradient ``(g1, g2, g3)`` of the exercise clipped to global norm 6.5, flattened."""
    flat = np.concatenate([g.ravel() for g in _CLIP_GRADIENT])
    norm = float(np.linalg.norm(flat))
    if _is_vector(answer, np.clip(flat, -_CLIP_TAU, _CLIP_TAU)):
        return Feedback(False, "That is clipping by value. Clipping by global norm rescales the "
                               "whole gradient, keeping its direction.")
    return close(answer, flat * min(1.0, _CLIP_TAU / norm), rtol=1e-6, atol=1e-9, hint=(
        "Concatenate the three arrays into one vector of 6 numbers, compute its Euclidean norm, "
        "and, if it is above tau, multiply the vector by tau / norm."))


@register("vanishing_exploding.clip_value")
def _clip_value(answer: object) -> Feedback:
    """The same gradient clipped by value at 2, flattened."""
    flat = np.concatenate([g.ravel() for g in _CLIP_GRADIENT])
    return close(answer, np.clip(flat, -2.0, 2.0), rtol=1e-6, atol=1e-9, hint=(
        "Clipping by value at 2 replaces every entry above 2 by 2 and every entry below -2 by "
        "-2, one entry at a time; answer with the 6 entries in order."))


@register("vanishing_exploding.rnn_steps")
def _rnn_steps(answer: object) -> Feedback:
    """The fewest steps k with 0.9**k < 0.01: ceil(log(0.01) / log(0.9))."""
    expected = math.ceil(math.log(_RNN_TARGET) / math.log(_RNN_GAIN))
    if _is_vector(answer, [expected - 1]):
        return Feedback(False, f"After {expected - 1} steps the bound is "
                               f"{_RNN_GAIN ** (expected - 1):.4f}, not yet below 0.01: round up.")
    return close(answer, expected, rtol=0, atol=1e-9, hint=(
        "The bound after k steps is 0.9**k. Solve 0.9**k < 0.01 for k with logarithms and "
        "round up to a whole number of steps."))


def _is_vector(answer: object, values) -> bool:
    """Whether ``answer`` is numerically ``values`` (to spot a typical wrong answer)."""
    try:
        array = np.asarray(answer, dtype=float).ravel()
    except (TypeError, ValueError):
        return False
    values = np.asarray(values, dtype=float).ravel()
    return array.shape == values.shape and bool(np.allclose(array, values))
