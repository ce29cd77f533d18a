"""Tests of nntrain.diagnostics: gradients against tf.GradientTape and jax.grad computed by
hand, vanishing gradients, saturation and dead units, update ratios, divergence."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
import tensorflow as tf

import nntrain as nt
from nntrain import diagnostics, initializers, models


@pytest.fixture(scope="module")
def digits():
    return nt.data.load("digits", profile="smoke")


@pytest.fixture(scope="module")
def probe(digits):
    return digits.x_train[:64], digits.y_train[:64]


def _numpy_weights(model):
    return {f"{layer.name}/{v.name}": keras.ops.convert_to_numpy(v)
            for layer in model.layers for v in layer.weights}


def _mlp_loss(w, x, y, lib):
    """The case study's MLP written by hand (lib: tf or jnp), mean cross-entropy."""
    if lib is tf:
        h = tf.reshape(x, (x.shape[0], -1))
        h = tf.sigmoid(h @ w["hidden_1/kernel"] + w["hidden_1/bias"])
        h = tf.tanh(h @ w["hidden_2/kernel"] + w["hidden_2/bias"])
        logits = h @ w["output/kernel"] + w["output/bias"]
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    h = x.reshape(x.shape[0], -1)
    h = jax.nn.sigmoid(h @ w["hidden_1/kernel"] + w["hidden_1/bias"])
    h = jnp.tanh(h @ w["hidden_2/kernel"] + w["hidden_2/bias"])
    logits = h @ w["output/kernel"] + w["output/bias"]
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def _assert_matches(model, x, y, reference):
    grads = diagnostics.gradients(model, x, y)
    assert list(grads) == [f"{layer}/{v}" for layer in ("hidden_1", "hidden_2", "output")
                           for v in ("kernel", "bias")]
    for key, g in grads.items():
        np.testing.assert_allclose(g, reference[key], rtol=1e-4, atol=1e-7, err_msg=key)
    norms = diagnostics.gradient_norms(model, x, y)
    assert list(norms.columns) == ["layer", "variable", "norm"]
    assert list(norms.layer) == ["hidden_1", "hidden_2", "output"]
    expected = [np.linalg.norm(reference[f"{layer}/kernel"]) for layer in norms.layer]
    np.testing.assert_allclose(norms.norm, expected, rtol=1e-5)


# ---------------------------------------------------------------------- gradients


def test_gradients_equal_a_gradient_tape_computation(probe):
    x, y = probe
    model = models.mlp((8, 8, 1), seed=0)
    w = {k: tf.Variable(v) for k, v in _numpy_weights(model).items()}
    with tf.GradientTape() as tape:
        loss = _mlp_loss(w, tf.constant(x), tf.constant(y), tf)
    reference = dict(zip(w, (g.numpy() for g in tape.gradient(loss, list(w.values())))))
    _assert_matches(model, x, y, reference)


def test_gradients_equal_a_jax_grad_computation(probe):
    x, y = probe
    model = models.mlp((8, 8, 1), seed=1)
    w = {k: jnp.asarray(v) for k, v in _numpy_weights(model).items()}
    reference = jax.grad(_mlp_loss)(w, jnp.asarray(x), jnp.asarray(y), jnp)
    _assert_matches(model, x, y, {k: np.asarray(v) for k, v in reference.items()})


def test_the_compiled_loss_is_the_default(probe):
    x = probe[0].reshape(64, -1)[:, :8]
    y = np.linspace(0, 1, 64, dtype="float32")
    model = models.regression((8,), seed=0)
    mse = diagnostics.gradient_norms(model, x, y, loss="mean_squared_error").norm.to_numpy()
    mae = diagnostics.gradient_norms(model, x, y, loss="mean_absolute_error").norm.to_numpy()
    np.testing.assert_allclose(diagnostics.gradient_norms(model, x, y).norm, mse)  # float y: MSE
    model.compile(optimizer="sgd", loss="mean_absolute_error")
    np.testing.assert_allclose(diagnostics.gradient_norms(model, x, y).norm, mae)
    assert not np.allclose(mse, mae)


def test_probing_changes_no_state(probe):
    x, y = probe
    model = models.deep_mlp(2, 16, batch_norm=True, input_shape=(8, 8, 1), seed=0)
    before = _numpy_weights(model)
    train_mode = diagnostics.gradient_norms(model, x, y, training=True).norm.to_numpy()
    diagnostics.activation_stats(model, x, training=True)
    after = _numpy_weights(model)
    for key in before:  # batch-norm moving statistics included
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)
    # in training mode batch norm uses the probe's statistics, not the moving ones
    inference = diagnostics.gradient_norms(model, x, y, training=False).norm.to_numpy()
    assert not np.allclose(train_mode, inference, rtol=1e-3)


