"""One-off measurements on a probe batch: gradients, their norms, activation statistics,
the gradient with respect to the inputs, and how far back in a sequence the loss reaches."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import pandas as pd

from .. import _checks
from ._core import (
    WEIGHT_VARIABLES,
    _ACTIVATION_COLUMNS,
    _activation_rows,
    _check_variables,
    check_batch,
    check_model,
    _gradient_function,
    _loss_function,
    _norm_rows,
    _variable_names,
)


# ------------------------------------------------------------------------- one-off


def gradients(
    model: keras.Model,
    x,
    y,
    loss: str | keras.losses.Loss | Callable | None = None,
    training: bool = True,
) -> dict[str, np.ndarray]:
    r"""Gradients of the mean loss on ``(x, y)`` with respect to every trainable variable.

    .. math::

        g_\theta = \nabla_\theta \frac{1}{n} \sum_{i=1}^{n} \ell(f_\theta(x_i), y_i)

    The model's state is left untouched (see the module docstring). Regularization
    losses added by layers are not included.

    Args:
        model: a built Keras model.
        x: a batch of inputs.
        y: their targets.
        loss: a Keras loss (name, object or function). ``None`` takes the loss the model
            was compiled with, or, for an uncompiled model, sparse categorical
            cross-entropy when ``y`` holds integers and mean squared error otherwise.
        training: run the layers in training mode (batch statistics, dropout).

    Returns:
        ``{"layer/variable": gradient}`` as NumPy arrays, e.g. ``"hidden_1/kernel"``,
        in the order of ``model.trainable_variables``.

    Example:
        >>> grads = gradients(model, x[:64], y[:64])
        >>> grads["hidden_1/kernel"].shape
        (64, 256)
    """
    check_model(model)
    x, y = check_batch(x, y)
    training = _checks.boolean("training", training)
    variables = model.trainable_variables
    grads = _gradient_function(model, _loss_function(model, y, loss), training)(x, y)
    names = _variable_names(model)
    return {names[id(v)]: keras.ops.convert_to_numpy(g) for v, g in zip(variables, grads)}


def gradient_norms(
    model: keras.Model,
    x,
    y,
    loss: str | keras.losses.Loss | Callable | None = None,
    variables: Sequence[str] | None = WEIGHT_VARIABLES,
    training: bool = True,
) -> pd.DataFrame:
    r"""The L2 norm :math:`\lVert g_W \rVert_2` of the gradient of each layer's weights.

    Args:
        model, x, y, loss, training: as for :func:`gradients`.
        variables: names of the variables to report (default: kernels and recurrent
            kernels); ``None`` reports every trainable variable.

    Returns:
        A frame with columns ``layer``, ``variable``, ``norm``, one row per variable, in
        the order of the model's layers.

    Example:
        >>> gradient_norms(deep_mlp(20, 32, "sigmoid"), x, y).norm.iloc[[0, -1]]
    """
    _check_variables(variables)
    return pd.DataFrame(_norm_rows(gradients(model, x, y, loss, training), variables),
                        columns=["layer", "variable", "norm"])


def activation_stats(model: keras.Model, x, training: bool = True) -> pd.DataFrame:
    r"""Statistics of the output :math:`a = \phi(z)` of every layer with a nonlinearity.

    A layer is observed when it applies an activation other than ``linear``: an
    ``Activation`` layer, or a layer with an ``activation`` argument (``Dense``,
    ``Conv2D``, recurrent layers). A *unit* is one entry of the layer's output for one
    example (a neuron; for a convolution, one channel at one position).

    Columns:

    * ``mean``, ``std``: over all examples and units;
    * ``saturated``: the fraction of activations in the flat tails, for tanh
      :math:`|a| > 0.99` and for sigmoid :math:`a < 0.01` or :math:`a > 0.99`
      (:data:`TANH_SATURATION`, :data:`SIGMOID_SATURATION`); ``NaN`` for other activations;
    * ``zeros``: the fraction of activations exactly 0 (ReLU's inactive side);
    * ``dead``: the fraction of *units* that are 0 for every example of ``x``: a dead
      ReLU, whose gradient is 0 too, so it never learns again.

    Args:
        model: a Sequential or functional Keras model (its layers' outputs are read).
        x: a batch of inputs.
        training: run the layers in training mode (no state is changed).

    Returns:
        A frame with columns ``layer``, ``activation``, ``mean``, ``std``, ``saturated``,
        ``zeros``, ``dead``, one row per observed layer.

    Example:
        >>> activation_stats(mlp(), x_val[:256])[["layer", "saturated"]]

    References:
        Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html (saturation);
        Lu et al., 2019, https://arxiv.org/abs/1903.06733 (dying ReLU).
    """
    check_model(model)
    x = check_batch(x)
    training = _checks.boolean("training", training)
    return pd.DataFrame(_activation_rows(model, x, training),
                        columns=_ACTIVATION_COLUMNS)


# ------------------------------------------------- through time, per step, together


def input_gradients(
    model: keras.Model,
    x,
    y,
    loss: str | keras.losses.Loss | Callable | None = None,
    training: bool = True,
) -> np.ndarray:
    r"""The gradient of the mean loss on ``(x, y)`` with respect to the inputs ``x``.

    .. math::

        g_x = \nabla_x \frac{1}{n} \sum_{i=1}^{n} \ell(f_\theta(x_i), y_i)

    For a recurrent network reading :math:`x_1, \dots, x_T`, the slice :math:`g_{x_t}`
    is :math:`(\partial h_t / \partial x_t)^\top \, \partial L / \partial h_t`: how much
    the loss still feels the input of step :math:`t`, after the signal has travelled back
    through every later step. The model's state is left untouched.

    Args:
        model, x, y, loss, training: as for :func:`gradients`.

    Returns:
        A NumPy array of the shape of ``x``.

    Example:
        >>> input_gradients(nt.models.rnn("simple", input_shape=(50, 2), num_classes=None),
        ...                 x[:64], y[:64]).shape
        (64, 50, 2)
    """
    check_model(model)
    x, y = check_batch(x, y)
    training = _checks.boolean("training", training)
    loss_fn = _loss_function(model, y, loss)
    grad = _gradient_function(model, loss_fn, training, wrt="inputs")
    return np.asarray(keras.ops.convert_to_numpy(grad(np.asarray(x, "float32"), y)))


def gradient_through_time(
    model: keras.Model,
    x,
    y,
    loss: str | keras.losses.Loss | Callable | None = None,
    training: bool = True,
) -> pd.DataFrame:
    r"""The norm of the loss's gradient with respect to the input of each time step.

    .. math::

        \lVert g_{x_t} \rVert_2 = \Big( \sum_{i=1}^{n} \sum_{j}
        \big( \partial L / \partial x_{i,t,j} \big)^2 \Big)^{1/2},
        \qquad t = 1, \dots, T

    For a plain recurrent network it shrinks (or grows) geometrically as :math:`t` moves
    away from the end of the sequence: the product of Jacobians through time
    (Pascanu et al., 2013).

    Args:
        model: a model reading sequences ``(batch, timesteps, features)``.
        x: a batch of sequences.
        y, loss, training: as for :func:`gradients`.

    Returns:
        A frame with columns ``timestep`` (from 1), ``steps_to_end`` (:math:`T - t`) and
        ``norm``, one row per time step.

    Example:
        >>> gradient_through_time(model, x[:128], y[:128]).plot(x="timestep", y="norm", logy=True)

    References:
        Pascanu, Mikolov & Bengio, 2013, https://arxiv.org/abs/1211.5063
    """
    check_model(model)
    x = check_batch(x)
    if x.ndim != 3:
        _checks.fail("x", "a batch of sequences of shape (batch, timesteps, features)", x,
                     shown=_checks.shown(x))
    g = input_gradients(model, x, y, loss, training).astype(np.float64)
    norms = np.sqrt(np.sum(g ** 2, axis=(0, 2)))
    timesteps = np.arange(1, x.shape[1] + 1)
    return pd.DataFrame({"timestep": timesteps, "steps_to_end": x.shape[1] - timesteps,
                         "norm": norms})
