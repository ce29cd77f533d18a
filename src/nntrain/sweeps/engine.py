r"""The compiled training loop of a sweep: every member at once, few host round trips.

**The objective.** The sum of the members' own mean losses,

.. math::

    L(\theta_1, \dots, \theta_K) = \sum_{k=1}^K \frac{1}{B} \sum_{i=1}^B
    \ell\big(f_{\theta_k}(x_i), y_i\big), \qquad
    \nabla_{\theta_k} L = \nabla_{\theta_k} L_k,

so member :math:`k`'s gradient is exactly the gradient it would get alone.

**Divergence.** The package's one rule (:class:`nntrain.diagnostics.DivergenceGuard`, the
one :func:`nntrain.train` applies): at step :math:`t`, member :math:`k` stays *alive*
while its loss :math:`L_{k,t}` and all its gradients are finite (one gradient is checked
through a cheaper proxy, see :func:`_finite_members`) and its running mean loss over the
epoch so far, :math:`\bar L_{k,t}` (the loss Keras logs), stays within ``loss_ratio``
(:math:`\rho`) times the loss of its first batch:

.. math::

    \text{diverged at } t \iff \neg\operatorname{isfinite}(L_{k,t}) \lor
    \neg\operatorname{isfinite}(\nabla L_{k,t}) \lor \bar L_{k,t} > \rho \, L_{k,1}

The optimizer's update of a step with a non-finite loss or gradient is kept only for
alive members (a ``where`` along the member axis):

.. math::

    \theta_{k,t+1} = \begin{cases} \text{update}(\theta_{k,t}) & \text{alive}_k \\
    \theta_{k,t} & \text{otherwise} \end{cases}

so a member that diverges keeps its last finite weights (a member whose loss grew past
the ratio keeps the weights of that step, as ``fit`` stopped by the guard does), is never
updated again, and records its step; the others are untouched (no number of theirs depends on it). Members
stopped early are frozen the same way, without being marked diverged.

**Few round trips.** For dense models a whole epoch (every mini-batch, then the
validation split and the best weights) is one compiled call: the host is visited once per
epoch. Convolutions inside a compiled loop run many times slower than alone on XLA's CPU
backend, so models with convolutions make one compiled call per mini-batch instead, with
everything else (data, weights, per-member state) still on the device.

Two small backends do the rest: under TensorFlow the model's variables are updated in
place inside ``tf.function`` (``jit_compile=True``; inside a ``tf.distribute`` strategy
with several replicas each step is ``strategy.run`` and the optimizer all-reduces the
gradients, as Keras's own ``fit`` does); under JAX the state is a pytree threaded through
``jax.jit`` with ``model.stateless_call`` and ``optimizer.stateless_apply``.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from ..diagnostics import LOSS_RATIO, WEIGHT_VARIABLES
from ..diagnostics._core import check_loss_ratio
from .layers import StackedBatchNormalization, StackedConv2D

__all__ = ["Engine", "make_engine", "objective", "pad_batches"]

# Rows of a dense model's evaluation chunk times members: about 16,000 rows of 256 floats
# (16 MB) per hidden layer, large enough for efficient matrix products.
_EVAL_ROWS = 16384
# The names of an epoch's statistics, as `Engine.epoch` returns them.
_STATS = ("loss", "metric", "val_loss", "val_metric", "improved", "alive",
          "diverged_step", "step", "first_loss", "best_val")


def objective(task: str, members: int) -> Callable:
    """``fn(y, y_pred) -> (loss, metric)``, each ``(b, K)``: per example and member.

    Classification: sparse categorical cross-entropy of the softmax output and accuracy;
    regression: squared error and absolute error (the task defaults of
    :func:`nntrain.models.loss_and_metrics`), with Keras's own functions.
    """

    def classification(y, y_pred):
        yk = ops.broadcast_to(ops.expand_dims(y, 1), (ops.shape(y)[0], members))
        loss = keras.losses.sparse_categorical_crossentropy(yk, y_pred)
        hit = keras.metrics.sparse_categorical_accuracy(yk, y_pred)
        return ops.reshape(loss, (-1, members)), ops.reshape(hit, (-1, members))

    def regression(y, y_pred):
        yk = ops.broadcast_to(ops.reshape(ops.cast(y, y_pred.dtype), (-1, 1, 1)), ops.shape(y_pred))
        loss = keras.losses.mean_squared_error(yk, y_pred)
        error = keras.losses.mean_absolute_error(yk, y_pred)
        return ops.reshape(loss, (-1, members)), ops.reshape(error, (-1, members))

    return classification if task == "classification" else regression


def pad_batches(n: int, batch_size: int, order=None) -> tuple[np.ndarray, np.ndarray]:
    """``order`` (default ``range(n)``) cut into mini-batches of ``batch_size``, the last
    one padded with ``order[0]`` at weight 0: ``(indices (S, B), weights (S, B))``."""
    order = np.arange(n) if order is None else np.asarray(order)
    steps = -(-n // batch_size)  # ceil
    padded = np.full(steps * batch_size, order[0] if n else 0, np.int32)
    padded[:n] = order
    weights = np.zeros(steps * batch_size, np.float32)
    weights[:n] = 1.0
    return padded.reshape(steps, batch_size), weights.reshape(steps, batch_size)


def _column(mask, like):
    """A (K,) mask as (K, 1, ..., 1), to select along the member axis of ``like``."""
    return ops.reshape(mask, (-1,) + (1,) * (len(like.shape) - 1))


def _keep(mask, new, old):
    return ops.where(_column(mask, new), new, old)


def _finite_members(tensors, members: int):
    r"""(K,) bool: whether each member's slice of every tensor is finite.

    The engine checks every gradient but one kind: the kernel of a layer that reads the
    shared input, :math:`\partial L / \partial W = X^\top \delta` with :math:`\delta`
    the per-example gradients of its outputs, is finite whenever its bias's gradient
    :math:`\sum_i \delta_i` is (a NaN or infinity in :math:`\delta` reaches the sum),
    barring an overflow of the product itself. The bias stands for it, which saves a pass
    over the largest gradient of all at every step.
    """
    ok = ops.ones((members,), dtype="bool")
    for t in tensors:
        ok = ops.logical_and(ok, ops.all(ops.isfinite(ops.reshape(t, (members, -1))), axis=1))
    return ok


def _member_norms(grads, members: int):
    """(L, K): the L2 norm of each member's slice of each gradient."""
    return ops.stack([ops.sqrt(ops.sum(ops.square(ops.reshape(g, (members, -1))), axis=1))
                      for g in grads])


