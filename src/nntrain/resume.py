"""Resume an interrupted run exactly: a disconnected Colab session picks up where it stopped.

Keras's ``BackupAndRestore`` saves the weights, the optimizer's state and the epoch count
at the end of every epoch and restores them when ``fit`` starts again. An *exact* resume,
one that ends with the same weights and history as an uninterrupted run, needs three more
things, added here:

* the logs of the epochs already trained, so that the history covers the whole run
  (:class:`BackupAndRestore` keeps them in its backup);
* the random state outside the weights, the seed generators of dropout layers
  (:class:`BackupAndRestore` keeps it too);
* the same mini-batches in epoch :math:`e` with or without an interruption:
  :func:`nntrain.train` draws them itself, in the order
  :func:`nntrain.data.batch_order` gives for the seed :math:`s` and the epoch :math:`e`
  alone (:func:`nntrain.training.fit_input`), starting after the epoch the backup
  holds (:meth:`BackupAndRestore.saved_epoch`).

:func:`nntrain.train` does all of it (``backup_dir=``); with ``model.fit``, pass the backup
and ``fit_input`` from ``saved_epoch() + 1`` yourself.
Numbers are exact on one device; on several, a run is reproducible only up to the order
in which the replicas' gradients are summed.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings

import keras
import numpy as np

from . import _checks
from ._files import atomic_write

__all__ = ["BackupAndRestore"]

# The files of a backup: Keras's own (BackupAndRestore), then nntrain's.
_KERAS_METADATA_FILE = "training_metadata.json"
_STATE_FILE = "nntrain_state.json"
_WEIGHTS_FILE = "latest.weights.h5"
_BACKUP_FILES = frozenset({_WEIGHTS_FILE, f"{_WEIGHTS_FILE}.bkp", _KERAS_METADATA_FILE,
                           f"{_KERAS_METADATA_FILE}.bkp", _STATE_FILE})


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's ``BackupAndRestore``, plus the logs and the random state of the run.

    At the end of every epoch it saves, in ``backup_dir``, the weights, the optimizer's
    state and the epoch count (Keras), then the logs of every epoch so far and the model's
    variables that are not weights (the state of its seed generators). When ``fit`` starts
    and ``backup_dir`` holds a backup, it restores all of them and ``fit`` resumes at the
    next epoch; :attr:`previous_logs` then holds the logs of the epochs trained before.
    When ``fit`` finishes, ``backup_dir`` is deleted (so it must hold nothing else).

    Args:
        backup_dir: a folder that is new, empty, or holds only such a backup.
        verbose: say so when resuming.

    Example:
        >>> backup = BackupAndRestore("/content/drive/MyDrive/lab1-backup")
        >>> model.fit(x, y, epochs=20, callbacks=[backup])

    References:
        Keras, ``keras.callbacks.BackupAndRestore``,
        https://keras.io/api/callbacks/backup_and_restore/
    """

    def __init__(self, backup_dir: str | os.PathLike, verbose: int = 0):
        super().__init__(_check_backup_dir(backup_dir), save_freq="epoch",
                         delete_checkpoint=True)
        if not (_checks.is_int(verbose) and verbose in (0, 1, 2)):
            _checks.fail("verbose", "0 (silent), 1 or 2 (say so when resuming)", verbose)
        self.verbose = int(verbose)
        self.previous_logs: list[dict[str, float]] = []  # epochs of earlier sessions
        self._logs: list[dict[str, float]] = []  # every epoch so far

    def _random_state(self) -> list:
        weights = {id(weight) for weight in self.model.weights}
        return [v for v in self.model.variables if id(v) not in weights]

    def _path(self, name: str) -> str:
        return os.path.join(self.backup_dir, name)

    def saved_epoch(self) -> int:
        """The epochs the backup holds (0 when there is none): ``fit`` resumes after it.

        A damaged backup is discarded first, with a warning (:meth:`discard_if_damaged`).
        """
        self.discard_if_damaged()
        path = self._path(_KERAS_METADATA_FILE)
        if not os.path.exists(path):
            return 0
        with open(path) as file:
            return int(json.load(file)["epoch"])

    def damage(self) -> str | None:
        """What is wrong with the backup in ``backup_dir``, naming the file; ``None`` when it
        is readable or there is none."""
        files = [self._path(n) for n in (_KERAS_METADATA_FILE, _WEIGHTS_FILE, _STATE_FILE)]
        if not any(os.path.exists(f) for f in files):
            return None
        meta, weights, state = files
        path = meta  # the file being read, named in the message
        try:
            for path in (meta, weights):
                if not os.path.exists(path):
                    raise FileNotFoundError("missing")
            path = meta
            with open(meta) as file:
                epoch = int(json.load(file)["epoch"])
            import h5py  # Keras's own weights format

            path = weights
            with h5py.File(weights, "r"):
                pass
            path = state
            if os.path.exists(state):
                with open(state) as file:
                    saved = json.load(file)
                if not (isinstance(saved["logs"], list) and isinstance(saved["random_state"], list)
                        and len(saved["logs"]) >= min(epoch, int(saved["epoch"]))):
                    raise ValueError("its logs or random state are not what nntrain writes")
        except Exception as error:  # any unreadable file makes the whole backup unusable
            return f"{path}: {type(error).__name__}: {error}"
        return None

    def discard_if_damaged(self) -> bool:
        """Delete a damaged backup (warning which file and why), so that the run starts
        over instead of failing; whether one was deleted."""
        problem = self.damage()
        if problem is None:
            return False
        warnings.warn(f"nntrain: the backup in {self.backup_dir} is damaged ({problem}); "
                      "it is deleted and the run starts over from epoch 1", stacklevel=2)
        for name in _BACKUP_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self._path(name))
        return True

    def on_train_begin(self, logs=None):
        self.discard_if_damaged()
        super().on_train_begin(logs)  # the weights, the optimizer and the epoch
        self.previous_logs, self._logs = [], []
        if not os.path.exists(self._path(_STATE_FILE)):
            return
        with open(self._path(_STATE_FILE)) as file:
            state = json.load(file)
        epoch = self.saved_epoch()
        self.previous_logs = state["logs"][:epoch]
        self._logs = list(self.previous_logs)
        if state["epoch"] == epoch:
            for variable, value in zip(self._random_state(), state["random_state"], strict=True):
                variable.assign(np.asarray(value, dtype=variable.dtype))
        else:  # the session ended between nntrain's file and Keras's
            warnings.warn(f"nntrain: the random state after epoch {epoch} was not backed up; "
                          "the resumed run may differ slightly from an uninterrupted one",
                          stacklevel=2)
        if self.verbose and epoch:
            print(f"nntrain: resuming from the backup in {self.backup_dir} "
                  f"after epoch {epoch}")

    def on_epoch_end(self, epoch, logs=None):
        self._logs.append({name: float(value) for name, value in (logs or {}).items()})
        state = {"epoch": epoch + 1, "logs": self._logs,
                 "random_state": [np.asarray(v).tolist() for v in self._random_state()]}
        os.makedirs(self.backup_dir, exist_ok=True)
        # Written before Keras's own files, so that it is never older than they are.
        atomic_write(self._path(_STATE_FILE), json.dumps(state))
        super().on_epoch_end(epoch, logs)


def _check_backup_dir(backup_dir: object) -> str:
    """A folder that is new, empty or holds only a backup: Keras deletes it when done."""
    if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir).strip():
        raise ValueError("`backup_dir` must be a folder path (str or os.PathLike). "
                         f"Received: backup_dir={backup_dir!r}")
    folder = os.fspath(backup_dir)
    if os.path.exists(folder):
        others = sorted(set(os.listdir(folder)) - _BACKUP_FILES) if os.path.isdir(folder) else ["(a file)"]
        if others:
            raise ValueError(
                "`backup_dir` must be a new folder, or one that holds only an nntrain backup "
                f"({', '.join(sorted(_BACKUP_FILES))}), because it is deleted when the run "
                f"finishes; this one holds {', '.join(others[:3])}. "
                f"Received: backup_dir={backup_dir!r}"
            )
    return folder
