"""Tests of nntrain.training.train: a sensible run, early stopping with restored weights,
reproducibility, divergence caught without an exception, defaults and bad input."""

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest

import nntrain as nt
from nntrain import diagnostics, models, optimizers, training

PATIENCE = 2


@pytest.fixture(scope="module")
def digits():
    return nt.data.load("digits", profile="smoke")


def _digits_run(digits):
    """Adam at a high learning rate on 1,079 digits: learns within a few epochs, then
    overfits, so early stopping has something to restore."""
    nt.setup(0, "smoke")
    model = models.mlp(digits.input_shape, seed=0)
    run = training.train(model, digits, optimizer=optimizers.Adam(learning_rate=0.01),
                         epochs=12, batch_size=32, patience=PATIENCE, seed=0)
    return model, run


@pytest.fixture(scope="module")
def digits_run(digits):
    return _digits_run(digits)


def test_a_normal_run_learns(digits_run):
    _, run = digits_run
    assert isinstance(run, training.Run)
    assert run.test_metrics["accuracy"] > 0.8  # chance is 0.1
    assert set(run.test_metrics) == {"loss", "accuracy"}
    assert not run.diverged and run.diverged_step is None
    assert run.wall_time_s > 0
    assert run.data_source.startswith("scikit-learn digits")
    history = run.history
    assert list(history.columns[:1]) == ["epoch"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.columns)
    assert list(history.epoch) == list(range(1, run.epochs_run + 1))
    assert history.val_accuracy.iloc[-1] > history.val_accuracy.iloc[0]


def test_early_stopping_restores_the_best_validation_epoch(digits, digits_run):
    model, run = digits_run
    val_loss = run.history.val_loss.to_numpy()
    assert run.best_epoch == int(np.argmin(val_loss)) + 1
    # the run must actually have stopped early, after PATIENCE epochs without improvement
    assert run.best_epoch < run.epochs_run == run.best_epoch + PATIENCE < 12
    restored = model.evaluate(digits.x_val, digits.y_val, verbose=0, return_dict=True)
    assert restored["loss"] == pytest.approx(val_loss[run.best_epoch - 1], rel=1e-5)
    assert restored["loss"] < val_loss[-1]
    test = model.evaluate(digits.x_test, digits.y_test, verbose=0, return_dict=True)
    assert test["accuracy"] == pytest.approx(run.test_metrics["accuracy"], abs=1e-6)


def test_same_seed_same_history(digits, digits_run):
    _, first = digits_run
    _, second = _digits_run(digits)
    pd.testing.assert_frame_equal(first.history, second.history, check_exact=True)
    assert first.test_metrics == second.test_metrics


def test_run_is_frozen(digits_run):
    with pytest.raises(dataclasses.FrozenInstanceError):
        digits_run[1].epochs_run = 0


# Whether the offline MNIST fallback's warning shows here depends on which test loaded MNIST
# first in this process (it is given once per source); test_data checks the warning itself.
@pytest.mark.filterwarnings("ignore::nntrain.data.DataFallbackWarning")
def test_a_diverging_run_stops_and_says_where():
    mnist = nt.data.load("mnist", profile="smoke")
    nt.setup(0, "smoke")
    guard = diagnostics.DivergenceGuard()
    run = training.train(models.mlp(mnist.input_shape, seed=0), mnist,
                         optimizer=keras.optimizers.SGD(learning_rate=10.0), epochs=3,
                         batch_size=64, callbacks=[guard])
    assert run.diverged is True
    assert isinstance(run.diverged_step, int) and 1 <= run.diverged_step <= len(mnist.x_train) // 64
    assert run.diverged_step == guard.diverged_step  # the guard passed in is the one used
    assert run.epochs_run == 1
    assert run.test_metrics == {}


def test_profile_defaults_regression_and_validation_split():
    data = nt.data.load("california_housing", profile="smoke")
    nt.setup(0, "smoke")
    model = models.regression(data.input_shape, seed=0)
    run = training.train(model, data, optimizer="sgd", profile="smoke")
    assert run.epochs_run == nt.get_profile("smoke").epochs  # epochs=None takes the profile's
    assert set(run.test_metrics) == {"loss", "mean_absolute_error"}
    assert run.history.loss.iloc[-1] < run.history.loss.iloc[0]
    # validation numbers come from x_val (not the test split): no early stopping here, so
    # the last epoch's val_loss is the final model's loss on x_val
    val = model.evaluate(data.x_val, data.y_val, verbose=0, return_dict=True)
    assert run.history.val_loss.iloc[-1] == pytest.approx(val["loss"], rel=1e-5)
    assert run.test_metrics["loss"] != pytest.approx(val["loss"], rel=1e-3)