def test_deep_sigmoid_gradients_vanish_and_relu_he_ones_do_not(probe):
    x, y = probe
    sigmoid = models.deep_mlp(20, 32, "sigmoid", init="xavier_normal", input_shape=(8, 8, 1))
    relu = models.deep_mlp(20, 32, "relu", init="he_normal", input_shape=(8, 8, 1))
    for model, low, high in ((sigmoid, 0, 1e-4), (relu, 0.1, 10)):
        norms = diagnostics.gradient_norms(model, x, y).set_index("layer").norm
        ratio = norms["hidden_1"] / norms["hidden_20"]
        assert low < ratio < high, (model.get_layer("hidden_1").activation.__name__, ratio)


def test_gradient_norms_callback_records_every_k_steps(digits, probe):
    x, y = probe
    model = models.mlp((8, 8, 1), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    at_init = diagnostics.gradient_norms(model, x, y)
    steps = int(np.ceil(len(digits.x_train) / 128))
    assert steps % 3 == 0  # so that the last step is recorded
    callback = diagnostics.GradientNorms(x, y, every=3)
    model.fit(digits.x_train, digits.y_train, batch_size=128, epochs=1, verbose=0,
              callbacks=[callback])
    frame = callback.frame()
    assert list(frame.columns) == ["step", "epoch", "layer", "variable", "norm"]
    assert sorted(set(frame.step)) == list(range(0, steps + 1, 3))
    assert set(frame.query("step == 0").epoch) == {0}
    assert set(frame.query("step > 0").epoch) == {1}
    np.testing.assert_allclose(frame.query("step == 0").norm, at_init.norm, rtol=1e-5)
    at_end = diagnostics.gradient_norms(model, x, y)
    np.testing.assert_allclose(frame.query(f"step == {steps}").norm, at_end.norm, rtol=1e-5)
    assert not np.allclose(at_init.norm, at_end.norm, rtol=1e-2)


# -------------------------------------------------------------------- activations


def _squash(name):
    return keras.Sequential([keras.Input((4,)), keras.layers.Activation(name, name="squash")])


def test_saturation_thresholds():
    # |tanh(2.7)| = 0.9910 > 0.99 and |tanh(2)| = 0.964
    tanh = diagnostics.activation_stats(_squash("tanh"), np.array([[-3.0, -2.0, 2.7, 0.0]]))
    assert tanh.saturated.item() == 0.5
    # sigmoid(-4.7) = 0.0090 < 0.01, sigmoid(-4.5) = 0.0110, sigmoid(4.7) = 0.9910 > 0.99
    sigmoid = diagnostics.activation_stats(_squash("sigmoid"), np.array([[-4.7, -4.5, 4.5, 4.7]]))
    assert sigmoid.saturated.item() == 0.5
    assert sigmoid["mean"].item() == pytest.approx(0.5, abs=1e-6)
    relu = diagnostics.activation_stats(_squash("relu"), np.array([[-1.0, 0.0, 2.0, 3.0]]))
    assert np.isnan(relu.saturated.item())
    assert relu.zeros.item() == 0.5
    assert relu["mean"].item() == pytest.approx(1.25)


def test_huge_init_saturates_tanh_and_a_sane_one_does_not(digits):
    x = digits.x_train[:256]
    huge = initializers.get("random_normal", stddev=10.0)
    for init, low, high in ((huge, 0.9, 1.0), ("xavier_normal", 0.0, 0.05)):
        model = models.deep_mlp(3, 64, "tanh", init=init, input_shape=(8, 8, 1), seed=0)
        stats = diagnostics.activation_stats(model, x).set_index("layer")
        assert list(stats.index) == ["hidden_1", "hidden_2", "hidden_3", "output"]
        hidden = stats.loc[["hidden_1", "hidden_2", "hidden_3"], "saturated"]
        assert ((hidden >= low) & (hidden <= high)).all(), hidden


def test_dead_relu_units_are_found(digits):
    x = digits.x_train[:256]
    model = models.deep_mlp(2, 32, "relu", input_shape=(8, 8, 1), seed=0)
    healthy = diagnostics.activation_stats(model, x).set_index("layer")
    assert healthy.loc["hidden_1", "dead"] < 0.1
    assert 0.3 < healthy.loc["hidden_1", "zeros"] < 0.7
    layer = model.get_layer("hidden_1")
    layer.bias.assign(np.r_[np.full(16, -100.0), np.full(16, 100.0)].astype("float32"))
    stats = diagnostics.activation_stats(model, x).set_index("layer")
    assert stats.loc["hidden_1", "dead"] == 0.5
    assert stats.loc["hidden_1", "zeros"] == 0.5
    layer.bias.assign(np.full(32, -100.0, dtype="float32"))
    stats = diagnostics.activation_stats(model, x).set_index("layer")
    assert stats.loc["hidden_1", "dead"] == 1.0


def test_activation_stats_callback_records_before_and_after(digits):
    x = digits.x_train[:128]
    model = models.mlp((8, 8, 1), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    before = diagnostics.activation_stats(model, x)
    callback = diagnostics.ActivationStats(x, every=100)
    model.fit(digits.x_train, digits.y_train, batch_size=128, epochs=1, verbose=0,
              callbacks=[callback])
    frame = callback.frame()
    assert list(frame.columns) == ["step", "epoch", "layer", "activation", "mean", "std",
                                   "saturated", "zeros", "dead"]
    assert list(frame.step) == [0, 0, 0]  # fewer than 100 steps: only the initial state
    np.testing.assert_allclose(frame["std"], before["std"], rtol=1e-5)
    assert list(frame.activation) == ["sigmoid", "tanh", "softmax"]


# ------------------------------------------------------------------ update ratios


def test_update_ratios_are_relative_weight_changes(digits):
    model = models.mlp((8, 8, 1), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    before = _numpy_weights(model)
    steps = int(np.ceil(len(digits.x_train) / 128))
    callback = diagnostics.UpdateRatios(every=steps)
    model.fit(digits.x_train, digits.y_train, batch_size=128, epochs=1, verbose=0,
              callbacks=[callback])
    after = _numpy_weights(model)
    frame = callback.frame()
    assert list(frame.columns) == ["step", "epoch", "layer", "variable", "ratio"]
    assert list(frame.step) == [steps] * 3
    for row in frame.itertuples():
        key = f"{row.layer}/{row.variable}"
        expected = np.linalg.norm(after[key] - before[key]) / np.linalg.norm(before[key])
        assert row.ratio == pytest.approx(expected, rel=1e-5)
        assert row.ratio > 0


def test_update_ratio_of_zero_weights_is_nan(digits):
    model = models.mlp((8, 8, 1), init="zeros")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    callback = diagnostics.UpdateRatios(every=1)
    model.fit(digits.x_train[:64], digits.y_train[:64], batch_size=64, epochs=1, verbose=0,
              callbacks=[callback])
    assert callback.frame().ratio.isna().all()


# ---------------------------------------------------------------------- divergence


def _guard_on(model, **kwargs):
    guard = diagnostics.DivergenceGuard(**kwargs)
    model.stop_training = False  # as fit() sets it
    guard.set_model(model)
    guard.on_train_begin()
    guard.on_epoch_begin(0)
    return guard


def test_divergence_guard_rules():
    model = models.regression((8,), seed=0)
    guard = _guard_on(model, check_weights=False)
    for loss in (2.0, 7.9, 2.5):
        guard.on_train_batch_end(0, {"loss": loss})
    assert not guard.diverged and not model.stop_training
    guard.on_epoch_begin(1)
    guard.on_train_batch_end(0, {"loss": 8.1})  # above 4 x the first loss, 2.0
    assert (guard.diverged_step, guard.diverged_epoch) == (4, 2)
    assert model.stop_training is True

    guard = _guard_on(model, loss_ratio=None, check_weights=False)
    guard.on_train_batch_end(0, {"loss": 1.0})
    guard.on_train_batch_end(1, {"loss": 1e6})
    assert not guard.diverged
    guard.on_train_batch_end(2, {"loss": float("inf")})
    assert guard.diverged_step == 3 and guard.reason == "loss is inf"

    guard = _guard_on(model)
    guard.on_train_batch_end(0, {"loss": 1.0})
    kernel = model.get_layer("hidden_2").kernel
    kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))
    guard.on_train_batch_end(1, {"loss": 1.0})
    assert guard.diverged_step == 2 and "hidden_2/kernel" in guard.reason


def test_divergence_guard_stops_a_nan_run_without_raising():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x @ rng.normal(size=8) * 100).astype("float32")
    model = models.regression((8,), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(10.0), loss="mean_squared_error")
    guard = diagnostics.DivergenceGuard(loss_ratio=None)
    history = model.fit(x, y, batch_size=32, epochs=5, verbose=0, callbacks=[guard])
    assert guard.diverged and guard.diverged_epoch == 1
    assert 1 <= guard.diverged_step <= 8  # within the first epoch of 8 batches
    assert "not finite" in guard.reason or guard.reason.startswith("loss is")
    assert len(history.history["loss"]) == 1  # stopped in the first epoch


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, match", [
    (lambda: diagnostics.GradientNorms(np.zeros((4, 2)), np.zeros(4), every=0), "Received: every=0"),
    (lambda: diagnostics.GradientNorms(np.zeros((4, 2)), np.zeros(3)), r"`y_probe` must be an array with one row per example of `x_probe` \(4\). Received: y_probe=<ndarray of shape \(3,\)>"),
    (lambda: diagnostics.GradientNorms(np.zeros((0, 2)), np.zeros(0)), r"`x_probe` must be a non-empty array.*Received: x_probe=<ndarray of shape \(0, 2\)>"),
    (lambda: diagnostics.UpdateRatios(variables="kernel"), "Received: variables='kernel'"),
    (lambda: diagnostics.ActivationStats(np.zeros((4, 2)), every=1.5), "Received: every=1.5"),
    (lambda: diagnostics.DivergenceGuard(loss_ratio=1), "Received: loss_ratio=1"),
    (lambda: diagnostics.gradients(models.regression(), np.zeros((2, 8)), np.zeros(2), loss="nope"),
     "Received: loss='nope'"),
    (lambda: diagnostics.activation_stats(keras.Sequential([keras.layers.Dense(2)]), np.zeros((2, 3))),
     "Received: model="),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------ input gradients, time


