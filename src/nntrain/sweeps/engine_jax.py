"""The JAX half of the sweep engine: a pytree of state threaded through ``jax.jit``.

See :mod:`nntrain.sweeps.engine` for what an epoch computes.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from .engine import Engine, _finite_members, _keep, _member_norms

__all__ = ["JaxEngine"]


class JaxEngine(Engine):
    """The state is a pytree threaded through ``jax.jit`` (donated: updated in place)."""

    def _setup(self, train, val, jit_compile):
        import jax
        import jax.numpy as jnp

        self.jax = jax
        self.is_member = [any(v is m for m in self.member_variables)
                          for v in self.model.non_trainable_variables]
        trainable = [jnp.array(v.value) for v in self.model.trainable_variables]
        non_trainable = [jnp.array(v.value) for v in self.model.non_trainable_variables]
        self.state = {
            "trainable": trainable,
            "non_trainable": non_trainable,
            "optimizer": [jnp.array(v.value) for v in self.optimizer.variables],
            "best_trainable": [jnp.array(t) for t in trainable],
            "best_non_trainable": [jnp.array(t) for t, m in zip(non_trainable, self.is_member) if m],
        }
        self.train = tuple(jnp.asarray(a) for a in train)
        self.val = tuple(jnp.asarray(a) for a in val)
        self._n_val = float(val[2].sum())
        self._epoch_fn = jax.jit(self._epoch_body, donate_argnums=(0,))
        self._batch_fn = jax.jit(self._batch, donate_argnums=(0,))
        self._chunk_fn = jax.jit(self._chunk)
        self._end_fn = jax.jit(self._end, donate_argnums=(0,))
        self._evaluate_fn = jax.jit(self._evaluate)
        self._probe_fn = jax.jit(jax.grad(self._probe_loss))

    def _run_epoch(self, *args):
        self.state, carry = self._epoch_fn(self.state, self.train, *args)
        return carry

    def _run_batch(self, carry, idx, w, training):
        self.state, carry = self._batch_fn(self.state, carry, self.train, idx, w, training)
        return carry

    def _run_chunk(self, sums, x, y, w):
        return self._chunk_fn(self.state, sums, x, y, w)

    def _run_end(self, carry, sums, training, best_val):
        self.state, stats = self._end_fn(self.state, carry, sums, self._n_val, training, best_val)
        return stats

    def _run_evaluate(self, xs, ys, ws):
        return self._evaluate_fn(self.state, xs, ys, ws)

    def _train_step(self, state, xb, yb, wb, active):
        count = ops.sum(wb)

        def loss_fn(trainable):
            y_pred, non_trainable = self.model.stateless_call(
                trainable, state["non_trainable"], xb, training=True)
            loss, metric = self._member_loss(yb, y_pred, wb, count)
            return ops.sum(loss), (loss, metric, non_trainable)

        (_, (loss, metric, non_trainable)), grads = self.jax.value_and_grad(
            loss_fn, has_aux=True)(state["trainable"])
        checked = [grads[i] for i in self.check_index]
        ok = ops.logical_and(active, ops.logical_and(ops.isfinite(loss),
                                                     _finite_members(checked, self.members)))
        trainable, opt = self.optimizer.stateless_apply(state["optimizer"], grads,
                                                        state["trainable"])
        trainable = [_keep(ok, new, old) for new, old in zip(trainable, state["trainable"])]
        non_trainable = [_keep(ok, new, old) if member else new for new, old, member
                         in zip(non_trainable, state["non_trainable"], self.is_member)]
        state = {**state, "trainable": trainable, "non_trainable": non_trainable, "optimizer": opt}
        return state, loss, metric, ok

    def _predict(self, state, xb):
        return self.model.stateless_call(state["trainable"], state["non_trainable"], xb,
                                         training=False)[0]

    def _keep_best(self, state, improved):
        members = [t for t, m in zip(state["non_trainable"], self.is_member) if m]
        return {
            **state,
            "best_trainable": [_keep(improved, t, b) for t, b
                               in zip(state["trainable"], state["best_trainable"])],
            "best_non_trainable": [_keep(improved, t, b) for t, b
                                   in zip(members, state["best_non_trainable"])],
        }

    def _run_probe(self):
        grads = self._probe_fn(self.state["trainable"], self.state["non_trainable"])
        return _member_norms([grads[i] for i in self.norm_index], self.members)

    def finish(self, use_best: np.ndarray) -> None:
        """Put the final weights (the best ones for ``use_best``) in the state and in the
        model's variables."""
        mask = np.asarray(use_best, bool)
        state = self.state
        trainable = [_keep(mask, b, t) for t, b in zip(state["trainable"], state["best_trainable"])]
        best = iter(state["best_non_trainable"])
        non_trainable = [_keep(mask, next(best), t) if member else t
                         for t, member in zip(state["non_trainable"], self.is_member)]
        self.state = {**state, "trainable": trainable, "non_trainable": non_trainable}
        for v, t in zip(self.model.trainable_variables, trainable):
            v.assign(t)
        for v, t in zip(self.model.non_trainable_variables, non_trainable):
            v.assign(t)
        for v, t in zip(self.optimizer.variables, state["optimizer"]):
            v.assign(t)
