"""Watch a network train: gradient norms, activation statistics, update ratios, divergence.

Keras 3 callbacks never see gradients: ``fit`` computes them inside the backend's
``train_step`` and hands the callbacks only the logs. There are two ways to look at them
anyway. One is to override ``train_step``; but Keras 3 has one ``train_step`` per backend
(TensorFlow, JAX, PyTorch), so that means one override per backend, and it changes the
training itself: every experiment that wants a diagnostic would then run a different
training loop from the one it studies. The other, chosen here, is a **probe batch**: a
fixed, small batch of training data on which a callback computes the gradients itself,
every ``k`` steps, with a small backend-specific helper, :func:`gradients`:

* under TensorFlow, ``tf.GradientTape`` around ``model.stateless_call``;
* under JAX, ``jax.grad`` of a function that calls ``model.stateless_call``.

``stateless_call`` runs the model on given variable values and *returns* any state update
(batch-normalization statistics, dropout seeds) instead of applying it, so probing never
changes the model or its training. By default the probe runs the layers in training mode
(``training=True``: batch statistics in batch normalization, dropout on), as the
optimizer sees them. Because the probe batch is fixed, successive measurements differ
only because the weights changed, not because the data did.

Steps count optimizer updates: step 0 is the state before training, step :math:`t` the
state after :math:`t` updates; epochs are counted from 1 as Keras prints them (epoch 0 is
the state before training). Every result is a tidy ``pandas.DataFrame``, one row per
(step, layer) observation.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import keras
import numpy as np
import pandas as pd

__all__ = [
    "ActivationStats",
    "DivergenceGuard",
    "GradientNorms",
    "SIGMOID_SATURATION",
    "TANH_SATURATION",
    "UpdateRatios",
    "WEIGHT_VARIABLES",
    "activation_stats",
    "gradient_norms",
    "gradients",
]

# The variables a layer multiplies its input by (not biases, not normalization scales):
# the ones whose gradients and updates the diagnostics report by default.
WEIGHT_VARIABLES: tuple[str, ...] = ("kernel", "recurrent_kernel")

# A tanh unit is saturated when |a| > 0.99, i.e. |z| > 2.65, where tanh'(z) < 0.02.
TANH_SATURATION = 0.99
# A sigmoid unit is saturated when a < 0.01 or a > 0.99, i.e. |z| > 4.6, where
# sigma'(z) < 0.01 (its maximum is 0.25).
SIGMOID_SATURATION = 0.01

_ACTIVATION_COLUMNS = ("layer", "activation", "mean", "std", "saturated", "zeros", "dead")


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
    return pd.DataFrame(_activation_rows(model, x, training),
                        columns=_ACTIVATION_COLUMNS)


# ------------------------------------------------------------------------ callbacks


class _Recorder(keras.callbacks.Callback):
    """Counts steps and epochs and records rows every ``every`` steps; ``frame()`` returns them."""

    _columns: tuple[str, ...] = ()

    def __init__(self, every: int = 1):
        super().__init__()
        if not (isinstance(every, numbers.Integral) and not isinstance(every, bool) and every >= 1):
            raise ValueError(f"`every` must be a positive integer. Received: every={every!r}")
        self.every = int(every)
        self._rows: list[dict] = []
        self.step = 0
        self.epoch = 0

    def on_train_begin(self, logs=None):
        self._rows, self.step, self.epoch = [], 0, 0
        self._start()
        self._record()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self._record()

    def _start(self) -> None:
        """Prepare at the start of training (the model is compiled and built by then)."""

    def _record(self) -> None:
        raise NotImplementedError

    def _add(self, rows: list[dict]) -> None:
        self._rows.extend({"step": self.step, "epoch": self.epoch, **row} for row in rows)

    def frame(self) -> pd.DataFrame:
        """The records so far, one row per (step, layer)."""
        return pd.DataFrame(self._rows, columns=["step", "epoch", *self._columns])


class GradientNorms(_Recorder):
    r"""Record the gradient norm :math:`\lVert g_W \rVert_2` of each layer's weights on a
    fixed probe batch, every ``every`` steps (and once before training).

    Args:
        x_probe: a small fixed batch of training inputs (64 to 256 examples).
        y_probe: their targets.
        every: record every ``every`` optimizer steps.
        loss: the loss to differentiate; ``None`` takes the model's compiled loss.
        variables: names of the variables to report (default: kernels and recurrent
            kernels); ``None`` reports every trainable variable.
        training: run the probe in training mode (no state is changed).

    Example:
        >>> probe = GradientNorms(data.x_train[:128], data.y_train[:128], every=5)
        >>> model.fit(data.x_train, data.y_train, callbacks=[probe])
        >>> probe.frame().pivot(index="step", columns="layer", values="norm")

    References:
        Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html
    """

    _columns = ("layer", "variable", "norm")

    def __init__(self, x_probe, y_probe, every: int = 1, loss=None,
                 variables: Sequence[str] | None = WEIGHT_VARIABLES, training: bool = True):
        super().__init__(every)
        _check_variables(variables)
        self.x_probe, self.y_probe = _check_probe(x_probe, y_probe)
        self.loss, self.variables, self.training = loss, variables, training

    def _start(self):
        model = self.model
        self._grad = _gradient_function(model, _loss_function(model, self.y_probe, self.loss),
                                        self.training)
        self._names = _variable_names(model)

    def _record(self):
        variables = self.model.trainable_variables
        grads = self._grad(self.x_probe, self.y_probe)
        named = {self._names[id(v)]: g for v, g in zip(variables, grads)}
        self._add(_norm_rows(named, self.variables))


class ActivationStats(_Recorder):
    """Record :func:`activation_stats` of a fixed probe batch every ``every`` steps (and
    once before training).

    Args:
        x_probe: a small fixed batch of training inputs.
        every: record every ``every`` optimizer steps.
        training: run the probe in training mode (no state is changed).

    Example:
        >>> stats = ActivationStats(data.x_train[:256], every=10)
        >>> model.fit(data.x_train, data.y_train, callbacks=[stats])
        >>> stats.frame().query("layer == 'hidden_1'")[["step", "saturated"]]
    """

    _columns = _ACTIVATION_COLUMNS

    def __init__(self, x_probe, every: int = 1, training: bool = True):
        super().__init__(every)
        self.x_probe, _ = _check_probe(x_probe, None)
        self.training = training

    def _record(self):
        self._add(_activation_rows(self.model, self.x_probe, self.training))


class UpdateRatios(_Recorder):
    r"""Record the relative size of the weight updates of each layer.

    .. math::

        r_t = \frac{\lVert W_t - W_{t-k} \rVert_2}{\lVert W_{t-k} \rVert_2}

    between consecutive recorded steps :math:`t - k` and :math:`t` (``k = every``). A
    rule of thumb: about :math:`10^{-3}` per step is healthy; much smaller and the layer
    barely learns, much larger and the learning rate is too high. ``ratio`` is ``NaN``
    where :math:`W_{t-k} = 0` (zero initialization).

    Args:
        every: record every ``every`` optimizer steps.
        variables: names of the variables to report (default: kernels and recurrent
            kernels); ``None`` reports every trainable variable.

    Returns:
        ``frame()`` has columns ``step``, ``epoch``, ``layer``, ``variable``, ``ratio``.

    Example:
        >>> ratios = UpdateRatios(every=1)
        >>> model.fit(data.x_train, data.y_train, callbacks=[ratios])

    References:
        Karpathy, 2016, CS231n notes, https://cs231n.github.io/neural-networks-3/#ratio
    """

    _columns = ("layer", "variable", "ratio")

    def __init__(self, every: int = 1, variables: Sequence[str] | None = WEIGHT_VARIABLES):
        super().__init__(every)
        _check_variables(variables)
        self.variables = variables

    def _weights(self) -> dict[str, np.ndarray]:
        model = self.model
        names = _variable_names(model)
        return {names[id(v)]: keras.ops.convert_to_numpy(v) for v in model.trainable_variables
                if _wanted(names[id(v)], self.variables)}

    def _record(self):
        current = self._weights()
        if self.step > 0:
            rows = []
            for key, w in current.items():
                before = np.linalg.norm(self._previous[key])
                change = np.linalg.norm(w - self._previous[key])
                layer, variable = key.rsplit("/", 1)
                rows.append({"layer": layer, "variable": variable,
                             "ratio": float(change / before) if before > 0 else float("nan")})
            self._add(rows)
        self._previous = current


class DivergenceGuard(keras.callbacks.Callback):
    r"""Stop training at the first batch whose loss or weights are no longer finite, or
    whose loss has grown ``loss_ratio`` times above its starting value.

    A diverging run is stopped gracefully (``model.stop_training = True``), never by an
    exception, and the guard records where: :attr:`diverged_step` (the optimizer step,
    counted from 1 over all epochs), :attr:`diverged_epoch` (counted from 1) and
    :attr:`reason`. The loss checked is the one Keras logs: the running mean over the
    epoch so far. Like ``keras.callbacks.TerminateOnNaN``, plus the record, the weight
    check and the growth rule: a large learning rate does not always produce a NaN
    (a softmax cross-entropy saturates), but its loss climbs far above where it started:

    .. math::

        \text{diverged at } t \iff \neg\operatorname{isfinite}(L_t) \lor
        \neg\operatorname{isfinite}(\theta_t) \lor L_t > \rho \, L_1

    Args:
        loss_ratio: :math:`\rho`, a number above 1; ``None`` checks finiteness only.
        check_weights: also check that every weight is finite after each step.

    Example:
        >>> guard = DivergenceGuard()
        >>> model.fit(x, y, callbacks=[guard])
        >>> guard.diverged, guard.diverged_step
        (True, 3)
    """

    def __init__(self, loss_ratio: float | None = 4.0, check_weights: bool = True):
        super().__init__()
        if loss_ratio is not None and not (
            isinstance(loss_ratio, numbers.Real) and not isinstance(loss_ratio, bool)
            and np.isfinite(loss_ratio) and loss_ratio > 1
        ):
            raise ValueError(
                "`loss_ratio` must be a number above 1, or None. "
                f"Received: loss_ratio={loss_ratio!r}"
            )
        self.loss_ratio, self.check_weights = loss_ratio, bool(check_weights)
        self._reset()

    def _reset(self):
        self.step, self.epoch = 0, 0
        self.first_loss: float | None = None
        self.diverged_step: int | None = None
        self.diverged_epoch: int | None = None
        self.reason: str | None = None

    @property
    def diverged(self) -> bool:
        """Whether training was stopped for divergence."""
        return self.diverged_step is not None

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.diverged:
            return
        loss = (logs or {}).get("loss")
        reason = None
        if loss is not None:
            loss = float(loss)
            if not np.isfinite(loss):
                reason = f"loss is {loss}"
            elif self.first_loss is None:
                self.first_loss = loss
            elif self.loss_ratio is not None and loss > self.loss_ratio * self.first_loss > 0:
                reason = f"loss {loss:.4g} > {self.loss_ratio:g} x first loss {self.first_loss:.4g}"
        if reason is None and self.check_weights:
            for v in self.model.trainable_variables:
                if not np.all(np.isfinite(keras.ops.convert_to_numpy(v))):
                    reason = f"weights {_variable_names(self.model)[id(v)]} are not finite"
                    break
        if reason is not None:
            self.diverged_step, self.diverged_epoch, self.reason = self.step, self.epoch, reason
            self.model.stop_training = True


# -------------------------------------------------------------------------- helpers

def _cached(model: keras.Model, key: tuple, make: Callable) -> Callable:
    """``make()``, built once per model and key: a compiled JAX function is then reused."""
    cache = getattr(model, "_nntrain_diagnostics", None)
    if cache is None:
        cache = {}
        # set past Keras's attribute tracking: a plain cache, not part of the model's state
        object.__setattr__(model, "_nntrain_diagnostics", cache)
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _gradient_function(model: keras.Model, loss_fn: Callable, training: bool) -> Callable:
    """``grad(x, y) -> list of gradients``, one per ``model.trainable_variables``, at the
    variables' current values, for the active backend."""
    return _cached(model, ("gradients", loss_fn, training),
                   lambda: _make_gradient_function(model, loss_fn, training))


