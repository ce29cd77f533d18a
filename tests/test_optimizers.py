"""Tests of nntrain.optimizers: parity with Keras's built-ins, per-member vectors, config.

Parity is the acceptance criterion: each from-scratch optimizer and its Keras twin are
applied to gradients computed the same way, 100 float32 steps, on an ill-conditioned
quadratic and on a small MLP trained with ``model.fit``; the weights must agree to 1e-5
relative. Runs under KERAS_BACKEND=tensorflow and KERAS_BACKEND=jax.
"""

import copy
import re

import keras
import numpy as np
import pytest
from keras import ops

from nntrain import optimizers as nto

STEPS = 100  # float32 steps in every parity test
RTOL = 1e-5  # relative tolerance of the parity tests (the acceptance criterion)
ATOL = 1e-7  # absolute floor for weights that pass through zero

# name -> (ours, Keras's twin, learning rate that is stable on the quadratic below)
TWINS = {
    "sgd": (nto.SGD, keras.optimizers.SGD, 0.03),
    "momentum": (nto.Momentum, lambda **kw: keras.optimizers.SGD(momentum=0.9, **kw), 0.01),
    "nesterov": (
        nto.Nesterov,
        lambda **kw: keras.optimizers.SGD(momentum=0.9, nesterov=True, **kw),
        0.01,
    ),
    "adagrad": (nto.AdaGrad, keras.optimizers.Adagrad, 0.3),
    "rmsprop": (nto.RMSProp, keras.optimizers.RMSprop, 0.01),
    "adam": (nto.Adam, keras.optimizers.Adam, 0.05),
}
NAMES = list(TWINS)

# f(w) = 0.5 w^T A w - b^T w with A = Q diag(eigenvalues) Q^T, condition number 100.
_rng = np.random.default_rng(0)
_Q, _ = np.linalg.qr(_rng.normal(size=(4, 4)))
A = (_Q * np.array([0.5, 2.0, 10.0, 50.0])) @ _Q.T
B = _rng.normal(size=4)
W0 = _rng.normal(size=4)


def _quadratic(optimizer, steps=STEPS):
    """Minimise the quadratic from W0 with ``optimizer``; return the final w."""
    a, b = ops.convert_to_tensor(A, "float32"), ops.convert_to_tensor(B, "float32")
    w = keras.Variable(W0.astype("float32"))
    for _ in range(steps):
        gradient = ops.matmul(a, w) - b  # grad f(w) = A w - b
        optimizer.apply([gradient], [w])
    return ops.convert_to_numpy(w)


