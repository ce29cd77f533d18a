r"""Probes of what optimizers are given and what they do with it.

* :func:`gradient_alignment`: how well mini-batch gradients point along the full gradient;
* :func:`updates`: the step an optimizer takes for each gradient of a given stream;
* :func:`train_steps`: a model trained on given mini-batches in order, so that two
  optimizers (ours and Keras's, say) can be compared weight for weight.

:func:`updates` and :func:`train_steps` take thousands of tiny steps, where eager Keras
costs milliseconds per step. They compile one step (``tf.function`` without AutoGraph under
TensorFlow, ``jax.jit`` of ``stateless_apply`` under JAX) and call it once per step, which
costs tens of microseconds; other backends run eagerly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import pandas as pd
from keras import ops

from .. import _checks
from ..diagnostics import gradients as _gradients
from .._checks import is_int as _is_int

__all__ = ["gradient_alignment", "train_steps", "updates"]


def gradient_alignment(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    batch_sizes: Sequence[int],
    draws: int = 50,
    seed: int = 0,
    loss: str | keras.losses.Loss | None = None,
) -> pd.DataFrame:
    r"""How well mini-batch gradients point along the full gradient.

    For each batch size :math:`B`, ``draws`` batches are drawn without replacement from
    ``(x, y)``; each batch gradient :math:`g_B` is compared with the full gradient
    :math:`g = \nabla L` on all of ``(x, y)`` by their cosine (all trainable variables
    flattened into one vector):

    .. math::

        \cos(g_B, g) = \frac{g_B^\top g}{\lVert g_B \rVert \, \lVert g \rVert}

    A negative cosine means a step against :math:`g_B` *raises* the full loss, to first
    order. The size of the noise relative to the signal is
    :math:`\lVert g_B - g \rVert / \lVert g \rVert`. The model is not changed.

    Args:
        model: a built Keras model.
        x, y: the examples that define the full loss (e.g. the training split).
        batch_sizes: batch sizes, each between 1 and ``len(x)``.
        draws: batches per size.
        seed: the seed of the draws.
        loss: as for :func:`nntrain.diagnostics.gradients` (``None``: the model's loss,
            or a default from the targets' type).

    Returns:
        A frame with ``batch_size``, ``draw``, ``cosine`` and ``noise`` (the relative
        error), one row per batch.

    Example:
        >>> frame = gradient_alignment(model, x, y, batch_sizes=[1, 32], draws=20)
        >>> frame.groupby("batch_size")["cosine"].median()
    """
    _checks.instance("model", model, keras.Model, "a built keras.Model")
    x, y = _checks.examples(x, y)
    n = len(x)
    batch_sizes = _checks.sequence(
        "batch_sizes", batch_sizes, lambda b: _is_int(b) and 1 <= b <= n,
        accepted=f"a non-empty list of integers between 1 and len(x)={n}")
    _checks.integer("draws", draws, minimum=1)
    _checks.seed("seed", seed)
    full = _flat(_gradients(model, x, y, loss))
    rng = np.random.default_rng(seed)
    rows = []
    for b in batch_sizes:
        for draw in range(draws):
            idx = rng.choice(n, size=int(b), replace=False)
            g = _flat(_gradients(model, x[idx], y[idx], loss))
            cosine = g @ full / (np.linalg.norm(g) * np.linalg.norm(full))
            noise = np.linalg.norm(g - full) / np.linalg.norm(full)
            rows.append({"batch_size": int(b), "draw": draw, "cosine": float(cosine),
                         "noise": float(noise)})
    return pd.DataFrame(rows)


def updates(optimizer: keras.optimizers.Optimizer, gradients: np.ndarray) -> np.ndarray:
    r"""The steps :math:`\Delta\theta_t` an optimizer takes for a given stream of gradients.

    A fresh copy of ``optimizer`` (from its config; the one passed in is not changed)
    receives ``gradients[t]`` at step :math:`t` and returns the change
    :math:`\Delta\theta_t = \theta_{t+1} - \theta_t` it makes. The step is measured from
    :math:`\theta_t = 0` each time, which is exact for every optimizer whose update does not
    depend on the parameters' values (all of :mod:`nntrain.optimizers` and Keras's, without
    weight decay) and free of the rounding of a growing :math:`\theta`. Dividing by
    :math:`-g_t` gives each coordinate's *effective learning rate*, the :math:`\eta` that
    plain gradient descent would need to take the same step.

    Args:
        optimizer: a ``keras.optimizers.Optimizer`` (nntrain's or Keras's). With
            per-member hyperparameters (e.g. ``Momentum(0.1, momentum=[0.5, 0.9])``) the
            gradients' second axis is the member axis.
        gradients: an array of shape ``(steps, ...)``: the gradient of every step.

    Returns:
        The steps, a float64 array of the shape of ``gradients``.

    Example:
        >>> g = np.ones((3, 1))
        >>> updates(nt.optimizers.Momentum(0.1, momentum=0.5), g)[:, 0].round(3)
        array([-0.1  , -0.15 , -0.175])
    """
    _checks.instance("optimizer", optimizer, keras.optimizers.Optimizer, "a keras.optimizers.Optimizer")
    stream = _checks.array("gradients", gradients, ndim=range(2, 33), dtype=keras.config.floatx(),
                           accepted="a finite array of shape (steps, ...) with at least one step")
    if optimizer.get_config().get("weight_decay"):
        _checks.fail("optimizer", "an optimizer without weight decay (its step would depend on "
                     "the parameters)", optimizer,
                     shown=f"<{type(optimizer).__name__} with weight_decay={optimizer.get_config()['weight_decay']}>")
    optimizer = type(optimizer).from_config(optimizer.get_config())
    theta = keras.Variable(np.zeros(stream.shape[1:], dtype=stream.dtype), name="theta")
    optimizer.build([theta])
    step = _stream_step(optimizer, theta)
    return np.stack([step(g) for g in stream]).astype(np.float64)


def train_steps(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int = 32,
    loss: str | keras.losses.Loss = "mean_squared_error",
) -> np.ndarray:
    r"""Train ``model`` in place on the mini-batches of ``(x, y)``, in order, once.

    Step :math:`t` takes the batch ``x[t * batch_size:(t + 1) * batch_size]`` (the last may
    be smaller), computes the gradient of the mean loss and applies ``optimizer``: exactly
    what ``model.fit(x, y, batch_size, shuffle=False, epochs=1)`` does, without Keras's
    per-call overhead, so that two optimizers can be compared on identical batches.

    .. math::

        g_t = \nabla_\theta \frac{1}{|B_t|} \sum_{i \in B_t} \ell(f_\theta(x_i), y_i),
        \qquad (\theta, s) \leftarrow U(\theta, s, g_t)

    Args:
        model: a built Keras model (uncompiled is fine); its weights are changed.
        optimizer: a fresh ``keras.optimizers.Optimizer`` (it is built on the model's
            trainable variables).
        x, y: the training examples, in the order they are used.
        batch_size: examples per step.
        loss: a Keras loss name or object, averaged over each batch.

    Returns:
        Every weight of the model after training (``model.get_weights()``), flattened into
        one float64 vector.

    Example:
        >>> w = train_steps(nt.models.regression((8,), seed=0), nt.optimizers.Adam(1e-3),
        ...                 x[:320], y[:320], batch_size=32)  # 10 steps
    """
    if not isinstance(model, keras.Model) or not model.built:
        _checks.fail("model", "a built keras.Model", model, shown=_checks.shown(model))
    if not isinstance(optimizer, keras.optimizers.Optimizer) or optimizer.built:
        _checks.fail("optimizer", "a keras.optimizers.Optimizer that has not been used yet", optimizer,
                     shown=_checks.shown(optimizer))
    _checks.integer("batch_size", batch_size, minimum=1)
    x, y = _checks.examples(x, y)
    try:
        loss_fn = keras.losses.get(loss)
    except (ValueError, TypeError):
        loss_fn = None
    if loss_fn is None:
        _checks.fail("loss", "a Keras loss name or object", loss)
    optimizer.build(model.trainable_variables)
    step, finish = _model_step(model, optimizer, loss_fn)
    for start in range(0, len(x), batch_size):
        step(x[start:start + batch_size], y[start:start + batch_size])
    finish()
    return np.concatenate([np.ravel(w) for w in model.get_weights()]).astype(np.float64)


# ----------------------------------------------------------------------------- compiled steps


def _stream_step(optimizer: keras.optimizers.Optimizer, theta: keras.Variable) -> Callable:
    """``step(g) -> change of theta`` for one gradient, compiled for the backend."""
    zeros = np.zeros(theta.shape, dtype=theta.dtype)
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        @jax.jit
        def jax_step(optimizer_values, g):
            (new,), optimizer_values = optimizer.stateless_apply(optimizer_values, [g], [zeros])
            return optimizer_values, new

        state = [v.value for v in optimizer.variables]

        def step(g):
            nonlocal state
            state, new = jax_step(state, g)
            return np.asarray(new)

        return step
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(autograph=False)
        def tf_step(g):
            theta.assign(zeros)
            optimizer.apply([g], [theta])
            return theta.value

        return lambda g: tf_step(g).numpy()

    def eager_step(g):  # other backends: plain eager Keras
        theta.assign(zeros)
        optimizer.apply([ops.convert_to_tensor(g)], [theta])
        return ops.convert_to_numpy(theta)

    return eager_step


def _model_step(model: keras.Model, optimizer, loss_fn) -> tuple[Callable, Callable]:
    """``(step(xb, yb), finish())``: one compiled training step, and a function that writes
    the final state back into the model and the optimizer (JAX keeps it outside)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def mean_loss(trainable, non_trainable, xb, yb):
            pred, non_trainable = model.stateless_call(trainable, non_trainable, xb, training=True)
            return ops.mean(loss_fn(yb, pred)), non_trainable

        @jax.jit
        def jax_step(state, xb, yb):
            trainable, non_trainable, optimizer_values = state
            grads, non_trainable = jax.grad(mean_loss, has_aux=True)(trainable, non_trainable, xb, yb)
            trainable, optimizer_values = optimizer.stateless_apply(optimizer_values, grads, trainable)
            return trainable, non_trainable, optimizer_values

        groups = (model.trainable_variables, model.non_trainable_variables, optimizer.variables)
        state = tuple([v.value for v in group] for group in groups)

        def step(xb, yb):
            nonlocal state
            state = jax_step(state, xb, yb)

        def finish():
            for group, values in zip(groups, state):
                for variable, value in zip(group, values):
                    variable.assign(value)

        return step, finish
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(autograph=False)
        def tf_step(xb, yb):
            with tf.GradientTape() as tape:
                value = ops.mean(loss_fn(yb, model(xb, training=True)))
            optimizer.apply(tape.gradient(value, model.trainable_variables), model.trainable_variables)

        return tf_step, lambda: None

    raise NotImplementedError(  # the diagnostics' gradients exist for these two backends only
        f"train_steps runs under the TensorFlow and JAX backends; the active backend is {backend!r}.")


# ----------------------------------------------------------------------------- helpers


def _flat(named: dict[str, np.ndarray]) -> np.ndarray:
    """All gradients of a ``{name: array}`` dict as one float64 vector."""
    return np.concatenate([np.ravel(v) for v in named.values()]).astype(np.float64)
