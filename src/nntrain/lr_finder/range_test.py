r"""The learning-rate range test (Smith, 2017): one short run that sweeps the rate upwards.

Train from the starting weights while the learning rate grows exponentially, one step per
mini-batch, and watch the loss: at tiny rates it does not move, at useful rates it falls,
and past the largest stable rate it shoots up. The test costs a fraction of an epoch and
brackets the useful rates before any full training run.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import keras
import numpy as np
import pandas as pd

from .. import _checks
from .. import optimizers as _optimizers
from ..data import Dataset
from ..models import compile_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["LRRangeTest", "plot", "range_test", "suggest"]

# The rules `suggest` knows, and what each one reads off the smoothed curve.
RULES = ("minimum", "steepest")
# "minimum" backs off from the rate of the lowest smoothed loss by this factor: at the
# minimum the loss has already stopped falling, an order of magnitude lower it still falls
# fast (Smith 2017; the fastai library's `lr_find` popularized the same rule).
_BACK_OFF = 10.0
_COLUMNS = ["step", "learning_rate", "loss", "smoothed_loss"]


class LRRangeTest(keras.callbacks.Callback):
    r"""A Keras callback that grows the learning rate per batch and records the loss.

    Step :math:`t = 0, 1, \dots, T-1` trains with the rate

    .. math::

        \eta_t = \eta_{\min} \left( \frac{\eta_{\max}}{\eta_{\min}} \right)^{t / (T - 1)}

    and records the mini-batch loss :math:`L_t` and its bias-corrected exponential moving
    average (smoothing :math:`\beta`)

    .. math::

        m_t = \beta\, m_{t-1} + (1 - \beta)\, L_t, \quad m_{-1} = 0, \qquad
        \hat L_t = \frac{m_t}{1 - \beta^{\,t+1}} .

    Training stops after :math:`T` steps, at the first non-finite loss, or once the
    smoothed loss exceeds :math:`\rho` times its lowest value so far
    (:math:`\hat L_t > \rho \min_{s \le t} \hat L_s`, divergence).

    Keras logs the running mean of the loss over the epoch, not the loss of the batch;
    the callback recovers the batch's loss from two consecutive running means,
    :math:`L_t = (j+1)\,\bar L_j - j\,\bar L_{j-1}` for batch :math:`j` of the epoch, which
    is exact when every batch of the epoch has the same size (:func:`range_test` sees to
    it) and ``steps_per_execution`` is 1 (Keras's default).

    Args:
        min_lr: :math:`\eta_{\min} > 0`, the first rate.
        max_lr: :math:`\eta_{\max} > \eta_{\min}`, the last rate.
        steps: :math:`T \ge 2`, the number of steps from ``min_lr`` to ``max_lr``.
        smoothing: :math:`\beta \in [0, 1)`; 0 records the raw loss.
        divergence: :math:`\rho > 1`; ``None`` never stops early except on a non-finite loss.

    Example:
        >>> test = LRRangeTest(min_lr=1e-4, max_lr=1.0, steps=50)
        >>> model.fit(x, y, batch_size=64, epochs=2, callbacks=[test], verbose=0)
        >>> test.frame().tail(1)

    References:
        Smith, L. N. (2017). Cyclical learning rates for training neural networks. *WACV*.
        https://arxiv.org/abs/1506.01186
    """

    def __init__(
        self,
        min_lr: float = 1e-5,
        max_lr: float = 10.0,
        steps: int = 100,
        smoothing: float = 0.9,
        divergence: float | None = 4.0,
    ) -> None:
        super().__init__()
        self.min_lr = _checks.real("min_lr", min_lr, "a positive number", lambda v: v > 0)
        self.max_lr = _checks.real("max_lr", max_lr, f"a number above min_lr={min_lr}",
                              lambda v: v > self.min_lr)
        self.steps = _checks.integer("steps", steps, minimum=2)
        self.smoothing = _checks.real("smoothing", smoothing, "a number in [0, 1)",
                                 lambda v: 0 <= v < 1)
        if divergence is not None:
            divergence = _checks.real("divergence", divergence, "a number above 1, or None",
                                 lambda v: v > 1)
        self.divergence = divergence
        self._rows: list[tuple[int, float, float, float]] = []

    def learning_rate(self, step: int) -> float:
        """The rate :math:`\\eta_t` of step ``step`` (from 0)."""
        return self.min_lr * (self.max_lr / self.min_lr) ** (step / (self.steps - 1))

    def on_train_begin(self, logs=None):
        # a schedule serializes to a dict, a constant rate to a number (or per-member list)
        if isinstance(self.model.optimizer.get_config().get("learning_rate"), dict):
            raise ValueError(
                "The optimizer of a learning-rate range test must have a constant "
                "learning rate (the test sets it at every step). Received: optimizer with "
                "a LearningRateSchedule")
        self._rows, self._average, self._best = [], 0.0, math.inf
        self._previous_mean = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.learning_rate(len(self._rows))

    def on_train_batch_end(self, batch, logs=None):
        mean = float((logs or {})["loss"])
        loss = mean if batch == 0 else (batch + 1) * mean - batch * self._previous_mean
        self._previous_mean = mean
        t = len(self._rows)
        self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        smoothed = self._average / (1 - self.smoothing ** (t + 1))
        self._rows.append((t, self.learning_rate(t), loss, smoothed))
        if math.isfinite(smoothed):
            self._best = min(self._best, smoothed)
        diverged = not math.isfinite(smoothed) or (
            self.divergence is not None and smoothed > self.divergence * self._best)
        if diverged or len(self._rows) >= self.steps:
            self.model.stop_training = True

    def frame(self) -> pd.DataFrame:
        """The record: one row per step with ``step``, ``learning_rate``, ``loss`` (the
        batch's) and ``smoothed_loss``."""
        return pd.DataFrame(self._rows, columns=_COLUMNS)


def range_test(
    model: keras.Model,
    data: Dataset,
    optimizer: str | keras.optimizers.Optimizer = "sgd",
    min_lr: float = 1e-5,
    max_lr: float = 10.0,
    steps: int = 100,
    batch_size: int = 64,
    smoothing: float = 0.9,
    divergence: float | None = 4.0,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Run the learning-rate range test on ``model`` and return its record.

    The model is compiled with ``optimizer`` and the task's loss, trained on the training
    split with :class:`LRRangeTest` for at most ``steps`` mini-batches (as many epochs as
    that takes, reshuffled each epoch, each epoch trimmed to whole batches), and then given
    its starting weights back: the test leaves the model as it found it (the optimizer's
    state, if an instance was passed, is the test's).

    Args:
        model: a Keras model.
        data: a :class:`~nntrain.data.Dataset`; only its training split is used.
        optimizer: a name for :func:`nntrain.optimizers.get` or an optimizer instance with
            a constant learning rate.
        min_lr, max_lr, steps, smoothing, divergence: see :class:`LRRangeTest`.
        batch_size: examples per step, at most the training split's size.
        seed: seeds the order of the batches.

    Returns:
        The DataFrame of :meth:`LRRangeTest.frame`; ``frame.attrs["suggestion"]`` holds
        :func:`suggest`'s rate (rule ``"minimum"``).

    Example:
        >>> frame = range_test(nt.models.mlp(), nt.load("mnist"), "sgd")
        >>> frame.attrs["suggestion"]

    References:
        Smith, L. N. (2017). Cyclical learning rates for training neural networks. *WACV*.
        https://arxiv.org/abs/1506.01186
    """
    _checks.instance("model", model, keras.Model, "a Keras model (see nntrain.models)")
    _checks.instance("data", data, Dataset, "an nntrain Dataset (see nntrain.data.load)")
    test = LRRangeTest(min_lr, max_lr, steps, smoothing, divergence)
    n = len(data.x_train)
    batch_size = _checks.integer("batch_size", batch_size, minimum=1)
    if batch_size > n:
        _checks.fail("batch_size", f"at most the {n} training examples", batch_size)
    seed = _checks.integer("seed", seed, minimum=0)
    optimizer = _optimizers._resolve(optimizer)
    start = model.get_weights()
    keras.utils.set_random_seed(seed)
    compile_for(model, data, optimizer)
    per_epoch = n // batch_size
    used = per_epoch * batch_size  # whole batches only: see LRRangeTest
    model.fit(data.x_train[:used], data.y_train[:used], batch_size=batch_size,
              epochs=-(-test.steps // per_epoch), callbacks=[test], verbose=0)
    model.set_weights(start)
    frame = test.frame()
    frame.attrs["suggestion"] = suggest(frame) if len(frame) >= 2 else math.nan
    return frame


def _check_frame(frame) -> None:
    _checks.frame("frame", frame, _COLUMNS, min_rows=2, what="a DataFrame of range_test")


def suggest(frame: pd.DataFrame, rule: str = "minimum") -> float:
    r"""A learning rate read off a range test's smoothed loss curve.

    * ``"minimum"``: a tenth of the rate with the lowest smoothed loss,
      :math:`\eta = \tfrac{1}{10} \arg\min_\eta \hat L(\eta)`: the loss still falls fast
      there, safely below the rates where it stops falling.
    * ``"steepest"``: the rate, before the minimum, where the smoothed loss falls fastest
      per decade, :math:`\arg\min_\eta \, d\hat L / d \log \eta`.

    Args:
        frame: the DataFrame returned by :func:`range_test` or :meth:`LRRangeTest.frame`.
        rule: ``"minimum"`` or ``"steepest"``.

    Returns:
        The suggested learning rate.

    Example:
        >>> suggest(frame, rule="steepest")
    """
    _check_frame(frame)
    _checks.choice("rule", rule, list(RULES))
    rates = frame["learning_rate"].to_numpy(float)
    smoothed = frame["smoothed_loss"].to_numpy(float)
    finite = np.isfinite(smoothed)
    lowest = int(np.argmin(np.where(finite, smoothed, np.inf)))
    if rule == "minimum":
        return float(rates[lowest] / _BACK_OFF)
    if lowest < 1:
        return float(rates[0])
    slope = np.gradient(smoothed[: lowest + 1], np.log(rates[: lowest + 1]))
    return float(rates[int(np.argmin(slope))])


def plot(frame: pd.DataFrame, ax: Axes | None = None, rule: str | None = "minimum") -> Axes:
    """Plot a range test: raw and smoothed loss against the learning rate (log scale).

    Args:
        frame: the DataFrame returned by :func:`range_test`.
        ax: the matplotlib ``Axes`` to draw on; a new figure when ``None``.
        rule: mark the rate :func:`suggest` gives with this rule; ``None`` marks nothing.

    Returns:
        The ``Axes``, with a logarithmic learning-rate axis.

    Example:
        >>> ax = plot(range_test(nt.models.mlp(), nt.load("mnist")))
    """
    _check_frame(frame)
    _checks.axes("ax", ax, none=True)
    if rule is not None:
        _checks.choice("rule", rule, list(RULES))
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    ax.plot(frame["learning_rate"], frame["loss"], alpha=0.35, label="mini-batch loss")
    ax.plot(frame["learning_rate"], frame["smoothed_loss"], label="smoothed loss")
    if rule is not None:
        rate = suggest(frame, rule)
        ax.axvline(rate, color="black", linestyle="--", linewidth=1,
                   label=f"suggested rate ({rule}): {rate:.2g}")
    ax.set_xscale("log")
    # Show the useful range, not the blow-up: from just below the lowest loss to twice the
    # starting loss (the divergence at the end would otherwise flatten everything else).
    smoothed = frame["smoothed_loss"].to_numpy(float)
    finite = frame["loss"].to_numpy(float)[np.isfinite(frame["loss"].to_numpy(float))]
    if len(finite) and np.isfinite(smoothed[0]):
        top = max(2.0 * smoothed[0], np.nanmin(finite) * 1.1)
        ax.set_ylim(0.95 * np.nanmin(finite), top)
    ax.set_xlabel(r"learning rate $\eta$")
    ax.set_ylabel("training loss")
    ax.legend()
    return ax
