"""Tests of nntrain.initializers: statistics against theory, parity with Keras, seeds,
serialization, use in layers, weight selection and bad input. Runs on TF and JAX."""

import math

import nntrain  # first: it quiets TensorFlow's start-up logs before Keras imports it
import keras
import numpy as np
import pytest

from nntrain import initializers as nti

DENSE = (784, 256)
CONV = (3, 3, 64, 128)
SHAPES = [DENSE, CONV]
SEED = 7
# Under JAX every new tensor shape costs a compilation (about half a second), so the
# tests reuse these two shapes (and a few small model shapes) wherever they can.

# The rule of every preset: (variance as a function of fan_in and fan_out, distribution).
PRESETS = {
    "xavier_uniform": (lambda fi, fo: 2.0 / (fi + fo), "uniform"),
    "xavier_normal": (lambda fi, fo: 2.0 / (fi + fo), "normal"),
    "he_uniform": (lambda fi, fo: 2.0 / fi, "uniform"),
    "he_normal": (lambda fi, fo: 2.0 / fi, "normal"),
    "lecun_uniform": (lambda fi, fo: 1.0 / fi, "uniform"),
    "lecun_normal": (lambda fi, fo: 1.0 / fi, "normal"),
}
RANDOM_NAMES = sorted(set(nti.available()) - {"zeros", "constant", "weight_selection"})
TRUNCATED_STDDEV = 0.87962566103423978  # std of a standard normal cut to [-2, 2]


def _np(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x).astype(np.float64)


def _check_moments(w: np.ndarray, mean: float, var: float, rtol: float = 0.03):
    """Empirical mean within 5 standard errors, variance within `rtol` (relative)."""
    assert abs(w.mean() - mean) < 5 * math.sqrt(var / w.size) + 1e-12
    assert w.var() == pytest.approx(var, rel=rtol)


# --------------------------------------------------------------------- compute_fans


@pytest.mark.parametrize(
    "shape, fans",
    [
        ((), (1, 1)),
        ((10,), (10, 10)),
        ((784, 256), (784, 256)),
        ((5, 64, 128), (5 * 64, 5 * 128)),  # Conv1D
        ((3, 3, 64, 128), (9 * 64, 9 * 128)),  # Conv2D
        ((3, 3, 3, 16, 32), (27 * 16, 27 * 32)),  # Conv3D
    ],
)
def test_compute_fans(shape, fans):
    assert nti.compute_fans(shape) == fans
    assert nti.compute_fans(list(shape)) == fans


def test_compute_fans_match_keras_layers():
    layer = keras.layers.Conv2D(128, 3)
    layer.build((None, 8, 8, 64))
    assert nti.compute_fans(tuple(layer.kernel.shape)) == (576, 1152)
    dense = keras.layers.Dense(256)
    dense.build((None, 784))
    assert nti.compute_fans(tuple(dense.kernel.shape)) == (784, 256)


# ----------------------------------------------------------- statistics against theory


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_variance_and_bounds(name, shape):
    rule, distribution = PRESETS[name]
    fan_in, fan_out = nti.compute_fans(shape)
    var = rule(fan_in, fan_out)
    w = _np(nti.get(name, seed=SEED)(shape))
    assert w.shape == shape
    _check_moments(w, 0.0, var)
    extreme = np.abs(w).max()
    if distribution == "uniform":
        limit = math.sqrt(3 * var)
        assert extreme <= limit * (1 + 1e-6)
        assert extreme > 0.99 * limit  # the bound is reached, not just respected
    else:  # untruncated: a tail beyond 2 sigma exists (about 4.5% of the entries)
        assert np.mean(np.abs(w) > 2 * math.sqrt(var)) == pytest.approx(0.0455, abs=0.005)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["normal", "truncated_normal", "uniform"])
def test_variance_scaling_modes(mode, distribution):
    scale = 3.0
    fan_in, fan_out = nti.compute_fans(CONV)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    init = nti.VarianceScaling(scale, mode, distribution, seed=SEED)
    assert init.variance(CONV) == pytest.approx(scale / n)
    w = _np(init(CONV))
    _check_moments(w, 0.0, scale / n)
    if distribution == "truncated_normal":
        assert np.abs(w).max() <= 2 * math.sqrt(scale / n) / TRUNCATED_STDDEV * (1 + 1e-6)


