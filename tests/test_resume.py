"""A run interrupted in the middle of an epoch (a Colab session that disconnected) resumes
from its backup and ends exactly where the uninterrupted run ends: the same weights, the
same history, the same test metrics; and the callbacks behind it, on their own."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

import nntrain as nt
from nntrain import optimizers, resume, training

EPOCHS = 3
# Disconnect during the second epoch (Keras counts from 0), after 3 of its batches: those
# updates are lost with the session and must be redone from the backup of epoch 1.
STOP_EPOCH, STOP_BATCH = 1, 3


class Disconnect(Exception):
    """What a lost Colab session looks like to the training loop."""


class _DisconnectAt(keras.callbacks.Callback):
    def __init__(self, epoch: int, batch: int):
        super().__init__()
        self.stop, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.stop:
            raise Disconnect


class _CountEpochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


@pytest.fixture(scope="module")
def digits():
    return nt.data.load("digits", profile="smoke")


def _model(input_shape) -> keras.Model:
    """Small, with dropout: its random state must be resumed too, not only the weights."""
    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu", kernel_initializer=keras.initializers.HeNormal(0)),
        keras.layers.Dropout(0.3, seed=1),
        keras.layers.Dense(10, activation="softmax",
                           kernel_initializer=keras.initializers.GlorotUniform(2)),
    ])


def _train(data, backup_dir=None, callbacks=(), verbose=0):
    nt.setup(0, "smoke")
    model = _model(data.input_shape)
    run = training.train(model, data, optimizer=optimizers.Adam(learning_rate=1e-3),
                         epochs=EPOCHS, batch_size=64, seed=0, callbacks=list(callbacks),
                         backup_dir=backup_dir, verbose=verbose)
    return model, run


@pytest.fixture(scope="module")
def uninterrupted(digits):
    return _train(digits)  # no backup at all


def test_an_interrupted_run_resumes_to_the_same_result(digits, uninterrupted, tmp_path, capsys):
    backup = tmp_path / "backup"
    with pytest.raises(Disconnect):
        _train(digits, backup, [_DisconnectAt(STOP_EPOCH, STOP_BATCH)])
    # the backup holds the epochs that finished before the disconnection
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == STOP_EPOCH
    assert len(json.loads((backup / "nntrain_state.json").read_text())["logs"]) == STOP_EPOCH

    counter = _CountEpochs()
    model, run = _train(digits, backup, [counter], verbose=2)
    assert counter.epochs == list(range(STOP_EPOCH, EPOCHS))  # it resumed, not restarted
    assert f"resuming from the backup in {backup} after epoch {STOP_EPOCH}" in capsys.readouterr().out
    assert not backup.exists()  # a finished run leaves no backup behind

    reference_model, reference = uninterrupted
    for resumed, reference_weights in zip(model.get_weights(), reference_model.get_weights(), strict=True):
        np.testing.assert_array_equal(resumed, reference_weights)
    pd.testing.assert_frame_equal(run.history, reference.history, check_exact=True)
    assert run.test_metrics == reference.test_metrics
    assert (run.epochs_run, run.best_epoch) == (EPOCHS, reference.best_epoch)


def test_a_backup_folder_with_other_files_is_refused(digits, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"`backup_dir` must be a new folder.*notes.txt.*Received: backup_dir="):
        _train(digits, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"  # untouched
    with pytest.raises(ValueError, match=r"`backup_dir` must be a new folder.*\(a file\)"):
        _train(digits, tmp_path / "notes.txt")
    with pytest.raises(ValueError, match=r"`backup_dir` must be a folder path .*Received: backup_dir=3"):
        resume.BackupAndRestore(3)


@pytest.mark.parametrize("damage", ["weights", "metadata", "state"])
def test_a_damaged_backup_starts_the_run_over_with_a_warning(digits, uninterrupted, tmp_path, damage):
    """Half a backup (a session killed while Keras wrote it, a sync gone wrong) must not block
    resuming: the run warns, naming the file, deletes the backup and trains from epoch 1."""
    backup = tmp_path / "backup"
    with pytest.raises(Disconnect):
        _train(digits, backup, [_DisconnectAt(STOP_EPOCH, STOP_BATCH)])
    target = {"weights": "latest.weights.h5", "metadata": "training_metadata.json",
              "state": "nntrain_state.json"}[damage]
    data = (backup / target).read_bytes()
    (backup / target).write_bytes(data[: len(data) // 2])  # truncated
    counter = _CountEpochs()
    with pytest.warns(UserWarning, match=rf"backup in .* is damaged \(.*{target}.*\); .* starts over"):
        model, run = _train(digits, backup, [counter])
    assert counter.epochs == list(range(EPOCHS))  # from the start
    reference_model, reference = uninterrupted
    for got, want in zip(model.get_weights(), reference_model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)  # the same as never interrupted
    assert run.test_metrics == reference.test_metrics


def test_the_state_of_a_backup_is_written_atomically(digits, tmp_path, monkeypatch):
    """A kill while nntrain's state file is written leaves the previous state file whole."""
    backup = tmp_path / "backup"
    with pytest.raises(Disconnect):
        _train(digits, backup, [_DisconnectAt(STOP_EPOCH, STOP_BATCH)])
    before = (backup / "nntrain_state.json").read_bytes()

    def killed(*args, **kwargs):
        raise Disconnect  # as if the process died after writing aside, before the rename

    monkeypatch.setattr(nt._files.os, "replace", killed)
    with pytest.raises(Disconnect):
        _train(digits, backup)
    assert (backup / "nntrain_state.json").read_bytes() == before
    assert not list(backup.glob(".*.tmp"))