def _linear_rnn(timesteps, u=0.8, w=1.5, v=2.0):
    """h_t = w x_t + u h_{t-1}, y = v h_T: dy/dx_t = v u^(T - t) w exactly."""
    const = keras.initializers.Constant
    return keras.Sequential([
        keras.Input((timesteps, 1)),
        keras.layers.SimpleRNN(1, activation=None, use_bias=False, kernel_initializer=const(w),
                               recurrent_initializer=const(u), name="recurrent"),
        keras.layers.Dense(1, kernel_initializer=const(v), name="output"),
    ])


def test_input_gradients_match_the_analytic_gradient_of_a_linear_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="output")])
    w, b = (keras.ops.convert_to_numpy(v) for v in model.get_layer("output").weights)
    g = diagnostics.input_gradients(model, x, y, loss="mean_squared_error")
    # L = mean_i (x_i w + b - y_i)^2, so dL/dx_i = 2 / n (x_i w + b - y_i) w^T
    expected = 2 / len(x) * (x @ w + b - y) * w.T
    assert g.shape == x.shape
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-7)


def test_gradient_through_time_decays_like_a_power_of_the_recurrent_weight():
    timesteps = 12
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, timesteps, 1)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    frame = diagnostics.gradient_through_time(_linear_rnn(timesteps), x, y, loss="mean_squared_error")
    assert list(frame.columns) == ["timestep", "steps_to_end", "norm"]
    assert list(frame.timestep) == list(range(1, timesteps + 1))
    assert list(frame.steps_to_end) == list(range(timesteps - 1, -1, -1))
    ratio = frame.norm.to_numpy() / frame.norm.iloc[-1]
    np.testing.assert_allclose(ratio, 0.8 ** frame.steps_to_end.to_numpy(), rtol=1e-4)
    # and the last step's norm is |v w| * 2/n * ||y_hat - y||
    model = _linear_rnn(timesteps)
    residual = keras.ops.convert_to_numpy(model(x)) - y
    assert frame.norm.iloc[-1] == pytest.approx(3.0 * 2 / 32 * np.linalg.norm(residual), rel=1e-4)