def test_truncation_constant():
    from nntrain.initializers.variance_scaling import _TRUNCATED_STDDEV

    assert _TRUNCATED_STDDEV == pytest.approx(TRUNCATED_STDDEV, rel=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_random_normal_and_uniform(shape):
    w = _np(nti.RandomNormal(mean=0.3, stddev=0.2, seed=SEED)(shape))
    _check_moments(w, 0.3, 0.04)
    w = _np(nti.RandomUniform(-0.1, 0.3, seed=SEED)(shape))
    _check_moments(w, 0.1, 0.4**2 / 12)
    assert w.min() >= -0.1 and w.max() <= 0.3


def test_random_alias_defaults():
    init = nti.get("random", seed=SEED)
    assert isinstance(init, nti.RandomNormal) and (init.mean, init.stddev) == (0.0, 0.05)
    _check_moments(_np(init(DENSE)), 0.0, 0.05**2)


@pytest.mark.parametrize("shape", SHAPES)
def test_zeros_and_constant_exact(shape):
    assert np.array_equal(_np(nti.get("zeros")(shape)), np.zeros(shape))
    assert np.array_equal(_np(nti.get("zero")(shape)), np.zeros(shape))
    w = nti.Constant(0.25)(shape, dtype="float32")
    assert keras.backend.standardize_dtype(w.dtype) == "float32"
    assert np.array_equal(_np(w), np.full(shape, 0.25))


# One wide shape is the transpose of DENSE, so JAX compiles one QR for both.
@pytest.mark.parametrize(
    "shape, gain", [(DENSE, 1.0), (CONV, 2.0), (DENSE[::-1], 1.0), ((64, 64), 0.5)]
)
def test_orthogonal(shape, gain):
    w = _np(nti.Orthogonal(gain=gain, seed=SEED)(shape))
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=1e-4 * gain**2)


def test_orthogonal_sign_correction_makes_diag_r_positive():
    # With Q *= sign(diag(R)), the R of the returned Q's own QR has a positive diagonal
    # when re-multiplied: Q^T A = R' must have diag(R') > 0 for the Gaussian A drawn.
    a = keras.random.normal(DENSE, seed=SEED)
    q = _np(nti.Orthogonal(seed=SEED)(DENSE))
    assert np.all(np.diag(q.T @ _np(a)) > 0)


@pytest.mark.parametrize("shape, k", [(DENSE, 15), (DENSE, 100), (CONV, 100)])
def test_sparse(shape, k):
    stddev = 0.5
    w = _np(nti.Sparse(k=k, stddev=stddev, seed=SEED)(shape))
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    assert np.all(np.count_nonzero(m, axis=0) == k)  # exactly k per output unit
    # the supports are random: many different inputs are used, columns differ
    used = np.count_nonzero(m, axis=1) > 0
    assert used.sum() > 5 * k
    assert not np.array_equal(m[:, 0] != 0, m[:, 1] != 0)
    fan_in = m.shape[0]
    _check_moments(w, 0.0, k / fan_in * stddev**2, rtol=0.1 if k == 15 else 0.05)
    if k == 100:
        assert m[m != 0].var() == pytest.approx(stddev**2, rel=0.05)


# ------------------------------------------------------------------ parity with Keras

KERAS_SAME_PATH = [
    ("he_uniform", keras.initializers.HeUniform),
    ("xavier_uniform", keras.initializers.GlorotUniform),
    ("lecun_uniform", keras.initializers.LecunUniform),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, keras_cls", KERAS_SAME_PATH)
def test_uniform_presets_equal_keras(name, keras_cls, shape):
    # The same rule drawn through the same keras.random call: the same bits.
    ours = _np(nti.get(name, seed=SEED)(shape))
    theirs = _np(keras_cls(seed=SEED)(shape))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    "name, keras_cls",
    [
        ("he_normal", keras.initializers.HeNormal),
        ("xavier_normal", keras.initializers.GlorotNormal),
        ("lecun_normal", keras.initializers.LecunNormal),
    ],
)
def test_normal_presets_match_keras_variance(name, keras_cls):
    ours = nti.get(name, seed=SEED)
    theirs = _np(keras_cls(seed=SEED)(DENSE))
    # Keras truncates (and rescales), we do not: same variance, different tails.
    assert _np(ours(DENSE)).var() == pytest.approx(theirs.var(), rel=0.03)
    truncated = nti.VarianceScaling(ours.scale, ours.mode, "truncated_normal", seed=SEED)
    np.testing.assert_allclose(_np(truncated(DENSE)), theirs, rtol=1e-6, atol=1e-9)