def _make_gradient_function(model: keras.Model, loss_fn: Callable, training: bool) -> Callable:

    def mean_loss(trainable_values, non_trainable_values, x, y):
        y_pred, _ = model.stateless_call(trainable_values, non_trainable_values, x,
                                         training=training)
        return keras.ops.mean(loss_fn(y, y_pred))

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def grad(x, y):
            values = [tf.identity(v.value) for v in model.trainable_variables]
            others = [tf.identity(v.value) for v in model.non_trainable_variables]
            with tf.GradientTape() as tape:
                tape.watch(values)
                value = mean_loss(values, others, x, y)
            return tape.gradient(value, values)
    elif backend == "jax":
        import jax

        # compiled once per probe (the model and the probe's shapes are fixed), then fast
        value_grad = jax.jit(jax.grad(mean_loss))

        def grad(x, y):
            return value_grad([v.value for v in model.trainable_variables],
                              [v.value for v in model.non_trainable_variables], x, y)
    else:
        raise NotImplementedError(
            f"nntrain.diagnostics computes gradients under the TensorFlow and JAX backends; "
            f"the active backend is {backend!r}."
        )
    return grad


def _loss_function(model: keras.Model, y, loss) -> Callable:
    if loss is None:
        loss = getattr(model, "loss", None)
    if loss is None:
        integer = np.issubdtype(np.asarray(y).dtype, np.integer)
        loss = "sparse_categorical_crossentropy" if integer else "mean_squared_error"
    try:
        return keras.losses.get(loss)
    except (ValueError, TypeError):
        raise ValueError(
            "`loss` must be a Keras loss name, object or function (one output), or None. "
            f"Received: loss={loss!r}"
        ) from None


