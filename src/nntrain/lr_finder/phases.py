r"""Training in phases: the batch size and the learning rate change at chosen epochs.

Keras's ``fit`` takes one batch size for the whole run. To grow the batch during training
(Smith et al., 2018) the run is cut into phases, one ``fit`` call each, that continue one
another with Keras's own ``initial_epoch`` and keep the model's weights and the
optimizer's state; between phases the learning rate is set through the optimizer's
``learning_rate`` property, as ``keras.callbacks.LearningRateScheduler`` does.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping

import keras
import numpy as np
import pandas as pd

from .. import _checks
from .. import optimizers as _optimizers
from ..data import Dataset
from ..diagnostics import DivergenceGuard
from ..models import compile_for
from ..profiles import Profile, get_profile
from ..training import Run, fit_input

__all__ = ["train_in_phases"]


def _by_epoch(name: str, value, epochs: int, kind: str) -> dict[int, float] | None:
    """``value`` as ``{first epoch of a phase: value}``, checked; ``None`` stays ``None``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        value = {1: value}
    message = (f"`{name}` must be a {kind} or a dict {{epoch: {kind}}} of epochs in "
               f"[1, {epochs}] that includes epoch 1. Received: {name}={value!r}")
    if 1 not in value:
        raise ValueError(message)
    checked = {}
    for epoch, item in value.items():
        good_epoch = isinstance(epoch, numbers.Integral) and not isinstance(epoch, bool) and 1 <= epoch <= epochs
        if kind == "positive integer":
            good = isinstance(item, numbers.Integral) and not isinstance(item, bool) and item >= 1
        else:
            good = isinstance(item, numbers.Real) and not isinstance(item, bool) and math.isfinite(item) and item > 0
        if not (good_epoch and good):
            raise ValueError(message)
        checked[int(epoch)] = item
    return checked


def _at(values: dict | None, epoch: int):
    """The value in force at ``epoch``: the one set at the latest phase start <= epoch."""
    if values is None:
        return None
    return values[max(e for e in values if e <= epoch)]


def train_in_phases(
    model: keras.Model,
    data: Dataset,
    optimizer: str | keras.optimizers.Optimizer = "sgd",
    epochs: int | None = None,
    batch_size: int | Mapping[int, int] | None = None,
    learning_rate: float | Mapping[int, float] | None = None,
    seed: int = 0,
    profile: str | Profile | None = None,
) -> Run:
    r"""Train with a batch size and a learning rate that change at chosen epochs.

    ``batch_size`` and ``learning_rate`` are numbers or step functions of the epoch, given
    as ``{first epoch: value}``; a phase runs from one change to the next. Growing the batch
    by a factor :math:`k` at the epochs where step decay would divide the rate by :math:`k`
    keeps the SGD noise scale :math:`g = \eta N / B` (:math:`N` training examples) of step
    decay while taking :math:`k` times fewer steps (Smith et al., 2018).

    Like :func:`nntrain.train`: the task's loss and metrics, validation on the validation
    split, a :class:`~nntrain.diagnostics.DivergenceGuard` that ends the run (and every
    later phase) at divergence, and the test split evaluated once at the end.

    Args:
        model: a Keras model (compiled here).
        data: a :class:`~nntrain.data.Dataset`.
        optimizer: a name for :func:`nntrain.optimizers.get` or an optimizer instance with
            a constant learning rate when ``learning_rate`` is given.
        epochs: the number of epochs; ``None`` takes the profile's.
        batch_size: examples per step: an integer or ``{epoch: integer}`` including epoch
            1; ``None`` takes the profile's.
        learning_rate: ``None`` keeps the optimizer's; a number or ``{epoch: number}``
            including epoch 1 sets it at the start of each phase.
        seed: seeds the order of the mini-batches, as :func:`nntrain.train` does (the same
            seed gives the same batches as ``nt.train`` until the first change).
        profile: the run profile of the defaults; ``None`` reads ``$NNTRAIN_PROFILE``.

    Returns:
        A :class:`nntrain.Run` whose ``history`` also has the columns ``batch_size``,
        ``learning_rate`` and ``steps`` (optimizer updates since the start, at the end of
        each epoch).

    Example:
        >>> run = train_in_phases(nt.models.mlp(), data, nt.optimizers.SGD(0.5), epochs=9,
        ...                       batch_size={1: 64, 4: 320, 7: 1600})
        >>> run.history[["epoch", "batch_size", "steps", "val_loss"]]

    References:
        Smith, S. L., Kindermans, P.-J., Ying, C. & Le, Q. V. (2018). Don't decay the
        learning rate, increase the batch size. *ICLR*. https://arxiv.org/abs/1711.00489
    """
    _checks.instance("model", model, keras.Model, "a Keras model (see nntrain.models)")
    _checks.instance("data", data, Dataset, "an nntrain Dataset (see nntrain.data.load)")
    cfg = get_profile(profile)
    if epochs is None:
        epochs = cfg.epochs
    _checks.integer("epochs", epochs, minimum=1)
    _checks.integer("seed", seed, minimum=0)
    sizes = _by_epoch("batch_size", cfg.batch_size if batch_size is None else batch_size,
                      epochs, "positive integer")
    rates = _by_epoch("learning_rate", learning_rate, epochs, "positive number")
    optimizer = _optimizers._resolve(optimizer)
    keras.utils.set_random_seed(int(seed))  # the order of the mini-batches
    compile_for(model, data, optimizer)
    starts = sorted(set(sizes) | set(rates or ()))
    guard, frames, steps = DivergenceGuard(), [], 0
    diverged_step = None
    start_time = time.perf_counter()
    for i, first in enumerate(starts):
        last = starts[i + 1] - 1 if i + 1 < len(starts) else epochs
        if rates is not None:
            model.optimizer.learning_rate = float(_at(rates, first))
        size = int(_at(sizes, first))
        fitted = model.fit(**fit_input(data, size, int(seed), range(first, last + 1)),
                           validation_data=(data.x_val, data.y_val),
                           epochs=last, initial_epoch=first - 1, callbacks=[guard], verbose=0)
        frame = pd.DataFrame(fitted.history)
        frame.insert(0, "epoch", np.arange(first, first + len(frame)))
        frame["batch_size"] = size
        frame["learning_rate"] = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        frame["steps"] = steps + math.ceil(len(data.x_train) / size) * np.arange(1, len(frame) + 1)
        frames.append(frame)
        if guard.diverged:
            diverged_step = steps + guard.diverged_step
            break
        steps = int(frame["steps"].iloc[-1])
    history = pd.concat(frames, ignore_index=True)
    test_metrics: dict[str, float] = {}
    if diverged_step is None:
        scores = model.evaluate(data.x_test, data.y_test, batch_size=int(_at(sizes, epochs)),
                                verbose=0, return_dict=True)
        test_metrics = {name: float(value) for name, value in scores.items()}
    val_loss = history["val_loss"].to_numpy(float)
    finite = np.isfinite(val_loss)
    best = int(np.argmin(np.where(finite, val_loss, np.inf))) + 1 if finite.any() else None
    return Run(history=history, test_metrics=test_metrics, epochs_run=len(history),
               best_epoch=best, wall_time_s=time.perf_counter() - start_time,
               diverged=diverged_step is not None, diverged_step=diverged_step,
               data_source=data.source)
