import numpy as np
import pytest

from nntrain import descent


def _problem(n=200, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    theta = rng.normal(size=d + 1)
    y = x @ theta[:-1] + theta[-1] + 0.1 * rng.normal(size=n)
    return x, y


def test_linear_mse_gradient_matches_central_differences():
    x, y = _problem()
    params = np.random.default_rng(1).normal(size=4)
    _, grad = descent.linear_mse(params, x, y)
    h = 1e-6
    numeric = np.array([
        (descent.linear_mse(params + h * e, x, y)[0] - descent.linear_mse(params - h * e, x, y)[0]) / (2 * h)
        for e in np.eye(4)
    ])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_full_batch_descent_reaches_least_squares():
    x, y = _problem()
    run = descent.minimize(descent.linear_mse, np.zeros(4), x, y, learning_rate=0.1, epochs=300)
    exact, *_ = np.linalg.lstsq(np.c_[x, np.ones(len(y))], y, rcond=None)
    np.testing.assert_allclose(run.params, exact, atol=1e-6)
    assert len(run.history) == 301 and run.path.shape == (301, 4)
    assert (np.diff(run.history["loss"]) <= 1e-12).all()
    assert run.history["examples"].iloc[-1] == 300 * len(y)


def test_minibatch_steps_and_bookkeeping():
    x, y = _problem(n=100)
    run = descent.minimize(descent.linear_mse, np.zeros(4), x, y, learning_rate=0.05, epochs=2, batch_size=32)
    # 100 examples in batches of 32: 4 steps per epoch (the last one of 4 examples)
    assert run.history["step"].iloc[-1] == 8
    assert run.history.groupby("epoch").size().to_dict() == {0: 1, 1: 4, 2: 4}
    assert run.history["examples"].iloc[-1] == 200
    np.testing.assert_array_equal(run.path[-1], run.params)


def test_same_seed_same_path_and_different_seed_different_path():
    x, y = _problem()
    kw = dict(learning_rate=0.05, epochs=2, batch_size=16)
    a = descent.minimize(descent.linear_mse, np.zeros(4), x, y, seed=3, **kw)
    b = descent.minimize(descent.linear_mse, np.zeros(4), x, y, seed=3, **kw)
    c = descent.minimize(descent.linear_mse, np.zeros(4), x, y, seed=4, **kw)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.array_equal(a.path, c.path)


def test_divergence_is_reported_with_its_step_not_raised():
    x, y = _problem()
    with np.errstate(all="raise"):  # no floating-point warning may escape either
        run = descent.minimize(descent.linear_mse, np.zeros(4), x, y, learning_rate=5.0, epochs=5000)
    assert run.diverged
    assert 1 <= run.diverged_step < 5000
    assert run.history["step"].iloc[-1] == run.diverged_step
    assert not np.isfinite(run.final_loss) or not np.all(np.isfinite(run.params))


def test_params0_is_not_modified():
    x, y = _problem()
    start = np.zeros(4)
    descent.minimize(descent.linear_mse, start, x, y, learning_rate=0.1, epochs=3)
    np.testing.assert_array_equal(start, np.zeros(4))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(learning_rate=0.0), "`learning_rate` must be a positive number. Received: learning_rate=0.0"),
        (dict(learning_rate=-1.0), "Received: learning_rate=-1.0"),
        (dict(learning_rate=float("nan")), "Received: learning_rate=nan"),
        (dict(learning_rate=0.1, epochs=0), "`epochs` must be an integer >= 1. Received: epochs=0"),
        (dict(learning_rate=0.1, batch_size=0), r"`batch_size` must be None or an integer in \[1, 200\]. Received: batch_size=0"),
        (dict(learning_rate=0.1, batch_size=201), "Received: batch_size=201"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, message):
    x, y = _problem()
    with pytest.raises(ValueError, match=message):
        descent.minimize(descent.linear_mse, np.zeros(4), x, y, **kwargs)


def test_mismatched_lengths_are_a_clear_error():
    x, y = _problem()
    with pytest.raises(ValueError, match=r"`y` must be an array with one row per example of `x` \(200\)\. Received: y=<ndarray of shape \(199,\)>"):
        descent.minimize(descent.linear_mse, np.zeros(4), x, y[:-1], learning_rate=0.1)
