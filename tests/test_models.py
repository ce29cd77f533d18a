"""Tests of nntrain.models: architectures, seeding, initializers, compile_for, bad input."""

import keras
import numpy as np
import pytest

from nntrain import initializers, models, optimizers


def _weights(model):
    return {f"{layer.name}/{v.name}": keras.ops.convert_to_numpy(v)
            for layer in model.layers for v in layer.weights}


def _kernel(model, layer):
    return keras.ops.convert_to_numpy(model.get_layer(layer).kernel)


# ------------------------------------------------------------------------------ mlp


def test_mlp_is_the_case_study_architecture():
    model = models.mlp((8, 8, 1), num_classes=10)
    assert [layer.name for layer in model.layers] == ["flatten", "hidden_1", "hidden_2", "output"]
    units = [model.get_layer(n).units for n in ("hidden_1", "hidden_2", "output")]
    activations = [model.get_layer(n).activation.__name__ for n in ("hidden_1", "hidden_2", "output")]
    assert units == [256, 128, 10]
    assert activations == ["sigmoid", "tanh", "softmax"]
    # 64*256+256 + 256*128+128 + 128*10+10
    assert model.count_params() == 50826
    assert model.compiled is False
    out = keras.ops.convert_to_numpy(model(np.random.default_rng(0).random((5, 8, 8, 1))))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_same_seed_same_weights_and_layers_get_their_own_seeds():
    a = _weights(models.deep_mlp(3, 32, input_shape=(32,), seed=7))
    b = _weights(models.deep_mlp(3, 32, input_shape=(32,), seed=7))
    c = _weights(models.deep_mlp(3, 32, input_shape=(32,), seed=8))
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["hidden_1/kernel"], c["hidden_1/kernel"])
    # three kernels of the same shape, each drawn with its own seed
    assert not np.array_equal(a["hidden_1/kernel"], a["hidden_2/kernel"])
    assert not np.array_equal(a["hidden_2/kernel"], a["hidden_3/kernel"])


def test_init_names_go_through_nntrain_initializers():
    model = models.mlp((8, 8, 1), init="he_normal", seed=0)
    kernel = _kernel(model, "hidden_1")  # 64 x 256 = 16,384 draws
    # He normal: std sqrt(2 / fan_in) (Keras truncates at 2 std and rescales to keep it)
    assert kernel.std() == pytest.approx(np.sqrt(2 / 64), rel=0.03)
    zeros = models.mlp((8, 8, 1), init="zeros")
    assert all(not _kernel(zeros, n).any() for n in ("hidden_1", "hidden_2", "output"))
    glorot = _kernel(models.mlp((8, 8, 1), init="glorot_uniform", seed=0), "hidden_1")
    limit = np.sqrt(6 / (64 + 256))
    assert glorot.max() <= limit and glorot.min() >= -limit
    assert glorot.std() == pytest.approx(limit / np.sqrt(3), rel=0.03)


def test_an_initializer_instance_is_seeded_per_layer():
    big = initializers.get("random_normal", stddev=3.0)
    a = models.deep_mlp(2, 32, init=big, input_shape=(32,), seed=1)
    b = models.deep_mlp(2, 32, init=big, input_shape=(32,), seed=1)
    np.testing.assert_array_equal(_kernel(a, "hidden_1"), _kernel(b, "hidden_1"))
    assert not np.array_equal(_kernel(a, "hidden_1"), _kernel(a, "hidden_2"))
    assert _kernel(a, "hidden_1").std() == pytest.approx(3.0, rel=0.1)  # 1,024 draws
    assert big.get_config()["seed"] is None  # the caller's object is left alone


# ------------------------------------------------------------------------------ cnn


def test_cnn_architecture():
    model = models.cnn((28, 28, 1), num_classes=10, seed=0)
    names = [layer.name for layer in model.layers]
    assert names == ["conv_1", "pool_1", "conv_2", "pool_2", "flatten", "hidden_1", "dropout", "output"]
    assert model.get_layer("conv_1").filters == 32 and model.get_layer("conv_2").filters == 64
    assert model.get_layer("conv_1").kernel_size == (3, 3)
    assert model.get_layer("dropout").rate == 0.5
    assert model.get_layer("hidden_1").units == 128
    # conv1 (3*3*1+1)*32, conv2 (3*3*32+1)*64, dense 1600*128+128, output 128*10+10
    assert model.count_params() == 320 + 18496 + 204928 + 1290
    assert model.output_shape == (None, 10)


def test_cnn_rejects_inputs_too_small_for_two_stages():
    with pytest.raises(ValueError, match="Received: input_shape=\\(8, 8, 1\\)"):
        models.cnn((8, 8, 1))


# ------------------------------------------------------------------------ regression


def test_regression_normalization_is_adapted_to_the_data():
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(500, 8)) * np.arange(1, 9) + 5.0).astype("float32")
    model = models.regression((8,), normalization_data=data, seed=0)
    assert [layer.name for layer in model.layers] == ["normalization", "hidden_1", "hidden_2", "output"]
    z = keras.ops.convert_to_numpy(model.get_layer("normalization")(data))
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-3)
    assert model.output_shape == (None, 1)


def test_regression_without_data_leaves_inputs_as_they_are():
    model = models.regression((8,))
    x = np.linspace(-3, 3, 16, dtype="float32").reshape(2, 8)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("normalization")(x)), x, rtol=1e-6)