def test_random_and_orthogonal_equal_keras():
    ki = keras.initializers
    for ours, theirs in [
        (nti.RandomNormal(0.1, 0.2, seed=SEED), ki.RandomNormal(0.1, 0.2, seed=SEED)),
        (nti.RandomUniform(-1, 2, seed=SEED), ki.RandomUniform(-1, 2, seed=SEED)),
        (nti.Orthogonal(1.5, seed=SEED), ki.Orthogonal(1.5, seed=SEED)),
    ]:
        np.testing.assert_allclose(_np(ours(CONV)), _np(theirs(CONV)), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_seed_reproducible(name):
    shape = CONV
    a = _np(nti.get(name, seed=1)(shape))
    assert np.array_equal(a, _np(nti.get(name, seed=1)(shape)))
    init = nti.get(name, seed=1)
    assert np.array_equal(_np(init(shape)), _np(init(shape)))  # int seed: same on every call
    assert not np.array_equal(a, _np(nti.get(name, seed=2)(shape)))


def test_seed_generator_advances_and_reproduces():
    init = nti.HeNormal(seed=keras.random.SeedGenerator(3))
    first, second = _np(init(CONV)), _np(init(CONV))
    assert not np.array_equal(first, second)
    again = nti.HeNormal(seed=keras.random.SeedGenerator(3))
    assert np.array_equal(first, _np(again(CONV)))


def test_unseeded_draws_a_seed():
    a, b = nti.HeNormal(), nti.HeNormal()
    assert isinstance(a.seed, int) and a.seed != b.seed
    assert np.array_equal(_np(a(CONV)), _np(a(CONV)))
    assert not np.array_equal(_np(a(CONV)), _np(b(CONV)))
    assert a.get_config() == {"seed": None}


# -------------------------------------------------------------------- serialization

INSTANCES = [
    nti.Zeros(),
    nti.Constant(0.5),
    nti.RandomNormal(0.1, 0.2, seed=3),
    nti.RandomUniform(-0.5, 0.25, seed=3),
    nti.VarianceScaling(3.0, "fan_avg", "truncated_normal", seed=3),
    nti.XavierUniform(seed=3),
    nti.XavierNormal(seed=3),
    nti.HeUniform(seed=3),
    nti.HeNormal(seed=3),
    nti.LecunUniform(seed=3),
    nti.LecunNormal(seed=3),
    nti.Orthogonal(gain=2.0, seed=3),
    nti.Sparse(k=3, stddev=0.3, seed=3),
]


@pytest.mark.parametrize(
    "init, shape",
    [(init, CONV) for init in INSTANCES]
    + [(nti.WeightSelection(np.arange(48.0).reshape(6, 8), method="first"), (4, 6))],
    ids=[type(init).__name__ for init in INSTANCES] + ["WeightSelection"],
)
def test_config_round_trips(init, shape):
    expected = _np(init(shape))
    for clone in (
        type(init).from_config(init.get_config()),
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(init)),
        nti.get(keras.saving.serialize_keras_object(init)),
        keras.initializers.get(keras.saving.serialize_keras_object(init)),
    ):
        assert type(clone) is type(init)
        assert clone.get_config() == init.get_config()
        np.testing.assert_array_equal(_np(clone(shape)), expected)


def test_get_accepts_names_aliases_dicts_instances_classes():
    for alias, name in [("glorot_uniform", "xavier_uniform"), ("glorot_normal", "xavier_normal"),
                        ("kaiming_uniform", "he_uniform"), ("kaiming_normal", "he_normal")]:
        assert type(nti.get(alias)) is type(nti.get(name))
    assert nti.available() == sorted(nti.available())
    assert {"he_normal", "orthogonal", "sparse", "zeros"} <= set(nti.available())
    init = nti.HeNormal(seed=1)
    assert nti.get(init) is init
    assert isinstance(nti.get(nti.Sparse, k=3), nti.Sparse)
    from_dict = nti.get({"class_name": "he_normal", "config": {"seed": 1}})
    assert isinstance(from_dict, nti.HeNormal) and from_dict.seed == 1
    keras_one = nti.get(keras.saving.serialize_keras_object(keras.initializers.HeNormal()))
    assert type(keras_one) is keras.initializers.HeNormal
    assert nti.get("variance_scaling", scale=2.0, distribution="uniform").scale == 2.0


def test_seed_generator_serializes():
    init = nti.HeUniform(seed=keras.random.SeedGenerator(5))
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(init))
    assert isinstance(clone.seed, keras.random.SeedGenerator)
    np.testing.assert_array_equal(_np(clone(CONV)), _np(init(CONV)))


# --------------------------------------------------------------------- inside layers