def test_auto_verbose_is_silent_under_pytest(digits, capsys):
    run = training.train(models.regression((64,), seed=0),
                         _flat(digits, 128), optimizer="sgd", epochs=1, verbose="auto")
    assert run.epochs_run == 1
    assert capsys.readouterr().out == ""


def _flat(data, n):
    """A tiny regression data set from digits (pixels -> label as a number)."""
    def x(a):
        return a[:n].reshape(len(a[:n]), -1)

    def y(a):
        return a[:n].astype("float32")
    return dataclasses.replace(
        data, x_train=x(data.x_train), y_train=y(data.y_train), x_val=x(data.x_val),
        y_val=y(data.y_val), x_test=x(data.x_test), y_test=y(data.y_test), num_classes=None)


@pytest.mark.parametrize("kwargs, match", [
    ({"data": (np.zeros((2, 8)), np.zeros(2))}, "Received: data="),
    ({"epochs": 0}, "Received: epochs=0"),
    ({"batch_size": -1}, "Received: batch_size=-1"),
    ({"patience": 0}, "Received: patience=0"),
    ({"seed": -1}, "Received: seed=-1"),
    ({"verbose": 7}, "Received: verbose=7"),
    ({"callbacks": [object()]}, "Received: callbacks="),
    ({"optimizer": "lion"}, "`optimizer` must be one of .*Received: optimizer='lion'"),
    ({"profile": "huge"}, "Received: profile='huge'"),
])
def test_bad_input_raises_value_error(digits, kwargs, match):
    args = {"model": models.regression((64,)), "data": _flat(digits, 16), **kwargs}
    with pytest.raises(ValueError, match=match):
        training.train(**args)


class _BatchLosses(keras.callbacks.Callback):
    """Each mini-batch's own loss, recovered from the running mean Keras logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self.means = []
        self.epochs = getattr(self, "epochs", []) + [self.means]

    def on_train_batch_end(self, batch, logs=None):
        self.means.append(float(logs["loss"]))

    def batches(self):
        out = []
        for means in self.epochs:
            totals = np.arange(1, len(means) + 1) * np.array(means)
            out.append(np.round(np.diff(totals, prepend=0.0), 3).tolist())
        return out


def test_every_epoch_draws_a_new_batch_order():
    """Twelve examples with targets 0..11, a zero model that barely moves (rate 1e-20), batches of 4:
    each batch's loss is the mean of its squared targets, so it names the batch. Stochastic
    gradient descent reshuffles every epoch, so three epochs must not repeat one order.
    (Keras's own shuffle under TensorFlow after a global seed did repeat it: [67.5, 23.75,
    35.25] three times; nt.train now feeds the batches of nt.data.batch_order itself.)"""
    base = nt.data.load("california_housing", profile="smoke", synthetic=True)
    x = np.zeros((12, base.x_train.shape[1]), "float32")
    data = dataclasses.replace(base, x_train=x, y_train=np.arange(12, dtype="float32"),
                               x_val=x[:4], y_val=np.zeros(4, "float32"))
    model = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.Dense(1, kernel_initializer="zeros")])
    record = _BatchLosses()
    training.train(model, data, optimizers.SGD(1e-20), epochs=3, batch_size=4, callbacks=[record], seed=0)
    orders = record.batches()
    for order in orders:  # every epoch sees each example once: mean of 0^2 .. 11^2
        assert np.mean(order) == pytest.approx(506 / 12, abs=1e-2), orders
    assert len({tuple(order) for order in orders}) > 1, orders  # but not in one order
    first = nt.data.batch_order(12, epoch=1, seed=0)  # and in the order batch_order gives
    assert orders[0] == [float(np.mean(np.square(first[i:i + 4]))) for i in (0, 4, 8)], orders


def test_train_sees_the_batches_a_sweep_member_sees(digits):
    """nt.train and nt.sweep order every epoch by nt.data.batch_order: one model trained
    alone by nt.train follows the sweep member with its settings, epoch by epoch."""
    result = nt.sweep("mlp", digits, inits=["he_normal"], learning_rates=[0.1], seeds=[3],
                      optimizer="sgd", epochs=3, batch_size=64, shuffle_seed=5)
    run = training.train(models.mlp(digits.input_shape, init="he_normal", seed=3), digits,
                         optimizers.SGD(0.1), epochs=3, batch_size=64, seed=5)
    columns = ["loss", "val_loss", "val_accuracy"]
    np.testing.assert_allclose(run.history[columns].to_numpy(float),
                               result.history[columns].to_numpy(float), rtol=1e-4, atol=1e-5)