def _mlp(optimizer):
    """Train Dense(16, tanh) -> Dense(3, softmax) for 100 full steps; return weights."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32 * STEPS, 5)).astype("float32")
    y = rng.integers(0, 3, size=32 * STEPS)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.set_weights(
        [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.weights]
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)  # 100 steps
    return [ops.convert_to_numpy(w) for w in model.weights]


# --- parity with Keras -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_matches_keras_on_ill_conditioned_quadratic(name):
    ours, theirs, lr = TWINS[name]
    w_ours = _quadratic(ours(learning_rate=lr))
    w_keras = _quadratic(theirs(learning_rate=lr))
    np.testing.assert_allclose(w_ours, w_keras, rtol=RTOL, atol=ATOL)
    assert not np.allclose(w_ours, W0, atol=1e-2), "the optimizer did not move w"


@pytest.mark.parametrize("name", NAMES)
def test_matches_keras_on_mlp_with_fit(name):
    ours, theirs, lr = TWINS[name]
    weights_ours = _mlp(ours(learning_rate=lr))
    weights_keras = _mlp(theirs(learning_rate=lr))
    for w_ours, w_keras in zip(weights_ours, weights_keras, strict=True):
        np.testing.assert_allclose(w_ours, w_keras, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", NAMES)
def test_schedule_as_learning_rate_matches_keras(name):
    ours, theirs, lr = TWINS[name]

    def schedule():  # halves the rate every 10 steps
        return keras.optimizers.schedules.ExponentialDecay(lr, 10, 0.5)

    optimizer = ours(learning_rate=schedule())
    w_ours = _quadratic(optimizer, steps=50)
    w_keras = _quadratic(theirs(learning_rate=schedule()), steps=50)
    np.testing.assert_allclose(w_ours, w_keras, rtol=RTOL, atol=ATOL)
    rate_now = ops.convert_to_numpy(optimizer.learning_rate)
    np.testing.assert_allclose(rate_now, lr * 0.5**5, rtol=1e-6)  # after 50 steps


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("momentum", {"clipnorm": 0.5}),
        ("adam", {"global_clipnorm": 0.5}),
        ("adam", {"weight_decay": 0.05}),
    ],
)
def test_keras_keyword_arguments_pass_through(name, kwargs):
    ours, theirs, lr = TWINS[name]
    w_ours = _quadratic(ours(learning_rate=lr, **kwargs), steps=30)
    w_keras = _quadratic(theirs(learning_rate=lr, **kwargs), steps=30)
    np.testing.assert_allclose(w_ours, w_keras, rtol=RTOL, atol=ATOL)
    plain = _quadratic(ours(learning_rate=lr), steps=30)
    assert not np.allclose(w_ours, plain, rtol=1e-4), f"{kwargs} had no effect"


@pytest.mark.parametrize("cls", [nto.Momentum, nto.Nesterov])
def test_zero_momentum_is_sgd(cls):
    w_momentum = _quadratic(cls(learning_rate=0.03, momentum=0.0), steps=30)
    w_sgd = _quadratic(nto.SGD(learning_rate=0.03), steps=30)
    np.testing.assert_allclose(w_momentum, w_sgd, rtol=1e-7, atol=0)


def test_adam_first_step_is_learning_rate_times_sign():
    # Bias correction makes the first step lr * g / (|g| + eps / sqrt(1 - beta_2)),
    # about lr * sign(g) whatever the scale of g.
    w = keras.Variable([1.0, 1.0, 1.0])
    nto.Adam(learning_rate=0.1).apply([ops.convert_to_tensor([0.1, -3.0, 1e3])], [w])
    np.testing.assert_allclose(ops.convert_to_numpy(w), [0.9, 1.1, 0.9], rtol=1e-5)


# --- one value per member ---------------------------------------------------------------

# Three members, each hyperparameter different per member.
PER_MEMBER = {
    "sgd": {"learning_rate": [0.01, 0.03, 0.002]},
    "momentum": {"learning_rate": [0.01, 0.03, 0.002], "momentum": [0.9, 0.0, 0.5]},
    "nesterov": {"learning_rate": [0.01, 0.03, 0.002], "momentum": [0.9, 0.0, 0.5]},
    "adagrad": {
        "learning_rate": [0.3, 0.1, 0.05],
        "initial_accumulator_value": [0.1, 0.0, 2.0],
        "epsilon": [1e-7, 1e-3, 1e-5],
    },
    "rmsprop": {
        "learning_rate": [0.01, 0.03, 0.002],
        "rho": [0.9, 0.5, 0.99],
        "epsilon": [1e-7, 1e-3, 1e-5],
    },
    "adam": {
        "learning_rate": [0.05, 0.01, 0.1],
        "beta_1": [0.9, 0.0, 0.5],
        "beta_2": [0.999, 0.9, 0.5],
        "epsilon": [1e-7, 1e-3, 1e-5],
    },
}
# Per-member variable shapes: a vector, a matrix whose last axis has the length of the
# member axis (3, where a (K, 1, 1) column broadcast along the wrong axis would show),
# and a scalar (the stacked variable is then just (K,)).
MEMBER_SHAPES = [(4,), (2, 3), ()]


def _elementwise_descent(optimizer, shapes, steps=20):
    """Descend sum(d * (w - 1)^2 / 2) on variables of ``shapes``, d random in [0.1, 20].

    The gradient uses only exactly rounded arithmetic, so a member computed inside a
    stacked tensor and alone agree bit for bit (a transcendental like sin may not).
    """
    rng = np.random.default_rng(2)
    starts = [rng.normal(size=s).astype("float32") for s in shapes]
    curvatures = [rng.uniform(0.1, 20.0, size=s).astype("float32") for s in shapes]
    variables = [keras.Variable(s) for s in starts]
    for _ in range(steps):
        grads = [d * (w - 1.0) for d, w in zip(curvatures, variables)]
        optimizer.apply(grads, variables)
    return [ops.convert_to_numpy(w) for w in variables]


@pytest.mark.parametrize("name", NAMES)
def test_vector_hyperparameters_equal_separate_optimizers(name):
    ours = TWINS[name][0]
    members = len(PER_MEMBER[name]["learning_rate"])
    stacked = _elementwise_descent(
        ours(**PER_MEMBER[name]), [(members, *s) for s in MEMBER_SHAPES]
    )
    # The same start values, sliced: _elementwise_descent draws them with one seed.
    rng = np.random.default_rng(2)
    starts = [rng.normal(size=(members, *s)) for s in MEMBER_SHAPES]
    curvatures = [rng.uniform(0.1, 20.0, size=(members, *s)) for s in MEMBER_SHAPES]
    for k in range(members):
        scalars = {key: values[k] for key, values in PER_MEMBER[name].items()}
        optimizer = ours(**scalars)
        variables = [keras.Variable(s[k].astype("float32")) for s in starts]
        for _ in range(20):
            grads = [d[k].astype("float32") * (w - 1.0) for d, w in zip(curvatures, variables)]
            optimizer.apply(grads, variables)
        for w_stacked, w_alone in zip(stacked, variables):
            np.testing.assert_allclose(
                w_stacked[k], ops.convert_to_numpy(w_alone), rtol=1e-6, atol=1e-6
            )
    # The members really differ (else the test could not catch a mixed-up axis).
    assert not np.allclose(stacked[0][0], stacked[0][1], rtol=1e-3)


def test_schedule_with_scalar_learning_rate_and_vector_momentum():
    def schedule():
        return keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)

    stacked = _elementwise_descent(
        nto.Momentum(learning_rate=schedule(), momentum=[0.9, 0.0]), [(2, 3)]
    )[0]
    for k, momentum in enumerate([0.9, 0.0]):
        alone = _elementwise_descent(
            nto.Momentum(learning_rate=schedule(), momentum=momentum), [(2, 3)]
        )[0]
        np.testing.assert_allclose(stacked[k], alone[k], rtol=1e-6, atol=1e-7)


def test_vector_learning_rate_in_config_and_learning_rate_multiplier():
    optimizer = nto.SGD(learning_rate=[0.1, 0.2])
    assert optimizer.get_config()["learning_rate"] == pytest.approx([0.1, 0.2])
    # Keras's scalar `learning_rate` is a multiplier of the per-member rates (1.0).
    np.testing.assert_allclose(ops.convert_to_numpy(optimizer.learning_rate), 1.0)
    optimizer.learning_rate = 0.5  # what ReduceLROnPlateau does
    assert optimizer.get_config()["learning_rate"] == pytest.approx([0.05, 0.1])
    w = keras.Variable([[1.0], [1.0]])
    optimizer.apply([ops.ones((2, 1))], [w])
    np.testing.assert_allclose(ops.convert_to_numpy(w), [[0.95], [0.9]], rtol=1e-6)


def test_variable_without_member_axis_raises():
    optimizer = nto.Adam(beta_1=[0.9, 0.8, 0.7])
    with pytest.raises(ValueError, match=r"leading axis of length 3.*shape=\(2, 3\)"):
        optimizer.apply([ops.ones((2, 3))], [keras.Variable(np.ones((2, 3)))])
    with pytest.raises(ValueError, match=r"leading axis of length 2.*shape=\(\)"):
        nto.SGD(learning_rate=[0.1, 0.2]).build([keras.Variable(1.0)])


def test_vector_lengths_must_agree():
    pattern = r"same length.*Received: learning_rate=\[0\.1, 0\.2\], beta_1=\[0\.9, 0\.9, 0\.9\]$"
    with pytest.raises(ValueError, match=pattern):
        nto.Adam(learning_rate=[0.1, 0.2], beta_1=[0.9, 0.9, 0.9])


def test_vector_learning_rate_with_weight_decay_raises():
    pattern = r"`weight_decay` must be None.*Received: weight_decay=0\.01, learning_rate="
    with pytest.raises(ValueError, match=pattern):
        nto.SGD(learning_rate=[0.1, 0.2], weight_decay=0.01)


# --- configuration and serialization -----------------------------------------------------

CONFIGURED = [
    nto.SGD(learning_rate=0.2, clipnorm=1.0),
    nto.Momentum(learning_rate=0.02, momentum=0.5),
    nto.Nesterov(learning_rate=0.03, momentum=0.8, global_clipnorm=2.0),
    nto.AdaGrad(learning_rate=0.4, initial_accumulator_value=0.0, epsilon=1e-5),
    nto.RMSProp(learning_rate=0.003, rho=0.8, epsilon=1e-6, weight_decay=1e-4),
    nto.Adam(learning_rate=0.004, beta_1=0.8, beta_2=0.99, epsilon=1e-8),
    nto.Adam(learning_rate=[0.1, 0.2], beta_1=[0.9, 0.5], beta_2=0.99, epsilon=[1e-7, 1e-6]),
    nto.AdaGrad(learning_rate=[0.1, 0.2], initial_accumulator_value=[0.1, 1.0]),
    nto.Momentum(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)),
]


@pytest.mark.parametrize("optimizer", CONFIGURED, ids=lambda o: o.name)
def test_from_config_round_trip(optimizer):
    config = optimizer.get_config()
    clone = type(optimizer).from_config(copy.deepcopy(config))  # Keras edits it in place
    assert type(clone) is type(optimizer)
    assert clone.get_config() == config
    for value in config.values():  # vectors appear as plain lists of floats
        assert not isinstance(value, np.ndarray)


@pytest.mark.parametrize("optimizer", CONFIGURED, ids=lambda o: o.name)
def test_keras_serialization_round_trip(optimizer):
    serialized = keras.saving.serialize_keras_object(optimizer)
    assert serialized["registered_name"] == f"nntrain>{type(optimizer).__name__}"
    clone = keras.saving.deserialize_keras_object(serialized)
    assert type(clone) is type(optimizer)
    assert clone.get_config() == optimizer.get_config()


def test_clone_from_config_trains_the_same():
    optimizer = nto.Adam(learning_rate=[0.05, 0.01], beta_1=[0.9, 0.5])
    clone = nto.Adam.from_config(optimizer.get_config())
    shapes = [(2, 3)]
    np.testing.assert_array_equal(
        _elementwise_descent(optimizer, shapes, steps=5)[0],
        _elementwise_descent(clone, shapes, steps=5)[0],
    )


def test_saved_model_reloads_with_optimizer(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=nto.RMSProp(learning_rate=0.01, rho=0.8), loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.optimizer, nto.RMSProp)
    assert loaded.optimizer.rho == 0.8
    assert int(ops.convert_to_numpy(loaded.optimizer.iterations)) == 1


# --- get and available -------------------------------------------------------------------


def test_available_and_get():
    assert nto.available() == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    for name in nto.available():
        assert isinstance(nto.get(name.upper()), TWINS[name][0])
    optimizer = nto.get("momentum", learning_rate=0.2, momentum=0.5)
    assert optimizer.get_config()["learning_rate"] == pytest.approx(0.2)
    assert optimizer.momentum == 0.5
    assert nto.get(optimizer) is optimizer


def test_get_rejects_unknown_names_and_listing_valid_ones():
    names = re.escape("['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam']")
    with pytest.raises(ValueError, match=names + r".*Received: name_or_optimizer='adamw'$"):
        nto.get("adamw")
    with pytest.raises(ValueError, match="Received: name_or_optimizer=3"):
        nto.get(3)
    with pytest.raises(ValueError, match=r"only be given with an optimizer's name.*Received"):
        nto.get(nto.SGD(), learning_rate=0.1)


# --- validation ----------------------------------------------------------------------------

BAD = [
    (nto.SGD, "learning_rate", 0),
    (nto.SGD, "learning_rate", -1.0),
    (nto.SGD, "learning_rate", float("nan")),
    (nto.SGD, "learning_rate", "fast"),
    (nto.SGD, "learning_rate", None),
    (nto.SGD, "learning_rate", True),
    (nto.SGD, "learning_rate", [0.1, -0.2]),
    (nto.SGD, "learning_rate", [[0.1, 0.2]]),
    (nto.SGD, "learning_rate", []),
    (nto.Adam, "learning_rate", 0.0),
    (nto.Momentum, "momentum", 1.0),
    (nto.Momentum, "momentum", -0.1),
    (nto.Nesterov, "momentum", [0.5, 1.5]),
    (nto.RMSProp, "rho", 1.0),
    (nto.RMSProp, "rho", -0.5),
    (nto.Adam, "beta_1", 1.0),
    (nto.Adam, "beta_1", -0.1),
    (nto.Adam, "beta_2", 1.0),
    (nto.Adam, "epsilon", 0.0),
    (nto.RMSProp, "epsilon", -1e-7),
    (nto.AdaGrad, "epsilon", 0),
    (nto.AdaGrad, "initial_accumulator_value", -0.1),
]


@pytest.mark.parametrize(("cls", "name", "value"), BAD, ids=lambda x: repr(x))
def test_bad_hyperparameters_raise(cls, name, value):
    pattern = rf"^`{name}` must be .*one per member\)\. Received: {name}={re.escape(str(value))}$"
    with pytest.raises(ValueError, match=pattern):
        cls(**{name: value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (np.float32(0.5), 0.5), ((0.1, 0.2), [0.1, 0.2]), (np.array([0.3]), [0.3])],
)
def test_accepted_learning_rate_forms(value, expected):
    assert nto.SGD(learning_rate=value).get_config()["learning_rate"] == pytest.approx(expected)


def test_learning_rate_message_names_accepted_values():
    message = (
        "`learning_rate` must be a positive float or a "
        "`keras.optimizers.schedules.LearningRateSchedule`, or a 1-D list of such values "
        "(one per member). Received: learning_rate=-1"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        nto.Adam(learning_rate=-1)



def _float64_or_skip():
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX without x64 has no float64 variables")


def test_python_hyperparameters_keep_float64():
    """A Python hyperparameter reaches a float64 variable unrounded (``1 - rho`` stays 0.1).

    Casting the Python value would first make a float32 tensor under TensorFlow and give
    0.10000000149011612.
    """
    _float64_or_skip()
    from nntrain.optimizers._base import _along_members

    variable = keras.Variable(np.zeros(3), dtype="float64")
    for value in (1 - 0.9, 1 - 0.999, 1e-7, 0.9):
        got = ops.convert_to_numpy(_along_members(value, variable))
        assert got.dtype == np.float64 and float(got) == value, (value, float(got))


# Keras's SGD (momentum) and Adam (its bias corrections) cast their Python
# hyperparameters through float32 themselves, so only these three can agree in float64.
@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop"])
def test_matches_keras_in_float64(name):
    """In float64 both agree to 1e-12 relative, where a rounded ``1 - rho`` drifts by ~1e-7."""
    _float64_or_skip()
    ours, theirs, lr = TWINS[name]

    def run(optimizer):
        a, b = ops.convert_to_tensor(A, "float64"), ops.convert_to_tensor(B, "float64")
        w = keras.Variable(W0, dtype="float64")
        for _ in range(STEPS):
            optimizer.apply([ops.matmul(a, w) - b], [w])
        return ops.convert_to_numpy(w)

    w_ours, w_keras = run(ours(learning_rate=lr)), run(theirs(learning_rate=lr))
    assert w_ours.dtype == np.float64
    np.testing.assert_allclose(w_ours, w_keras, rtol=1e-12, atol=1e-14)