def test_usable_in_layers_and_saved_models(tmp_path):
    layer = keras.layers.Dense(256, kernel_initializer=nti.get("he_normal", seed=1))
    layer.build((None, 784))
    np.testing.assert_array_equal(_np(layer.kernel), _np(nti.HeNormal(seed=1)(DENSE)))
    clone = keras.layers.Dense.from_config(layer.get_config())
    assert isinstance(clone.kernel_initializer, nti.HeNormal)

    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(256, kernel_initializer=nti.Sparse(k=3, seed=2),
                           bias_initializer=nti.Constant(0.1)),
    ])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.layers[0].kernel_initializer, nti.Sparse)
    assert loaded.layers[0].bias_initializer.value == 0.1
    np.testing.assert_array_equal(_np(loaded.layers[0].kernel), _np(model.layers[0].kernel))
    np.testing.assert_array_equal(_np(loaded.layers[0].bias), np.full(256, 0.1, "float32"))


# ------------------------------------------------------------------- weight selection


def _uniform_idx(n_large, n_small):
    return np.round(np.linspace(0, n_large - 1, n_small)).astype(int)


def _mlp(widths, use_bias=True):
    return keras.Sequential(
        [keras.Input((20,))] + [keras.layers.Dense(w, use_bias=use_bias) for w in widths]
    )


def _cnn(channels):
    return keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(channels, 3),
        keras.layers.BatchNormalization(),  # four weights: gamma, beta, moving mean/variance
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(6),
    ])


# The large and the small architectures every selection test uses (widths 8 -> 4).
LARGE_MLP, SMALL_MLP = (8, 6), (4, 6)