def test_regression_rejects_data_of_the_wrong_shape():
    with pytest.raises(ValueError, match="Received: normalization_data=<ndarray of shape \\(10, 3\\)>"):
        models.regression((8,), normalization_data=np.zeros((10, 3)))


# -------------------------------------------------------------------------- deep_mlp


def test_deep_mlp_layers_are_named_per_depth():
    model = models.deep_mlp(5, 16, activation="tanh", input_shape=(8, 8, 1))
    dense = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert dense == ["hidden_1", "hidden_2", "hidden_3", "hidden_4", "hidden_5", "output"]
    assert all(model.get_layer(f"hidden_{i}").activation.__name__ == "tanh" for i in range(1, 6))


def test_deep_mlp_batch_norm_sits_between_dense_and_activation():
    model = models.deep_mlp(2, 16, activation="relu", batch_norm=True, input_shape=(8,))
    names = [layer.name for layer in model.layers]
    i = names.index("hidden_1")
    assert names[i:i + 3] == ["hidden_1", "hidden_1_bn", "hidden_1_act"]
    assert isinstance(model.get_layer("hidden_1_bn"), keras.layers.BatchNormalization)
    assert model.get_layer("hidden_1").use_bias is False
    assert model.get_layer("hidden_1").activation.__name__ == "linear"


def test_deep_mlp_residual_computes_x_plus_f_x():
    model = models.deep_mlp(2, 6, activation="tanh", residual=True, input_shape=(4,),
                            num_classes=3, seed=0)
    w = _weights(model)
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    h = x @ w["projection/kernel"] + w["projection/bias"]
    for i in (1, 2):
        h = h + np.tanh(h @ w[f"hidden_{i}/kernel"] + w[f"hidden_{i}/bias"])
    logits = h @ w["output/kernel"] + w["output/bias"]
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-5, atol=1e-6)


def test_regression_head_when_num_classes_is_none():
    model = models.deep_mlp(1, 4, input_shape=(3,), num_classes=None)
    assert model.output_shape == (None, 1)
    assert model.get_layer("output").activation.__name__ == "linear"


# ------------------------------------------------------------------------------- rnn


@pytest.mark.parametrize("cell, layer_type", [("simple", keras.layers.SimpleRNN),
                                              ("lstm", keras.layers.LSTM),
                                              ("gru", keras.layers.GRU)])
def test_rnn_cells(cell, layer_type):
    model = models.rnn(cell, units=8, input_shape=(5, 3), num_classes=4, seed=0)
    assert isinstance(model.get_layer("recurrent"), layer_type)
    assert model.output_shape == (None, 4)
    assert models.rnn(cell, units=8, input_shape=(5, 3), num_classes=None).output_shape == (None, 1)


def test_rnn_recurrent_kernel_is_orthogonal():
    model = models.rnn("simple", units=16, input_shape=(5, 3), seed=0)
    u = keras.ops.convert_to_numpy(model.get_layer("recurrent").cell.recurrent_kernel)
    np.testing.assert_allclose(u.T @ u, np.eye(16), atol=1e-5)


# --------------------------------------------------------------------------- compile


def test_compile_for_picks_loss_and_metrics_from_the_task():
    model = models.compile_for(models.mlp((8, 8, 1)), "classification", optimizer="sgd")
    assert model.loss == "sparse_categorical_crossentropy"
    assert isinstance(model.optimizer, optimizers.SGD)
    assert models.loss_and_metrics("classification") == ("sparse_categorical_crossentropy", ["accuracy"])
    assert models.loss_and_metrics("regression") == ("mean_squared_error", ["mean_absolute_error"])
    reg = models.compile_for(models.regression(), "regression", optimizer=keras.optimizers.Adam())
    assert reg.loss == "mean_squared_error"
    history = reg.fit(np.zeros((4, 8)), np.zeros(4), epochs=1, verbose=0).history
    assert set(history) == {"loss", "mean_absolute_error"}


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, match", [
    (lambda: models.deep_mlp(0, 8), "Received: depth=0"),
    (lambda: models.deep_mlp(2, 0), "Received: width=0"),
    (lambda: models.deep_mlp(2.5, 8), "Received: depth=2.5"),
    (lambda: models.deep_mlp(2, 8, activation="swishy"), "Received: activation='swishy'"),
    (lambda: models.rnn("transformer"), "Received: cell='transformer'"),
    (lambda: models.rnn("lstm", units=0), "Received: units=0"),
    (lambda: models.rnn("lstm", input_shape=(28, 28, 1)), "Received: input_shape=\\(28, 28, 1\\)"),
    (lambda: models.mlp(num_classes=1), "Received: num_classes=1"),
    (lambda: models.mlp(input_shape=()), "Received: input_shape=\\(\\)"),
    (lambda: models.mlp(seed=-1), "Received: seed=-1"),
    (lambda: models.mlp(init=3), "Received: init=3"),
    (lambda: models.mlp(init="nonsense"), "`init` must be an initializer name.*Received: init='nonsense'"),
    (lambda: models.loss_and_metrics("clustering"), "Received: task='clustering'"),
    (lambda: models.compile_for(models.mlp(), "classification", optimizer=3), "Received: optimizer=3"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
