"""Tests of nntrain.schedules: parity with Keras, closed forms, optimizers, serialization."""

import math

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import ops  # noqa: E402

from nntrain import schedules as sch  # noqa: E402

KS = keras.optimizers.schedules
RTOL = 1e-6  # relative agreement asked of every parity check (float32 arithmetic)


def _at(schedule, steps):
    """Values at ``steps``, one scalar call per step: the path an optimizer takes."""
    return np.array([float(ops.convert_to_numpy(schedule(int(t)))) for t in steps])


def _vectorized(schedule, steps):
    """Values at ``steps`` in one call on a vector of steps (how `plot` computes them)."""
    t = ops.convert_to_tensor(np.asarray(steps))
    try:
        return np.asarray(ops.convert_to_numpy(schedule(t)))
    except Exception:  # Keras's warm-up CosineDecay branches with ops.cond on a scalar step
        return np.asarray(ops.convert_to_numpy(ops.vectorized_map(schedule, t)))


def _steps(*boundaries):
    """0, 1, 2, every boundary and its neighbours, and steps far beyond the last one."""
    out = {0, 1, 2, 7}
    for b in boundaries:
        out |= {b - 1, b, b + 1, 2 * b + 3}
    last = max(boundaries)
    out |= {10 * last, 100 * last + 17, 100_000}
    return sorted(t for t in out if t >= 0)


