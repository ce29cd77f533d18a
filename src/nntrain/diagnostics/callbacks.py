"""Callbacks that record while Keras trains: per-layer gradient norms, activation
statistics, update-to-weight ratios, divergence, the loss of every step, and a Monitor that
bundles and draws them."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from .. import _checks
from ._core import (
    LOSS_RATIO,
    WEIGHT_VARIABLES,
    _ACTIVATION_COLUMNS,
    _activation_rows,
    _check_probe,
    _check_variables,
    check_loss,
    check_loss_ratio,
    _gradient_function,
    _loss_function,
    _norm_rows,
    _variable_names,
    _wanted,
)


# ------------------------------------------------------------------------ callbacks


class _Recorder(keras.callbacks.Callback):
    """Counts steps and epochs and records rows every ``every`` steps; ``frame()`` returns them."""

    _columns: tuple[str, ...] = ()

    def __init__(self, every: int = 1):
        super().__init__()
        self.every = _checks.integer("every", every, minimum=1)
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
        self.loss, self.variables = check_loss(loss), variables
        self.training = _checks.boolean("training", training)

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
        self.x_probe = _check_probe(x_probe, None)
        self.training = _checks.boolean("training", training)

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

    This is the package's one rule of divergence: :func:`nntrain.sweep` applies the same
    one to every member, inside its compiled loop (with the gradients checked for
    finiteness instead of the weights), so a run and the same run in a sweep agree on
    whether, and at which step, it diverged.

    Args:
        loss_ratio: :math:`\rho`, a number above 1 (default
            ``nntrain.diagnostics.LOSS_RATIO``, 4); ``None`` checks finiteness only.
        check_weights: also check that every weight is finite after each step.

    Example:
        >>> guard = DivergenceGuard()
        >>> model.fit(x, y, callbacks=[guard])
        >>> guard.diverged, guard.diverged_step
        (True, 3)
    """

    def __init__(self, loss_ratio: float | None = LOSS_RATIO, check_weights: bool = True):
        super().__init__()
        loss_ratio = check_loss_ratio(loss_ratio)
        self.loss_ratio, self.check_weights = loss_ratio, _checks.boolean("check_weights", check_weights)
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
