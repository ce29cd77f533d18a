import random

import numpy as np
import pytest

import nntrain as nt
from nntrain import profiles


def test_profiles_are_frozen_and_ordered_by_scale():
    smoke, book, full = (nt.PROFILES[k] for k in ("smoke", "book", "full"))
    with pytest.raises(AttributeError):
        smoke.epochs = 100
    assert smoke.n_train < book.n_train and full.n_train is None
    assert smoke.epochs < book.epochs < full.epochs
    assert smoke.budget_s < book.budget_s < full.budget_s
    assert smoke.synthetic_ok and not book.synthetic_ok and not full.synthetic_ok


def test_profile_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("NNTRAIN_PROFILE", "full")
    assert nt.get_profile().name == "full"
    monkeypatch.setenv("NNTRAIN_PROFILE", "SMOKE")
    assert nt.get_profile().name == "smoke"
    monkeypatch.delenv("NNTRAIN_PROFILE")
    assert nt.get_profile().name == "book"  # the documented default
    assert nt.get_profile(nt.PROFILES["full"]) is nt.PROFILES["full"]


def test_unknown_profile_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match=r"`profile` must be one of .*Received: profile='fast'"):
        nt.get_profile("fast")
    monkeypatch.setenv("NNTRAIN_PROFILE", "huge")
    with pytest.raises(ValueError, match=r"NNTRAIN_PROFILE.*Received: NNTRAIN_PROFILE='huge'"):
        nt.setup()


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_is_a_clear_error(seed):
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer or None. Received: seed="):
        nt.setup(seed=seed, profile="smoke")


def test_setup_seeds_python_numpy_and_keras():
    import keras

    def draw():
        return (random.random(), np.random.rand(), keras.ops.convert_to_numpy(keras.random.normal((3,))))

    assert nt.setup(seed=7, profile="smoke").name == "smoke"
    first = draw()
    nt.setup(seed=7, profile="smoke")
    second = draw()
    nt.setup(seed=8, profile="smoke")
    third = draw()
    assert first[0] == second[0] and first[1] == second[1]
    np.testing.assert_array_equal(first[2], second[2])
    assert first[0] != third[0] and not np.array_equal(first[2], third[2])


def test_setup_gives_identical_training_runs():
    import keras

    def train_once():
        nt.setup(seed=3, profile="smoke")
        x = np.random.rand(64, 5).astype("float32")
        y = (x.sum(1) > 2.5).astype("int32")
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        return history.history["loss"], model.get_weights()

    loss_a, weights_a = train_once()
    loss_b, weights_b = train_once()
    assert loss_a == loss_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)


def test_setup_quiets_tensorflow_and_styles_plots():
    import logging

    import matplotlib as mpl

    nt.setup(profile="smoke")
    assert logging.getLogger("tensorflow").level == logging.ERROR
    assert mpl.rcParams["axes.spines.top"] is False
    assert mpl.rcParams["axes.grid"] is True


def test_import_quiets_tensorflow_cpp_logs():
    """Importing nntrain first keeps TensorFlow's C++ start-up lines out of a notebook."""
    import os
    import subprocess
    import sys

    pytest.importorskip("tensorflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["KERAS_BACKEND"] = "tensorflow"
    result = subprocess.run(
        [sys.executable, "-c", "import nntrain, tensorflow as tf; nntrain.setup(profile='smoke'); tf.constant(1.0) + 1"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "oneDNN" not in result.stderr and "I0000" not in result.stderr, result.stderr


@pytest.mark.parametrize("value, expected", [("0", False), ("1", True)])
def test_nntrain_progress_overrides_the_interactive_rule(monkeypatch, value, expected):
    from nntrain.profiles import interactive

    monkeypatch.setenv("NNTRAIN_PROGRESS", value)
    assert interactive() is expected
    monkeypatch.delenv("NNTRAIN_PROGRESS")
    assert interactive() is False  # under pytest


@pytest.mark.parametrize("field, value", [
    ("batch_size", 0), ("epochs", 2.5), ("seeds", True), ("n_train", -1), ("n_val", 0),
    ("val_fraction", 0.7), ("val_fraction", 0.0), ("budget_s", float("inf")), ("budget_s", 0),
    ("synthetic_ok", 1), ("seed", -2), ("name", ""),
])
def test_a_profile_checks_its_fields_when_made(field, value):
    import dataclasses

    with pytest.raises(ValueError, match=rf"`{field}` of a Profile must be .* Received: {field}="):
        dataclasses.replace(nt.PROFILES["smoke"], **{field: value})