def test_gradient_through_time_wants_sequences():
    with pytest.raises(ValueError, match=r"`x` must be a batch of sequences.*Received: x=<ndarray of shape \(4, 3\)>"):
        diagnostics.gradient_through_time(_linear_rnn(3), np.zeros((4, 3)), np.zeros(4))


# --------------------------------------------------------------- step loss, monitor


def test_step_loss_recovers_the_loss_of_every_batch(digits):
    x, y = digits.x_train[:100], digits.y_train[:100]
    model = models.mlp((8, 8, 1), seed=0)
    # a learning rate of 0 keeps the weights, so each batch's loss can be computed afterwards
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    losses = diagnostics.StepLoss()
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, callbacks=[losses])
    frame = losses.frame()
    assert list(frame.columns) == ["step", "epoch", "loss"]
    assert list(frame.step) == list(range(1, 9)) and list(frame.epoch) == [1] * 4 + [2] * 4
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    expected = [float(loss_fn(y[i:i + 32], model(x[i:i + 32]))) for i in range(0, 100, 32)]
    # batches of 32, 32, 32 and 4: the last one is not a running mean but its own loss
    np.testing.assert_allclose(frame.loss, expected * 2, rtol=1e-4)


def test_step_loss_needs_a_compiled_loss():
    model = models.regression((8,), seed=0)
    losses = diagnostics.StepLoss()
    losses.set_model(model)
    with pytest.raises(ValueError, match=r"`model` must be compiled with a loss.*Received: model="):
        losses.on_train_begin()