class Engine:
    """Trains a stacked model an epoch at a time (see the module docstring).

    Every mini-batch has the same shape, so that one compiled step serves the whole
    epoch: the last, smaller batch is padded with examples of weight 0, which change
    nothing. Batch normalization would see the padding in its batch statistics, so for
    models with it the last batch is a second, exact step instead.

    Args:
        model: a stacked model (:func:`nntrain.sweeps.layers.stack`).
        optimizer: an optimizer whose per-member hyperparameters have length ``K``.
        task: ``"classification"`` or ``"regression"``.
        data: ``(x_train, y_train, x_val, y_val, x_test)`` NumPy arrays (the test
            inputs only size the evaluation chunks).
        batch_size: the mini-batch size.
        jit_compile: compile with XLA (TensorFlow; JAX always compiles).
        probe: ``(x, y)`` of a probe batch for gradient norms, or ``None``.
        loss_ratio: :math:`\rho` of the divergence rule (see the module docstring), or
            ``None`` to check finiteness only.
    """

    def __init__(self, model, optimizer, task, data, batch_size, jit_compile=True, probe=None,
                 loss_ratio=LOSS_RATIO):
        self.model, self.optimizer = model, optimizer
        self.loss_ratio = check_loss_ratio(loss_ratio)
        self.members = int(model.output_shape[1])
        self.batch_size = int(batch_size)
        self.objective = objective(task, self.members)
        layers = model.layers
        self.pad = not any(isinstance(layer, StackedBatchNormalization) for layer in layers)
        self.fused = not any(isinstance(layer, StackedConv2D) for layer in layers)
        stacked = {id(v) for layer in layers if hasattr(layer, "member_weights")
                   for v in layer.weights}
        # variables with a member axis, restored by `where`; seeds and shared stats advance
        self.member_variables = [v for v in model.variables if id(v) in stacked]
        self.probe = probe
        names = {id(v): f"{layer.name}/{v.name}" for layer in layers for v in layer.weights}
        self.norm_names = [names[id(v)] for v in model.trainable_variables]
        self.norm_index = [i for i, n in enumerate(self.norm_names)
                           if n.rsplit("/", 1)[-1] in WEIGHT_VARIABLES]
        # The gradients whose finiteness is checked each step: all but the kernels of
        # layers reading the shared input that have a bias (see `_finite_members`).
        proxies = {id(layer.kernel) for layer in layers
                   if getattr(layer, "shared_input", False) and getattr(layer, "bias", None) is not None}
        self.check_index = [i for i, v in enumerate(model.trainable_variables) if id(v) not in proxies]
        optimizer.build(model.trainable_variables)
        x, y, x_val, y_val, x_test = data
        self.num_train = len(x)
        # validation and test are cut into the same chunks, so one compiled evaluation
        # serves both; dense models evaluate many rows at a time (bigger products run
        # closer to the machine's peak), models with convolutions a batch at a time
        size = max(self.batch_size, _EVAL_ROWS // self.members) if self.fused else self.batch_size
        largest = max(len(x_val), len(x_test))
        self.eval_steps = -(-largest // size)
        self.eval_rows = -(-largest // self.eval_steps)  # as little padding as can be
        self._setup((x, y), self._chunks(x_val, y_val), jit_compile)

    def _chunks(self, x, y):
        """``(x, y)`` as ``eval_steps`` padded chunks: ``(S, C, ...)``, ``(S, C)`` and
        weights ``(S, C)``."""
        idx, w = pad_batches(len(x), self.eval_rows)
        if len(idx) < self.eval_steps:  # a smaller split: whole chunks of padding
            extra = self.eval_steps - len(idx)
            idx = np.concatenate([idx, np.zeros((extra, idx.shape[1]), idx.dtype)])
            w = np.concatenate([w, np.zeros((extra, w.shape[1]), w.dtype)])
        return x[idx], y[idx], w

    # -------------------------------------------------- traced pieces (both backends)

    def _batch(self, state, carry, train, idx, w, training):
        """One training step on examples ``idx`` (weights ``w``) of ``train``.

        ``carry`` is ``(alive, diverged_step, step, first_loss, loss_sum, metric_sum,
        seen)``: the last three are this epoch's running sums and example count."""
        alive, diverged_step, step, first_loss, loss_sum, metric_sum, seen = carry
        x, y = train
        xb, yb = ops.take(x, idx, axis=0), ops.take(y, idx, axis=0)
        active = ops.logical_and(alive, training)
        state, loss, metric, ok = self._train_step(state, xb, yb, w, active)
        step = step + 1
        count = ops.sum(w)
        loss_sum, seen = loss_sum + loss * count, seen + count
        first_loss = ops.where(ops.equal(step, 1), loss, first_loss)
        bad = ops.logical_not(ok)
        if self.loss_ratio is not None:  # the running mean, as Keras logs it, against the start
            grown = ops.logical_and(loss_sum / seen > self.loss_ratio * first_loss, first_loss > 0)
            bad = ops.logical_or(bad, grown)
        newly = ops.logical_and(active, bad)
        alive = ops.logical_and(alive, ops.logical_not(newly))
        diverged_step = ops.where(newly, step, diverged_step)
        return state, (alive, diverged_step, step, first_loss, loss_sum, metric_sum + metric, seen)

    def _chunk(self, state, sums, x, y, w):
        """Add one chunk's loss and metric sums (inference mode) to ``sums``."""
        loss, metric = self._member_loss(y, self._predict(state, x), w, 1.0)
        return sums[0] + loss, sums[1] + metric

    def _end(self, state, carry, sums, n_val, training, best_val):
        """The epoch's statistics; keep the weights of members whose val loss improved."""
        alive, diverged_step, step, first_loss, loss_sum, metric_sum, _ = carry
        val_loss, val_metric = sums[0] / n_val, sums[1] / n_val
        improved = ops.logical_and(ops.logical_and(alive, training), val_loss < best_val)
        state = self._keep_best(state, improved)
        best_val = ops.where(improved, val_loss, best_val)
        n = float(self.num_train)
        return state, (loss_sum / n, metric_sum / n, val_loss, val_metric, improved, alive,
                       diverged_step, step, first_loss, best_val)

    def _epoch_body(self, state, train, batches, weights, rest, training, alive,
                    diverged_step, step, first_loss):
        """Every mini-batch of an epoch in one trace."""
        zeros = ops.zeros((self.members,), dtype="float32")
        carry = (alive, diverged_step, step, first_loss, zeros, zeros, ops.zeros((), dtype="float32"))
        state, carry = ops.fori_loop(
            0, batches.shape[0],
            lambda i, sc: self._batch(*sc, train, batches[i], weights[i], training),
            (state, carry))
        if rest is not None:  # the last, smaller batch, unpadded
            state, carry = self._batch(state, carry, train, rest,
                                       ops.ones(rest.shape, dtype="float32"), training)
        return state, carry

    def _evaluate(self, state, xs, ys, ws):
        """(K,) loss and metric sums over padded chunks, in a compiled loop."""
        zeros = ops.zeros((self.members,), dtype="float32")
        return ops.fori_loop(0, xs.shape[0],
                             lambda i, s: self._chunk(state, s, xs[i], ys[i], ws[i]),
                             (zeros, zeros))

    def _member_loss(self, yb, y_pred, w, count):
        """(K,) each member's ``sum_i w_i l_ik / count`` and ``sum_i w_i m_ik``."""
        loss, metric = self.objective(yb, y_pred)
        w = ops.expand_dims(w, 1)
        return ops.sum(loss * w, axis=0) / count, ops.sum(metric * w, axis=0)

    def _probe_loss(self, trainable, non_trainable):
        x, y = self.probe
        y_pred, _ = self.model.stateless_call(trainable, non_trainable, x, training=True)
        loss, _ = self.objective(y, y_pred)
        return ops.sum(ops.mean(loss, axis=0))

    # ------------------------------------------------------------------ host side

    def _batches(self, order):
        order = np.asarray(order, np.int32)
        if self.pad:
            batches, weights = pad_batches(len(order), self.batch_size, order)
            return batches, weights, None
        full = len(order) // self.batch_size * self.batch_size
        batches = order[:full].reshape(-1, self.batch_size)
        rest = order[full:] if full < len(order) else None
        return batches, np.ones(batches.shape, np.float32), rest

    def epoch(self, order: np.ndarray, training: np.ndarray, small: dict) -> dict:
        """Train one epoch visiting the examples in ``order``; ``small`` holds ``alive``,
        ``diverged_step``, ``step``, ``first_loss`` and ``best_val``. Returns the epoch's
        statistics."""
        batches, weights, rest = self._batches(order)
        training = np.asarray(training, bool)
        small = (np.asarray(small["alive"], bool), np.asarray(small["diverged_step"], np.int32),
                 np.int32(small["step"]), np.asarray(small["first_loss"], np.float32),
                 np.asarray(small["best_val"], np.float32))
        if self.fused:
            carry = self._run_epoch(batches, weights, rest, training, *small[:4])
        else:
            zeros = np.zeros(self.members, np.float32)
            carry = (*small[:4], zeros, zeros, np.float32(0))
            for i in range(len(batches)):
                carry = self._run_batch(carry, batches[i], weights[i], training)
            if rest is not None:
                carry = self._run_batch(carry, rest, np.ones(len(rest), np.float32), training)
        out = self._run_end(carry, self._sums(*self.val), training, small[4])
        return {n: ops.convert_to_numpy(v) for n, v in zip(_STATS, out)}

    def _sums(self, xs, ys, ws):
        """(K,) loss and metric sums over padded chunks: one compiled call for dense
        models, one per chunk for models with convolutions."""
        if self.fused:
            return self._run_evaluate(xs, ys, ws)
        zeros = np.zeros(self.members, np.float32)
        sums = (zeros, zeros)
        for i in range(xs.shape[0]):
            sums = self._run_chunk(sums, xs[i], ys[i], ws[i])
        return sums

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K,) mean loss and metric of the current weights on ``(x, y)``."""
        xs, ys, ws = self._chunks(x, y)
        sums = self._sums(xs, ys, ws)
        n = float(ws.sum())
        return ops.convert_to_numpy(sums[0]) / n, ops.convert_to_numpy(sums[1]) / n

    def gradient_norms(self) -> np.ndarray:
        """(L, K): per-member norm of each kernel's gradient on the probe batch."""
        return ops.convert_to_numpy(self._run_probe())


def make_engine(*args, **kwargs) -> Engine:
    """The engine of the active Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from .engine_tensorflow import TensorFlowEngine

        return TensorFlowEngine(*args, **kwargs)
    if backend == "jax":
        from .engine_jax import JaxEngine

        return JaxEngine(*args, **kwargs)
    raise NotImplementedError(
        f"nntrain.sweep runs under the TensorFlow and JAX backends; the active backend is {backend!r}.")
