"""One training run with a tidy record: :func:`train` and the :class:`Run` it returns.

``train`` is ``model.compile`` + ``model.fit`` + ``model.evaluate`` with the course's
conventions built in, so that a chapter's experiment is one line:

* the loss and metrics follow the data's task (:func:`nntrain.models.loss_and_metrics`);
* validation uses ``data.x_val``, never the test split; early stopping (``patience``) is
  Keras's own ``EarlyStopping(restore_best_weights=True)`` on the validation loss;
* a :class:`~nntrain.diagnostics.DivergenceGuard` always watches, so a diverging run
  (a learning rate far too large) stops at once and says so instead of raising;
* the test split is evaluated once, at the end, unless the run diverged;
* epochs and batch size default to the run profile's (``$NNTRAIN_PROFILE``);
* every epoch visits the training examples in a new order,
  :func:`nntrain.data.batch_order` of the seed and the epoch: the batches
  :func:`nntrain.sweep` uses. (Keras's own shuffle under TensorFlow, once a global seed is
  set, repeats the first epoch's order in every epoch; so ``train`` feeds the batches itself,
  except under a TensorFlow strategy with several replicas, which must see the arrays.)
* with ``backup_dir``, a run that was interrupted (a Colab session that disconnected)
  resumes where it stopped and ends exactly where an uninterrupted run would have
  (the callbacks that make it exact are in :mod:`nntrain.resume`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd

from .data import Dataset, batch_order
from .diagnostics import DivergenceGuard
from .models import compile_for
from .profiles import Profile, get_profile, interactive
from .resume import BackupAndRestore
from . import _checks

__all__ = ["Run", "epoch_batches", "fit_input", "train"]


@dataclass(frozen=True, eq=False)
class Run:
    """The record of one training run.

    Attributes:
        history: one row per epoch: ``epoch`` (counted from 1), then Keras's logs
            (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ...).
        test_metrics: the metrics on the test split after training (after restoring the
            best weights when early stopping was on); empty when the run diverged.
        epochs_run: epochs actually trained.
        best_epoch: the epoch (from 1) with the lowest validation loss, the one whose
            weights early stopping restores; ``None`` when no validation loss was finite.
        wall_time_s: seconds spent in ``fit`` and the final evaluation.
        diverged: whether the :class:`~nntrain.diagnostics.DivergenceGuard` stopped it.
        diverged_step: the optimizer step (from 1) where it diverged, else ``None``.
        data_source: where the data came from (``Dataset.source``).
    """

    history: pd.DataFrame
    test_metrics: dict[str, float]
    epochs_run: int
    best_epoch: int | None
    wall_time_s: float
    diverged: bool
    diverged_step: int | None
    data_source: str = field(default="")


def train(
    model: keras.Model,
    data: Dataset,
    optimizer: str | keras.optimizers.Optimizer = "adam",
    epochs: int | None = None,
    batch_size: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    patience: int | None = None,
    loss: str | keras.losses.Loss | None = None,
    metrics: Sequence | None = None,
    verbose: str | int = "auto",
    seed: int | None = 0,
    profile: str | Profile | None = None,
    backup_dir: str | os.PathLike | None = None,
) -> Run:
    """Compile, fit on the training split, validate on the validation split, test once.

    ``verbose="auto"`` shows Keras's progress bar where someone is watching (a notebook,
    IPython, a terminal) and nothing under pytest or CI (``$PYTEST_CURRENT_TEST`` or
    ``$CI`` set) or when the output is not interactive (a log file, a pipe).

    Args:
        model: a Keras model (compiled here, so any earlier compile is replaced).
        data: a :class:`~nntrain.data.Dataset`.
        optimizer: a name for :func:`nntrain.optimizers.get` or an optimizer instance.
        epochs: maximum epochs; ``None`` takes the profile's.
        batch_size: mini-batch size; ``None`` takes the profile's.
        callbacks: more Keras callbacks (for instance :mod:`nntrain.diagnostics` probes).
        patience: stop after this many epochs without a lower validation loss and restore
            the best weights; ``None`` trains all ``epochs``.
        loss: overrides the task's loss (see :func:`nntrain.models.loss_and_metrics`).
        metrics: overrides the task's metrics.
        verbose: ``"auto"``, or Keras's 0 (silent), 1 (progress bar), 2 (a line per epoch).
        seed: seeds Python, NumPy and the backend before training, and orders each epoch's
            batches by ``nt.data.batch_order(n, epoch, seed)``; ``None`` leaves the random
            state as it is and draws the shuffling seed from NumPy.
        profile: the run profile for the defaults; ``None`` reads ``$NNTRAIN_PROFILE``.
        backup_dir: a folder for a backup at the end of every epoch (new or holding only
            such a backup). When it holds one, training resumes from it; when the run
            finishes, the folder is deleted. Build and compile the same model, with the same
            arguments, to resume. :attr:`Run.history` then covers every epoch and
            :attr:`Run.wall_time_s` this session only; ``patience`` and the callbacks'
            own records start afresh at the resumed epoch.

    Returns:
        A :class:`Run`.

    Example:
        >>> data = nt.data.load("digits")
        >>> run = train(nt.models.mlp(data.input_shape), data, "adam", patience=3)
        >>> run.history[["epoch", "val_accuracy"]].tail(1)
        >>> run = train(model, data, backup_dir="/content/drive/MyDrive/lab1-backup")

    References:
        Keras, ``keras.callbacks.BackupAndRestore``,
        https://keras.io/api/callbacks/backup_and_restore/
    """
    _checks.instance("model", model, keras.Model, "a Keras model (see nntrain.models)")
    _check_data(data)
    cfg = get_profile(profile)
    epochs = cfg.epochs if epochs is None else _checks.integer("epochs", epochs, minimum=1)
    batch_size = cfg.batch_size if batch_size is None else _checks.integer("batch_size", batch_size, minimum=1)
    if patience is not None:
        _checks.integer("patience", patience, minimum=1)
    verbose = _checks.resolve_verbose(verbose, (0, 1, 2), interactive)
    if seed is not None:
        _checks.integer("seed", seed, minimum=0, accepted="a non-negative integer or None")
    callbacks = _checks.sequence("callbacks", callbacks,
                                 lambda c: isinstance(c, keras.callbacks.Callback), min_len=0,
                                 accepted="a list of keras.callbacks.Callback instances")

    guard = next((c for c in callbacks if isinstance(c, DivergenceGuard)), None)
    if guard is None:
        guard = DivergenceGuard()
        callbacks.append(guard)
    if patience is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=patience, restore_best_weights=True))
    backup = None
    if backup_dir is not None:
        backup = BackupAndRestore(backup_dir, verbose=verbose)
        callbacks.append(backup)

    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    shuffle_seed = int(seed) if seed is not None else int(np.random.randint(2**31))
    compile_for(model, data, optimizer, loss=loss, metrics=metrics)
    done = backup.saved_epoch() if backup is not None else 0  # fit resumes after these
    start = time.perf_counter()
    fitted = model.fit(**fit_input(data, batch_size, shuffle_seed, range(done + 1, epochs + 1)),
                       validation_data=(data.x_val, data.y_val),
                       epochs=epochs, callbacks=callbacks, verbose=verbose)
    test_metrics: dict[str, float] = {}
    if not guard.diverged:
        scores = model.evaluate(data.x_test, data.y_test, batch_size=batch_size, verbose=0,
                                return_dict=True)
        test_metrics = {name: float(value) for name, value in scores.items()}
    wall_time_s = time.perf_counter() - start

    history = pd.DataFrame(fitted.history)
    if backup is not None and backup.previous_logs:
        earlier = pd.DataFrame(backup.previous_logs)
        history = pd.concat([earlier, history], ignore_index=True) if len(history) else earlier
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    return Run(
        history=history,
        test_metrics=test_metrics,
        epochs_run=len(history),
        best_epoch=_best_epoch(history),
        wall_time_s=wall_time_s,
        diverged=guard.diverged,
        diverged_step=guard.diverged_step,
        data_source=data.source,
    )


def epoch_batches(data: Dataset, batch_size: int, seed: int, epochs: range):
    """The training batches of ``epochs``, one epoch after another, each epoch in the order
    :func:`~nntrain.data.batch_order` gives (the last batch of an epoch may be smaller).

    One stream over every epoch, which ``fit`` reads ``steps_per_epoch`` batches at a time:
    the order is fixed by each batch's place in the stream, so no callback has to tell it
    which epoch has begun (Keras prepares the next epoch's iterator before calling them).

    Example:
        >>> model.fit(epoch_batches(data, 64, seed=0, epochs=range(1, 6)), epochs=5,
        ...           steps_per_epoch=math.ceil(len(data.x_train) / 64), shuffle=False)
        >>> model.fit(**fit_input(data, 64, seed=0, epochs=range(1, 6)), epochs=5)  # the same
    """
    # Checked here, when called, not when the first batch is asked for.
    _check_data(data)
    batch_size = _checks.integer("batch_size", batch_size, minimum=1)
    _checks.seed("seed", seed)
    _checks.instance("epochs", epochs, range, "a range of epochs, e.g. range(1, 11)")
    return _batches(data, batch_size, seed, epochs)


def _batches(data: Dataset, batch_size: int, seed: int, epochs: range):
    n = len(data.x_train)
    for epoch in epochs:
        order = batch_order(n, epoch, seed)
        for first in range(0, n, batch_size):
            batch = order[first:first + batch_size]
            yield data.x_train[batch], data.y_train[batch]


def fit_input(data: Dataset, batch_size: int, seed: int, epochs: range) -> dict:
    """``model.fit``'s training arguments for ``epochs``: :func:`epoch_batches` with the
    steps per epoch, so that every epoch has its own order.

    Under a TensorFlow strategy with several replicas, the arrays and the batch size
    instead: tf.distribute splits a batch among replicas only when it can see the batch
    size in the input pipeline, which a Python stream hides (there Keras shuffles the
    arrays itself, and under TensorFlow repeats one order every epoch).

    Example:
        >>> model.fit(**fit_input(data, 64, seed=0, epochs=range(1, 6)), epochs=5)
    """
    _check_data(data)
    batch_size = _checks.integer("batch_size", batch_size, minimum=1)
    if _tensorflow_replicas() > 1:
        return {"x": data.x_train, "y": data.y_train, "batch_size": batch_size}
    return {"x": epoch_batches(data, batch_size, seed, epochs), "shuffle": False,
            "steps_per_epoch": math.ceil(len(data.x_train) / batch_size)}


def _check_data(data: object) -> None:
    _checks.instance("data", data, Dataset, "an nntrain Dataset (see nntrain.data.load)")


def _tensorflow_replicas() -> int:
    """How many replicas a TensorFlow distribution strategy in scope trains on (1 without)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync if tf.distribute.has_strategy() else 1


def _best_epoch(history: pd.DataFrame) -> int | None:
    """The first epoch with the lowest finite validation loss, as EarlyStopping picks it."""
    if "val_loss" not in history:
        return None
    val_loss = history["val_loss"].to_numpy(dtype=np.float64)
    finite = np.isfinite(val_loss)
    if not finite.any():
        return None
    return int(np.argmin(np.where(finite, val_loss, np.inf))) + 1