def test_monitor_bundles_the_four_recorders_and_draws_them(digits, probe):
    import matplotlib

    matplotlib.use("Agg")
    model = models.deep_mlp(3, 16, "tanh", init="xavier_normal", input_shape=(8, 8, 1), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    monitor = diagnostics.Monitor(*probe, every=2)
    model.fit(digits.x_train[:192], digits.y_train[:192], batch_size=32, epochs=1, verbose=0,
              callbacks=[monitor])
    frames = monitor.frames()
    assert set(frames) == {"loss", "gradients", "activations", "updates"}
    assert list(frames["loss"].step) == list(range(1, 7))
    assert sorted(frames["gradients"].step.unique()) == [0, 2, 4, 6]
    assert sorted(frames["updates"].step.unique()) == [2, 4, 6]
    assert (frames["updates"].ratio > 0).all()
    assert list(frames["activations"].layer.unique()) == ["hidden_1", "hidden_2", "hidden_3", "output"]
    # its gradient probe is GradientNorms's: the last record equals a fresh one-off measurement
    last = frames["gradients"].query("step == 6").set_index("layer")["norm"]
    fresh = diagnostics.gradient_norms(model, *probe).set_index("layer")["norm"]
    np.testing.assert_allclose(last, fresh[last.index], rtol=1e-4)
    fig = monitor.plot(title="test")
    assert len(fig.axes) == 4
    assert fig.axes[1].get_yscale() == "log" and fig.axes[3].get_yscale() == "log"
    assert len(fig.axes[1].lines) == 4  # one per layer with a kernel


# -------------------------------------------------------------------- tensorboard


def test_read_histograms_reads_what_kerass_tensorboard_wrote(tmp_path, digits):
    import matplotlib

    matplotlib.use("Agg")
    model = models.mlp((8, 8, 1), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    model.fit(digits.x_train[:128], digits.y_train[:128], batch_size=64, epochs=2, verbose=0,
              validation_data=(digits.x_val[:64], digits.y_val[:64]),
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)])
    frame = diagnostics.read_histograms(tmp_path)
    assert list(frame.columns) == ["run", "tag", "step", "left", "right", "count"]
    assert set(frame.run) == {"train"}
    tag = "mlp/hidden_1/kernel/histogram"  # Keras names them by the weight's path
    assert tag in set(frame.tag)
    assert sorted(frame.step.unique()) == [0, 1]
    kernel = frame[(frame.tag == tag) & (frame.step == 1)]
    weights = keras.ops.convert_to_numpy(model.get_layer("hidden_1").kernel)
    # every weight in one bucket, and the buckets span the weights' range exactly
    assert kernel["count"].sum() == weights.size
    assert kernel["left"].iloc[0] == pytest.approx(weights.min(), rel=1e-6)
    assert kernel["right"].iloc[-1] == pytest.approx(weights.max(), rel=1e-6)
    ax = diagnostics.plot_histograms(frame, tag)
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match=r"`tag` must be one of .*Received: tag='nope'"):
        diagnostics.plot_histograms(frame, "nope")


def test_read_histograms_wants_event_files(tmp_path):
    with pytest.raises(ValueError, match=r"`log_dir` must be a folder holding TensorBoard event files"):
        diagnostics.read_histograms(tmp_path)


def test_monitor_update_ratios_are_those_of_single_steps(digits, probe):
    x, y = digits.x_train[:96], digits.y_train[:96]
    model = models.deep_mlp(2, 8, "tanh", init="xavier_normal", input_shape=(8, 8, 1), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    weights = []

    class Keep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            weights.append(keras.ops.convert_to_numpy(self.model.get_layer("hidden_1").kernel))

    monitor = diagnostics.Monitor(*probe, every=3)
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[Keep(), monitor])
    frame = monitor.frames()["updates"].query("layer == 'hidden_1'")
    assert list(frame.step) == [3, 6]
    for step, ratio in zip(frame.step, frame.ratio):  # weights[k] is after step k + 1
        expected = np.linalg.norm(weights[step - 1] - weights[step - 2]) / np.linalg.norm(weights[step - 2])
        assert ratio == pytest.approx(expected, rel=1e-5)