def _assert_parity(ours, theirs, steps):
    # Vector against vector and scalar against scalar: XLA's vector kernels for pow and cos
    # round differently from its scalar ones (by ~1e-6 relative on JAX), so like meets like.
    np.testing.assert_allclose(_vectorized(ours, steps), _vectorized(theirs, steps),
                               rtol=RTOL, atol=0)
    # A few scalar calls only: Keras's ops.cond costs ~0.1 s per eager call on JAX.
    few = [0, steps[len(steps) // 2], steps[-1]]
    np.testing.assert_allclose(_at(ours, few), _at(theirs, few), rtol=RTOL, atol=0)


# --------------------------------------------------------------------------- parity with Keras
@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("decay_steps, decay_rate", [(10, 0.5), (7, 0.96), (100, 1.5)])
def test_exponential_decay_matches_keras(decay_steps, decay_rate, staircase):
    args = dict(initial_learning_rate=0.1, decay_steps=decay_steps, decay_rate=decay_rate,
                staircase=staircase)
    steps = _steps(decay_steps, 3 * decay_steps)
    if decay_rate > 1:  # growth: keep the values finite in float32
        steps = [t for t in steps if t <= 1000]
    _assert_parity(sch.ExponentialDecay(**args), KS.ExponentialDecay(**args), steps)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("decay_steps", [10, 1000])
def test_cosine_decay_matches_keras(decay_steps, alpha):
    args = dict(initial_learning_rate=0.05, decay_steps=decay_steps, alpha=alpha)
    steps = _steps(decay_steps // 2, decay_steps)
    _assert_parity(sch.CosineDecay(**args), KS.CosineDecay(**args), steps)


@pytest.mark.parametrize("end", [0.0, 0.001])
@pytest.mark.parametrize("decay_steps", [10, 333])
def test_linear_decay_matches_polynomial_power_one(decay_steps, end):
    ours = sch.LinearDecay(0.1, decay_steps, end_learning_rate=end)
    theirs = KS.PolynomialDecay(0.1, decay_steps, end_learning_rate=end, power=1.0)
    _assert_parity(ours, theirs, _steps(decay_steps // 3, decay_steps))


@pytest.mark.parametrize(
    "first, t_mul, m_mul, alpha",
    [(10, 2.0, 1.0, 0.0), (10, 1.0, 1.0, 0.0), (7, 1.5, 0.8, 0.1), (20, 3.0, 0.5, 0.05)],
)
def test_cosine_restarts_match_keras(first, t_mul, m_mul, alpha):
    args = dict(initial_learning_rate=0.1, first_decay_steps=first, t_mul=t_mul, m_mul=m_mul,
                alpha=alpha)
    # Restart boundaries: T_0 (1 + t_mul + ... + t_mul^(k-1)).
    restarts = [round(first * sum(t_mul**j for j in range(k))) for k in range(1, 5)]
    _assert_parity(sch.CosineRestarts(**args), KS.CosineDecayRestarts(**args), _steps(*restarts))


def test_cosine_restarts_restart_at_the_period_boundaries():
    s = sch.CosineRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    # Restarts at 10 and 30 with peaks 0.5 and 0.25; half-way through period 1 (length 20).
    np.testing.assert_allclose(_at(s, [0, 10, 20, 30]), [1.0, 0.5, 0.25, 0.25], rtol=RTOL)


@pytest.mark.parametrize("alpha", [0.0, 0.2])
@pytest.mark.parametrize("initial", [0.0, 0.01])
def test_linear_warmup_of_cosine_matches_keras_cosine_warmup(initial, alpha):
    warmup, decay = 20, 100
    ours = sch.LinearWarmup(sch.CosineDecay(0.1, decay, alpha=alpha), warmup, initial=initial)
    theirs = KS.CosineDecay(initial, decay, alpha=alpha, warmup_target=0.1, warmup_steps=warmup)
    _assert_parity(ours, theirs, _steps(warmup // 2, warmup, warmup + decay))


# --------------------------------------------------------------------------- closed forms
def test_step_decay_closed_form_at_boundaries():
    s = sch.StepDecay(0.2, drop=0.5, step_size=10)
    steps = [0, 1, 9, 10, 11, 19, 20, 29, 30, 99, 100, 1000]
    expected = [0.2 * 0.5 ** math.floor(t / 10) for t in steps]
    np.testing.assert_allclose(_at(s, steps), expected, rtol=RTOL)
    np.testing.assert_allclose(_vectorized(s, steps), expected, rtol=RTOL)
    assert float(ops.convert_to_numpy(sch.StepDecay(0.2, drop=1.0, step_size=3)(50))) == \
        pytest.approx(0.2, rel=RTOL)


def test_linear_warmup_values():
    inner = sch.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    s = sch.LinearWarmup(inner, warmup_steps=100, initial=0.02)
    got = _at(s, [0, 50, 99, 100, 110, 130])
    expected = [
        0.02,  # step 0: the initial rate
        0.02 + (0.1 - 0.02) * 50 / 100,  # mid-warm-up: half-way up the ramp
        0.02 + (0.1 - 0.02) * 99 / 100,
        0.1,  # end of warm-up: the wrapped schedule at its step 0 (offset by W)
        0.05,  # then the wrapped schedule continues at step t - W
        0.1 * 0.5**3,
    ]
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_linear_warmup_of_a_constant_and_without_warmup():
    np.testing.assert_allclose(
        _at(sch.LinearWarmup(0.3, warmup_steps=4), [0, 1, 2, 4, 1000]),
        [0.0, 0.075, 0.15, 0.3, 0.3], rtol=RTOL,
    )
    inner = sch.CosineDecay(0.1, 50)
    steps = [0, 10, 50, 90]
    np.testing.assert_allclose(_at(sch.LinearWarmup(inner, 0), steps), _at(inner, steps),
                               rtol=RTOL)


# --------------------------------------------------------------------------- inside Keras
ALL = {
    "step": lambda: sch.StepDecay(0.1, drop=0.5, step_size=3),
    "exponential": lambda: sch.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.7, staircase=True),
    "cosine": lambda: sch.CosineDecay(0.1, decay_steps=8, alpha=0.1),
    "linear": lambda: sch.LinearDecay(0.1, decay_steps=8, end_learning_rate=0.01),
    "warmup": lambda: sch.LinearWarmup(sch.CosineRestarts(0.1, 3, t_mul=2.0), warmup_steps=4),
    "restarts": lambda: sch.CosineRestarts(0.1, first_decay_steps=3, t_mul=1.5, m_mul=0.9),
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_sgd_uses_the_schedule(name):
    schedule, n = ALL[name](), 12
    opt = keras.optimizers.SGD(learning_rate=schedule)
    w = keras.Variable(0.0)
    moves = []
    for _ in range(n):
        before = float(ops.convert_to_numpy(w))
        opt.apply([ops.ones(())], [w])  # gradient 1: the step moves w by exactly -lr
        moves.append(before - float(ops.convert_to_numpy(w)))
    np.testing.assert_allclose(moves, _at(schedule, range(n)), rtol=1e-5)
    assert float(ops.convert_to_numpy(opt.learning_rate)) == pytest.approx(
        float(ops.convert_to_numpy(schedule(n))), rel=RTOL
    )


@pytest.mark.parametrize("name", ["warmup", "step"])
def test_schedule_inside_a_compiled_train_step(name):
    """model.fit traces the train step (tf.function / jax.jit): no Python branching on t."""
    schedule, n = ALL[name](), 10
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False,
                                                                   kernel_initializer="zeros")])
    # loss = mean(w * 1): its gradient is 1, so after n steps w = -(lr_0 + ... + lr_{n-1}).
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss=lambda y, p: ops.mean(p))
    model.fit(np.ones((n, 1), "float32"), np.zeros((n, 1), "float32"), batch_size=1,
              epochs=1, shuffle=False, verbose=0)
    w = float(ops.convert_to_numpy(model.layers[0].kernel)[0, 0])
    assert w == pytest.approx(-_at(schedule, range(n)).sum(), rel=1e-5)


# --------------------------------------------------------------------------- serialization
@pytest.mark.parametrize("name", sorted(ALL))
def test_config_and_serialization_round_trips(name):
    schedule = ALL[name]()
    steps = [0, 1, 5, 9, 40]
    expected = _at(schedule, steps)
    copy = type(schedule).from_config(schedule.get_config())
    assert copy.get_config() == schedule.get_config()
    np.testing.assert_allclose(_at(copy, steps), expected, rtol=RTOL)

    config = keras.saving.serialize_keras_object(schedule)
    assert config["registered_name"] == f"nntrain>{type(schedule).__name__}"
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(schedule)
    np.testing.assert_allclose(_at(restored, steps), expected, rtol=RTOL)

    opt = keras.optimizers.SGD.from_config(keras.optimizers.SGD(schedule).get_config())
    assert type(opt._learning_rate) is type(schedule)


def test_warmup_serializes_a_wrapped_keras_schedule():
    s = sch.LinearWarmup(KS.ExponentialDecay(0.1, 10, 0.5), warmup_steps=5, initial=0.01)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(s))
    assert isinstance(restored.schedule_or_float, KS.ExponentialDecay)
    np.testing.assert_allclose(_at(restored, [0, 3, 5, 25]), _at(s, [0, 3, 5, 25]), rtol=RTOL)


# --------------------------------------------------------------------------- plot
def test_plot_returns_axes_with_one_point_per_step():
    s = sch.CosineRestarts(0.1, first_decay_steps=10)
    ax = sch.plot(s, 75)
    assert isinstance(ax, matplotlib.axes.Axes)
    x, y = ax.lines[-1].get_xdata(), ax.lines[-1].get_ydata()
    assert len(x) == len(y) == 75
    np.testing.assert_allclose(y, _vectorized(s, range(75)), rtol=RTOL)
    np.testing.assert_allclose(y[[0, 9, 10, 30]], [0.1, 0.1 * 0.5 * (1 + math.cos(math.pi * 0.9)),
                                                   0.1, 0.1], rtol=1e-5)
    # The method delegates to the function and draws on a given Axes.
    assert s.plot(30, ax=ax) is ax and len(ax.lines) == 2 and len(ax.lines[-1].get_xdata()) == 30
    plt.close("all")


def test_plot_keras_schedules_including_scalar_only_ones():
    _, ax = plt.subplots()
    warm = KS.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=5)  # uses ops.cond
    sch.plot(KS.ExponentialDecay(0.1, 10, 0.5), 40, ax=ax, label="exponential")
    sch.plot(warm, 40, ax=ax, label="warm-up cosine")
    assert [len(line.get_xdata()) for line in ax.lines] == [40, 40]
    np.testing.assert_allclose(ax.lines[1].get_ydata()[[0, 3, 5, 15, 30]],
                               _at(warm, [0, 3, 5, 15, 30]), rtol=1e-5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exponential", "warm-up cosine"]
    plt.close("all")


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: sch.StepDecay(0.0, 0.5, 10), r"initial_learning_rate=0\.0"),
        (lambda: sch.StepDecay(-1, 0.5, 10), r"Received: initial_learning_rate=-1"),
        (lambda: sch.StepDecay(0.1, 0.0, 10), r"\(0, 1\]. Received: drop=0\.0"),
        (lambda: sch.StepDecay(0.1, 1.5, 10), r"Received: drop=1\.5"),
        (lambda: sch.StepDecay(0.1, 0.5, 0), r"Received: step_size=0"),
        (lambda: sch.ExponentialDecay(0.1, 0, 0.5), r"positive whole number of steps. Received: decay_steps=0"),
        (lambda: sch.ExponentialDecay(0.1, 10, 0.0), r"Received: decay_rate=0\.0"),
        (lambda: sch.ExponentialDecay(0.1, 10, -0.5), r"Received: decay_rate=-0\.5"),
        (lambda: sch.ExponentialDecay(0.1, 10, 0.5, staircase="yes"), r"staircase='yes'"),
        (lambda: sch.CosineDecay(0.1, -5), r"Received: decay_steps=-5"),
        (lambda: sch.CosineDecay(0.1, 10, alpha=1.5), r"\[0, 1\]. Received: alpha=1\.5"),
        (lambda: sch.CosineDecay(0.1, 10, alpha=-0.1), r"Received: alpha=-0\.1"),
        (lambda: sch.CosineDecay("0.1", 10), r"Received: initial_learning_rate='0\.1'"),
        (lambda: sch.LinearDecay(0.1, 0), r"Received: decay_steps=0"),
        (lambda: sch.LinearDecay(0.1, 10, end_learning_rate=-0.01), r"end_learning_rate=-0\.01"),
        (lambda: sch.LinearWarmup(0.1, -1), r"non-negative whole number of steps. Received: warmup_steps=-1"),
        (lambda: sch.LinearWarmup(-0.1, 10), r"Received: schedule_or_float=-0\.1"),
        (lambda: sch.LinearWarmup("cosine", 10), r"Received: schedule_or_float='cosine'"),
        (lambda: sch.LinearWarmup(0.1, 10, initial=-1.0), r"Received: initial=-1\.0"),
        (lambda: sch.CosineRestarts(0.0, 10), r"Received: initial_learning_rate=0\.0"),
        (lambda: sch.CosineRestarts(0.1, 0), r"Received: first_decay_steps=0"),
        (lambda: sch.CosineRestarts(0.1, 10, t_mul=0.5), r">= 1. Received: t_mul=0\.5"),
        (lambda: sch.CosineRestarts(0.1, 10, m_mul=0.0), r"Received: m_mul=0\.0"),
        (lambda: sch.CosineRestarts(0.1, 10, alpha=2), r"Received: alpha=2"),
        (lambda: sch.plot(sch.CosineDecay(0.1, 10), 0), r"positive integer. Received: steps=0"),
        (lambda: sch.plot(sch.CosineDecay(0.1, 10), 2.5), r"Received: steps=2\.5"),
        (lambda: sch.plot(0.1, 10), r"Received: schedule=0\.1"),
    ],
)
def test_bad_input_raises(make, match):
    with pytest.raises(ValueError, match=match):
        make()
