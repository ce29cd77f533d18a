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

Beyond the layers: :func:`gradient_through_time` measures how far back in a sequence the
loss still reaches, :class:`StepLoss` the loss of every mini-batch (spikes included),
:class:`Monitor` bundles the four per-step records and draws them, and
:func:`read_histograms` reads back what ``keras.callbacks.TensorBoard`` wrote.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
import pandas as pd

__all__ = [
    "ActivationStats",
    "DivergenceGuard",
    "GradientNorms",
    "Monitor",
    "SIGMOID_SATURATION",
    "StepLoss",
    "TANH_SATURATION",
    "UpdateRatios",
    "WEIGHT_VARIABLES",
    "activation_stats",
    "gradient_norms",
    "gradient_through_time",
    "gradients",
    "input_gradients",
    "plot_histograms",
    "read_histograms",
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
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError("`x` must be a batch of sequences of shape (batch, timesteps, features). "
                         f"Received: x with shape {x.shape}")
    g = input_gradients(model, x, y, loss, training).astype(np.float64)
    norms = np.sqrt(np.sum(g ** 2, axis=(0, 2)))
    timesteps = np.arange(1, x.shape[1] + 1)
    return pd.DataFrame({"timestep": timesteps, "steps_to_end": x.shape[1] - timesteps,
                         "norm": norms})


class StepLoss(_Recorder):
    r"""Record the loss of every mini-batch, the one the optimizer stepped on.

    Keras logs the *running mean* of the loss over the epoch so far, which smooths spikes
    away. Its loss tracker keeps a weighted total :math:`S_t` and a count :math:`C_t` (the
    examples seen this epoch), so the loss of batch :math:`t` alone is read back exactly:

    .. math::

        L_t = \frac{S_t - S_{t-1}}{C_t - C_{t-1}}

    Returns:
        ``frame()`` has columns ``step`` (from 1), ``epoch`` and ``loss``; a non-finite
        loss is recorded as it is (``nan`` or ``inf``).

    Example:
        >>> losses = StepLoss()
        >>> model.fit(x, y, callbacks=[losses])
        >>> losses.frame().plot(x="step", y="loss")
    """

    _columns = ("loss",)

    def __init__(self):
        super().__init__(every=1)

    def _start(self):
        trackers = [m for m in self.model.metrics if m.name == "loss"]
        if not trackers:
            raise ValueError("`model` must be compiled with a loss before training with StepLoss. "
                             f"Received: model={self.model.name!r}")
        self._tracker = trackers[0]

    def _totals(self) -> tuple[float, float]:
        _ = self.model  # under JAX, reading the model attaches the current training state
        tracker = self._tracker  # a keras.metrics.Mean: a weighted total and a count
        return (float(keras.ops.convert_to_numpy(tracker.total)),
                float(keras.ops.convert_to_numpy(tracker.count)))

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self._previous = self._totals()  # Keras has just reset its metrics

    def _record(self):
        if self.step == 0:
            self._previous = self._totals()
            return
        total, count = self._totals()
        with np.errstate(invalid="ignore"):
            loss = (total - self._previous[0]) / max(count - self._previous[1], 1.0)
        self._previous = (total, count)
        self._add([{"loss": float(loss)}])


class Monitor(keras.callbacks.Callback):
    """Watch one training run four ways at once, and draw all four.

    Bundles :class:`StepLoss`, :class:`GradientNorms`, :class:`ActivationStats` and
    :class:`UpdateRatios` in a single callback, so that a run is watched with
    ``callbacks=[monitor]`` and diagnosed with :meth:`plot`. The loss is recorded at every
    step; the gradient and activation probes run every ``every`` steps on one fixed probe
    batch; and at the same steps the update ratio of the step just taken is recorded (the
    weights are kept one step before), so that it compares with the per-step rule of thumb
    of :math:`10^{-3}` whatever ``every`` is.

    Args:
        x_probe: a small fixed batch of training inputs.
        y_probe: their targets.
        every: record the probes every ``every`` optimizer steps.
        loss: the loss to differentiate; ``None`` takes the model's compiled loss.

    Attributes:
        loss, gradients, activations, updates: the four recorders.

    Example:
        >>> monitor = Monitor(data.x_train[:128], data.y_train[:128], every=5)
        >>> nt.train(model, data, "sgd", callbacks=[monitor])
        >>> monitor.plot()
    """

    def __init__(self, x_probe, y_probe, every: int = 1, loss=None):
        super().__init__()
        self.loss = StepLoss()
        self.gradients = GradientNorms(x_probe, y_probe, every=every, loss=loss)
        self.activations = ActivationStats(x_probe, every=every)
        self.updates = _StepUpdateRatios(every=every)
        self._parts = (self.loss, self.gradients, self.activations, self.updates)

    def set_model(self, model):
        super().set_model(model)
        for part in self._parts:
            part.set_model(model)

    def on_train_begin(self, logs=None):
        for part in self._parts:
            part.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for part in self._parts:
            part.on_epoch_begin(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for part in self._parts:
            part.on_train_batch_end(batch, logs)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The four records: ``loss``, ``gradients``, ``activations``, ``updates``."""
        return {"loss": self.loss.frame(), "gradients": self.gradients.frame(),
                "activations": self.activations.frame(), "updates": self.updates.frame()}

    def plot(self, axes=None, title: str | None = None):
        """Draw the run: loss per step; per layer, the gradient norm, the saturated (tanh,
        sigmoid) or dead (other activations) fraction, and the update-to-weight ratio.

        Layers are coloured from the first (dark) to the last (light). A dashed red line
        marks the first step whose loss was not finite.

        Args:
            axes: four matplotlib axes; ``None`` makes a new figure with a row of four.
            title: a title over the row.

        Returns:
            The matplotlib figure.
        """
        return _plot_monitor(self.frames(), axes, title)


class _StepUpdateRatios(UpdateRatios):
    """:class:`UpdateRatios` of single steps, every ``every`` steps: the weights are kept one
    step before each recorded step, and the recorded ratio is that of the step in between."""

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self._record()  # against the weights kept one step earlier
        elif (self.step + 1) % self.every == 0:
            self._previous = self._weights()


def read_histograms(log_dir) -> pd.DataFrame:
    """Read back the histograms that ``keras.callbacks.TensorBoard`` wrote.

    With ``histogram_freq=k``, Keras's TensorBoard callback writes a histogram of every
    weight every ``k`` epochs into the event files of ``log_dir/train``. This reads them
    with TensorBoard's own event reader (``EventAccumulator``); each histogram is a list
    of buckets ``[left, right)`` with the number of weights in each.

    Args:
        log_dir: the folder given to the TensorBoard callback.

    Returns:
        A frame with columns ``run`` (the subfolder, e.g. ``train``), ``tag`` (e.g.
        ``hidden_1/kernel/histogram``), ``step`` (the epoch, from 0), ``left``, ``right``
        and ``count``, one row per bucket.

    Example:
        >>> model.fit(x, y, validation_data=(xv, yv),
        ...           callbacks=[keras.callbacks.TensorBoard(log_dir, histogram_freq=1)])
        >>> read_histograms(log_dir).tag.unique()

    References:
        TensorBoard, https://www.tensorflow.org/tensorboard/get_started
    """
    try:
        from tensorboard.backend.event_processing import event_accumulator
        from tensorboard.util import tensor_util
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("read_histograms needs the `tensorboard` package, which Keras's "
                          "TensorBoard callback needs too: pip install tensorboard") from error
    root = Path(log_dir)
    folders = sorted({p.parent for p in root.rglob("*tfevents*")}) if root.is_dir() else []
    if not folders:
        raise ValueError("`log_dir` must be a folder holding TensorBoard event files. "
                         f"Received: log_dir={str(log_dir)!r}")
    rows = []
    for folder in folders:
        events = event_accumulator.EventAccumulator(
            str(folder), size_guidance={event_accumulator.TENSORS: 0})  # 0: keep every event
        events.Reload()
        for tag in events.Tags()["tensors"]:
            if events.SummaryMetadata(tag).plugin_data.plugin_name != "histograms":
                continue
            for event in events.Tensors(tag):
                buckets = tensor_util.make_ndarray(event.tensor_proto).reshape(-1, 3)
                rows.extend({"run": folder.relative_to(root).as_posix(), "tag": tag,
                             "step": int(event.step), "left": float(left), "right": float(right),
                             "count": float(count)} for left, right, count in buckets)
    return pd.DataFrame(rows, columns=["run", "tag", "step", "left", "right", "count"])


def plot_histograms(histograms: pd.DataFrame, tag: str, ax=None, run: str = "train"):
    """Draw one tag's histograms over the steps, offset like TensorBoard's "offset" view.

    Args:
        histograms: a frame from :func:`read_histograms`.
        tag: the tag to draw, e.g. ``"hidden_1/kernel/histogram"``.
        ax: a matplotlib axes; ``None`` makes a new figure.
        run: the run (subfolder) to draw.

    Returns:
        The matplotlib axes: bucket centres across, one curve per step (for Keras's
        callback, the epoch counted from 0), later steps drawn lower and lighter.
    """
    import matplotlib.pyplot as plt

    chosen = histograms[(histograms["tag"] == tag) & (histograms["run"] == run)]
    if chosen.empty:
        raise ValueError(f"`tag` must be one of {sorted(histograms['tag'].unique())} in run "
                         f"{run!r}. Received: tag={tag!r}")
    if ax is None:
        ax = plt.subplots()[1]
    steps = sorted(chosen["step"].unique())
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(steps)))
    height = chosen["count"].max()
    for i, (step, colour) in enumerate(zip(steps, colours)):
        one = chosen[chosen["step"] == step]
        offset = -i * 0.5 * height  # each later step half a histogram lower
        ax.plot((one["left"] + one["right"]) / 2, one["count"] + offset, color=colour,
                label=f"step {step}" if i in (0, len(steps) - 1) else None)
        ax.fill_between((one["left"] + one["right"]) / 2, offset, one["count"] + offset,
                        color=colour, alpha=0.25)
    ax.set(xlabel="weight value", yticks=[], title=tag.removesuffix("/histogram"))
    ax.legend()
    return ax


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


def _gradient_function(model: keras.Model, loss_fn: Callable, training: bool,
                       wrt: str = "weights") -> Callable:
    """``grad(x, y)``: the gradient of the mean loss at the variables' current values, for
    the active backend, with respect to ``wrt``: ``"weights"`` (a list of gradients, one per
    ``model.trainable_variables``) or ``"inputs"`` (an array shaped like ``x``)."""
    return _cached(model, ("gradients", wrt, loss_fn, training),
                   lambda: _make_gradient_function(model, loss_fn, training, wrt))


def _make_gradient_function(model: keras.Model, loss_fn: Callable, training: bool,
                            wrt: str) -> Callable:
    argnum = {"inputs": 0, "weights": 1}[wrt]  # the position of what is differentiated

    def mean_loss(x, trainable_values, non_trainable_values, y):
        y_pred, _ = model.stateless_call(trainable_values, non_trainable_values, x,
                                         training=training)
        return keras.ops.mean(loss_fn(y, y_pred))

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def eager(x, values, others, y):
            target = (x, values)[argnum]
            with tf.GradientTape() as tape:
                tape.watch(target)
                value = mean_loss(x, values, others, y)
            return tape.gradient(value, target)

        # traced once per probe shape, then about ten times faster than eager calls
        run = tf.function(eager, reduce_retracing=True)

        def grad(x, y):
            return run(tf.convert_to_tensor(x), [v.value for v in model.trainable_variables],
                       [v.value for v in model.non_trainable_variables], y)
    elif backend == "jax":
        import jax

        # compiled once per probe (the model and the probe's shapes are fixed), then fast
        value_grad = jax.jit(jax.grad(mean_loss, argnums=argnum))

        def grad(x, y):
            return value_grad(x, [v.value for v in model.trainable_variables],
                              [v.value for v in model.non_trainable_variables], y)
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
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        forward = tf.function(forward, reduce_retracing=True)  # traced once per probe shape

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


def _plot_layers(ax, frame: pd.DataFrame, value: str, order: list[str]) -> None:
    """One line per layer of ``frame[value]`` against the step, dark to light by depth."""
    import matplotlib.pyplot as plt

    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, max(len(order), 1)))
    for layer, colour in zip(order, colours):
        one = frame[frame["layer"] == layer]
        ax.plot(one["step"], one[value], color=colour,
                label=layer if layer in (order[0], order[-1]) else None)


def _plot_monitor(frames: dict[str, pd.DataFrame], axes, title: str | None):
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 4, figsize=(14, 3.2), layout="constrained")
    axes = list(np.ravel(axes))
    loss, grads, acts, ups = (frames[k] for k in ("loss", "gradients", "activations", "updates"))
    axes[0].plot(loss["step"], loss["loss"], color="black", linewidth=0.8)
    bad = loss.loc[~np.isfinite(loss["loss"].to_numpy(float)), "step"]
    if len(bad):
        axes[0].axvline(bad.iloc[0], color="#D55E00", linestyle="--", label="loss not finite")
        axes[0].legend()
    axes[0].set(xlabel="step", ylabel="mini-batch loss")
    order = list(dict.fromkeys(grads["layer"]))
    _plot_layers(axes[1], grads, "norm", order)
    axes[1].set(xlabel="step", ylabel="gradient norm", yscale="log")
    hidden = acts[acts["layer"] != "output"].copy()
    hidden["fraction"] = np.where(hidden["activation"].isin(["tanh", "sigmoid"]),
                                  hidden["saturated"], hidden["dead"])
    _plot_layers(axes[2], hidden, "fraction", list(dict.fromkeys(hidden["layer"])))
    axes[2].set(xlabel="step", ylabel="saturated or dead fraction", ylim=(-0.03, 1.03))
    _plot_layers(axes[3], ups, "ratio", order)
    axes[3].axhline(1e-3, color="grey", linestyle=":", label="$10^{-3}$")  # the rule of thumb
    axes[3].set(xlabel="step", ylabel="update / weight, per step", yscale="log")
    for ax in axes[1:]:
        ax.legend(fontsize="small")
    if title:
        axes[0].figure.suptitle(title)
    return axes[0].figure
