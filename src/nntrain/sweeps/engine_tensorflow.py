"""The TensorFlow half of the sweep engine: variables updated in place in ``tf.function``.

See :mod:`nntrain.sweeps.engine` for what an epoch computes.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .engine import Engine, _finite_members, _keep, _member_norms

__all__ = ["TensorFlowEngine"]


class TensorFlowEngine(Engine):
    """The model's variables are updated in place inside ``tf.function``."""

    def _setup(self, train, val, jit_compile):
        import tensorflow as tf

        self.tf = tf
        self.strategy = tf.distribute.get_strategy()
        replicated = self.strategy.num_replicas_in_sync > 1
        with self.strategy.scope():
            # from a copy: a Keras variable made from a tf.Variable would share it
            self.best = [keras.Variable(ops.convert_to_numpy(v), trainable=False,
                                        name=f"best_{v.name}") for v in self.member_variables]
        self.train = tuple(tf.constant(a) for a in train)
        self.val = tuple(tf.constant(a) for a in val)
        jit = bool(jit_compile) and not replicated  # XLA clusters do not span replicas

        def compiled(fn):
            # no AutoGraph: the loops are explicit, and converting Keras's code costs seconds
            return tf.function(fn, jit_compile=jit, autograph=False)

        self._epoch_fn = compiled(lambda *a: self._epoch_body((), self.train, *a)[1])
        self._batch_fn = compiled(lambda c, i, w, t: self._batch((), c, self.train, i, w, t)[1])
        self._chunk_fn = compiled(lambda s, x, y, w: self._chunk((), s, x, y, w))
        self._end_fn = compiled(lambda c, s, n, t, b: self._end((), c, s, n, t, b)[1])
        self._evaluate_fn = compiled(lambda *chunks: self._evaluate((), *chunks))
        self._probe_fn = compiled(self._probe_graph)
        self._n_val = tf.constant(float(val[2].sum()))

    def _run_epoch(self, *args):
        return self._epoch_fn(*args)

    def _run_batch(self, carry, idx, w, training):
        return self._batch_fn(carry, idx, w, training)

    def _run_chunk(self, sums, x, y, w):
        return self._chunk_fn(sums, x, y, w)

    def _run_end(self, carry, sums, training, best_val):
        return self._end_fn(carry, sums, self._n_val, training, best_val)

    def _run_evaluate(self, xs, ys, ws):
        return self._evaluate_fn(xs, ys, ws)

    def _train_step(self, state, xb, yb, wb, active):
        before = [self.tf.identity(v.value) for v in self.member_variables]  # snapshots
        result = self.strategy.run(self._replica_step, args=(xb, yb, wb))
        loss, metric, grads_ok = (self.strategy.experimental_local_results(r)[0] for r in result)
        ok = ops.logical_and(active, ops.logical_and(ops.isfinite(loss), grads_ok))
        for v, old in zip(self.member_variables, before):
            v.assign(_keep(ok, v.value, old))
        return state, loss, metric, ok

    def _replica_step(self, xb, yb, wb):
        tf = self.tf
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync
        count = ops.sum(wb)  # examples in the global batch
        if replicas > 1:  # this replica's share of the global batch
            batch = ops.shape(xb)[0]
            start = ctx.replica_id_in_sync_group * batch // replicas
            stop = (ctx.replica_id_in_sync_group + 1) * batch // replicas
            xb, yb, wb = xb[start:stop], yb[start:stop], wb[start:stop]
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            # this replica's share of every member's mean loss; the optimizer sums them
            loss, metric = self._member_loss(yb, self.model(xb, training=True), wb, count)
            total = ops.sum(loss)
        grads = tape.gradient(total, variables)
        checked = [grads[i] for i in self.check_index]
        grads_bad = ops.cast(ops.logical_not(_finite_members(checked, self.members)), "float32")
        self.optimizer.apply(grads, variables)
        if replicas > 1:
            loss, metric, grads_bad = ctx.all_reduce("sum", [loss, metric, grads_bad])
        return loss, metric, ops.equal(grads_bad, 0)

    def _predict(self, state, xb):
        return self.model(xb, training=False)

    def _keep_best(self, state, improved):
        for v, best in zip(self.member_variables, self.best):
            best.assign(_keep(improved, v.value, best.value))
        return state

    def _probe_graph(self):
        tf = self.tf
        trainable = [tf.identity(v.value) for v in self.model.trainable_variables]
        non_trainable = [tf.identity(v.value) for v in self.model.non_trainable_variables]
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            total = self._probe_loss(trainable, non_trainable)
        grads = tape.gradient(total, trainable)
        return _member_norms([grads[i] for i in self.norm_index], self.members)

    def _run_probe(self):
        return self._probe_fn()

    def finish(self, use_best: np.ndarray) -> None:
        """Put the best weights in place for the members of ``use_best``."""
        mask = ops.convert_to_tensor(np.asarray(use_best, bool))
        for v, best in zip(self.member_variables, self.best):
            v.assign(_keep(mask, best.value, v.value))