def _variable_names(model: keras.Model) -> dict[int, str]:
    """``id(variable) -> "layer/variable"`` for the model's weights, by top-level layer."""
    names: dict[int, str] = {}
    for layer in model.layers:
        for v in layer.weights:
            names.setdefault(id(v), f"{layer.name}/{v.name}")
    if len(set(names.values())) < len(names):  # a nested model repeats names: use paths
        names = {id(v): v.path for v in model.weights}
    for v in model.weights:
        names.setdefault(id(v), v.path)
    return names


def _wanted(key: str, variables: Sequence[str] | None) -> bool:
    return variables is None or key.rsplit("/", 1)[-1] in variables


def _norm_rows(named: dict, variables: Sequence[str] | None) -> list[dict]:
    rows = []
    for key, g in named.items():
        if _wanted(key, variables):
            layer, variable = key.rsplit("/", 1)
            norm = np.linalg.norm(np.asarray(keras.ops.convert_to_numpy(g), dtype=np.float64))
            rows.append({"layer": layer, "variable": variable, "norm": float(norm)})
    return rows


def _activation_name(layer: keras.layers.Layer) -> str | None:
    fn = getattr(layer, "activation", None)
    if fn is None:
        return None
    name = getattr(fn, "__name__", type(fn).__name__)
    return None if name == "linear" else name