def test_select_indices_by_hand():
    large = _mlp(LARGE_MLP)
    weights = large.get_weights()
    weights[:2] = [np.arange(160.0).reshape(20, 8), np.arange(8.0)]
    large.set_weights(weights)
    small = _mlp(SMALL_MLP)
    assert nti.select_weights(large, small) is small
    # round(linspace(0, 7, 4)) = round([0, 2.33, 4.67, 7]) = [0, 2, 5, 7]
    np.testing.assert_array_equal(_np(small.layers[0].bias), [0.0, 2.0, 5.0, 7.0])
    np.testing.assert_array_equal(_np(small.layers[0].kernel)[1], [8.0, 10.0, 13.0, 15.0])
    nti.select_weights(large, small, method="first")
    np.testing.assert_array_equal(_np(small.layers[0].bias), [0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize("build", [lambda: (_mlp(LARGE_MLP), _mlp(SMALL_MLP)),
                                   lambda: (_cnn(8), _cnn(4))], ids=["mlp", "cnn"])
def test_select_weights_copies_subtensors(build):
    large, small = build()
    rng = np.random.default_rng(0)
    large.set_weights([rng.normal(size=w.shape) for w in large.get_weights()])
    shapes = [w.shape for w in small.get_weights()]
    for method in ("uniform", "first"):
        assert nti.select_weights(large, small, method=method) is small
        for w_big, w_small, shape in zip(large.get_weights(), small.get_weights(), shapes):
            assert w_small.shape == shape
            if method == "uniform":
                idx = np.ix_(*[_uniform_idx(b, s) for b, s in zip(w_big.shape, shape)])
            else:
                idx = tuple(slice(0, s) for s in shape)
            np.testing.assert_array_equal(w_small, w_big[idx].astype(w_small.dtype))


def test_weight_selection_initializer():
    source = np.random.default_rng(0).normal(size=(784, 1024)).astype("float32")
    layer = keras.layers.Dense(256, kernel_initializer=nti.get("weight_selection", source=source))
    layer.build((None, 784))
    np.testing.assert_array_equal(_np(layer.kernel), source[:, _uniform_idx(1024, 256)])


# ----------------------------------------------------------------------- bad input

BAD_INPUTS = [
    (lambda: nti.compute_fans((3, -1)), "`shape`.*Received: shape=\\(3, -1\\)"),
    (lambda: nti.compute_fans(3.5), "`shape`.*Received: shape=3.5"),
    (lambda: nti.VarianceScaling(scale=0), "`scale`.*Received: scale=0"),
    (lambda: nti.VarianceScaling(scale=-1.0), "`scale`.*Received: scale=-1.0"),
    (lambda: nti.VarianceScaling(mode="fan"), "`mode`.*fan_avg.*Received: mode='fan'"),
    (lambda: nti.VarianceScaling(distribution="gauss"), "`distribution`.*Received: distribution="),
    (lambda: nti.HeNormal(seed="x"), "`seed`.*Received: seed='x'"),
    (lambda: nti.HeNormal(seed=1.5), "`seed`.*Received: seed=1.5"),
    (lambda: nti.Constant("a"), "`value`.*Received: value='a'"),
    (lambda: nti.RandomNormal(stddev=-1), "`stddev`.*Received: stddev=-1"),
    (lambda: nti.RandomNormal(mean=float("nan")), "`mean`.*Received: mean=nan"),
    (lambda: nti.RandomUniform(1, 0), "`maxval`.*Received: minval=1, maxval=0"),
    (lambda: nti.Orthogonal(gain=0), "`gain`.*Received: gain=0"),
    (lambda: nti.Orthogonal()((5,)), "`shape`.*rank 2.*Received: shape=\\(5,\\)"),
    (lambda: nti.Sparse(k=0), "`k`.*Received: k=0"),
    (lambda: nti.Sparse(k=2.5), "`k`.*Received: k=2.5"),
    (lambda: nti.Sparse(stddev=-1), "`stddev`.*Received: stddev=-1"),
    (lambda: nti.Sparse(k=10)((3, 4)), "`k`.*fan-in 3.*Received: k=10"),
    (lambda: nti.Sparse(k=1)((5,)), "`shape`.*Received: shape=\\(5,\\)"),
    (lambda: nti.get("nope"), "`identifier`.*he_normal.*Received: identifier='nope'"),
    (lambda: nti.get(42), "`identifier`.*Received: identifier=42"),
    (lambda: nti.get(None), "`identifier`.*Received: identifier=None"),
    (lambda: nti.get({"class_name": "Nope", "config": {}}), "`identifier`.*Received: identifier="),
    (lambda: nti.get(nti.HeNormal(), seed=1), "`kwargs`.*Received: kwargs=\\{'seed': 1\\}"),
    (lambda: nti.get("he_normal", scale=3), "`kwargs`.*Received: kwargs=\\{'scale': 3\\}"),
    (lambda: nti.get("weight_selection"), "`kwargs`.*source.*Received: kwargs=\\{\\}"),
    (lambda: nti.WeightSelection(np.ones((4, 4)), method="x"), "`method`.*Received: method='x'"),
    (lambda: nti.WeightSelection(np.ones((4, 4)))((5, 4)),
     "`shape`.*Received: large_shape=\\(4, 4\\), small_shape=\\(5, 4\\)"),
    (lambda: nti.select_weights(_mlp(LARGE_MLP), _mlp(SMALL_MLP), method="random"),
     "`method`.*uniform.*Received: method='random'"),
    (lambda: nti.select_weights(_mlp(LARGE_MLP), _mlp([4])),
     "same number of layers.*Received: 2 layers in large_model and 1"),
    (lambda: nti.select_weights(_mlp([8]), _mlp([4], use_bias=False)),
     "layer 0 .*same number of weights.*Received: large_shapes=\\[\\(20, 8\\), \\(8,\\)\\]"),
    (lambda: nti.select_weights(_mlp(SMALL_MLP), _mlp(LARGE_MLP)),
     "layer 0 .*kernel.*Received: large_shape=\\(20, 4\\), small_shape=\\(20, 8\\)"),
    (lambda: nti.select_weights(
        keras.Sequential([keras.Input((6, 20)), keras.layers.Conv1D(8, 3)]),
        keras.Sequential([keras.Input((6, 20)), keras.layers.Dense(8)])),
     "layer 0 .*same rank.*Received: large_shape=\\(3, 20, 8\\), small_shape=\\(20, 8\\)"),
    (lambda: nti.select_weights(_mlp([8]), keras.Sequential([keras.layers.Dense(4)])),
     "`small_model`.*built.*Received: small_model="),
    (lambda: nti.select_weights("big", _mlp([4])), "`large_model`.*Received: large_model='big'"),
]


@pytest.mark.parametrize("call, match", BAD_INPUTS, ids=[m[:40] for _, m in BAD_INPUTS])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_failed_selection_copies_nothing():
    large, small = _mlp(LARGE_MLP), _mlp([4, 8])  # layer 1 fails after layer 0 matched
    before = [w.copy() for w in small.get_weights()]
    with pytest.raises(ValueError, match="layer 1 "):
        nti.select_weights(large, small)
    for w, b in zip(small.get_weights(), before):
        np.testing.assert_array_equal(w, b)


# ------------------------------------------------------------------ docstring examples


@pytest.mark.parametrize(
    "module",
    ["", "._base", ".constant", ".fixed_scale", ".variance_scaling", ".orthogonal", ".sparse",
     ".weight_selection"],
)
def test_docstring_examples_run(module):
    import doctest
    import importlib

    mod = importlib.import_module("nntrain.initializers" + module)
    extra = {"keras": keras, "np": np, "nt": nntrain, **{k: getattr(nti, k) for k in nti.__all__}}
    result = doctest.testmod(mod, extraglobs=extra)
    assert result.attempted > 0 and result.failed == 0