def _activation_function(model: keras.Model, training: bool) -> Callable:
    """``forward(x) -> list of outputs`` of the observed layers, and their names."""
    return _cached(model, ("activations", training),
                   lambda: _make_activation_function(model, training))


def _make_activation_function(model: keras.Model, training: bool):
    layers = [layer for layer in model.layers if _activation_name(layer)]
    try:
        inputs = model.inputs
        outputs = [layer.output for layer in layers]
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            "`model` must be a Sequential or functional model built on a keras.Input, so "
            f"that its layers' outputs can be read. Received: model={model!r}"
        )
    if not layers:
        raise ValueError(
            "`model` has no layer with a nonlinear activation to observe. "
            f"Received: model={model.name!r}"
        )
    # the same layers and variables, with every observed layer's output as an output
    features = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs,
                           name=f"{model.name}_activations")

    def forward(trainable_values, non_trainable_values, x):
        # batch-norm and seed updates are returned by stateless_call, and dropped here
        return features.stateless_call(trainable_values, non_trainable_values, x,
                                       training=training)[0]

    if keras.backend.backend() == "jax":
        import jax

        forward = jax.jit(forward)

    def observe(x):
        return forward([v.value for v in features.trainable_variables],
                       [v.value for v in features.non_trainable_variables], x)

    return observe, [(layer.name, _activation_name(layer)) for layer in layers]


def _activation_rows(model: keras.Model, x, training: bool) -> list[dict]:
    observe, observed = _activation_function(model, training)
    rows = []
    for (name, activation), out in zip(observed, observe(x)):
        a = keras.ops.convert_to_numpy(out).reshape(len(x), -1).astype(np.float64)
        if activation == "tanh":
            saturated = float(np.mean(np.abs(a) > TANH_SATURATION))
        elif activation == "sigmoid":
            saturated = float(np.mean((a < SIGMOID_SATURATION) | (a > 1 - SIGMOID_SATURATION)))
        else:
            saturated = float("nan")
        zero = a == 0
        rows.append({
            "layer": name, "activation": activation, "mean": float(a.mean()),
            "std": float(a.std()), "saturated": saturated, "zeros": float(zero.mean()),
            "dead": float(zero.all(axis=0).mean()),
        })
    return rows


def _check_variables(variables) -> None:
    if variables is not None and (
        isinstance(variables, str) or not all(isinstance(v, str) for v in variables)
    ):
        raise ValueError(
            "`variables` must be a sequence of variable names such as ('kernel',), or None "
            f"for all. Received: variables={variables!r}"
        )


def _check_probe(x, y):
    x = np.asarray(x)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError(
            f"`x_probe` must be a non-empty batch of inputs. Received: x_probe with shape {x.shape}"
        )
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(
                "`y_probe` must hold one target per probe example. "
                f"Received: y_probe with {len(y)} rows for {len(x)} inputs"
            )
    return x, y
