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

The package's modules: :mod:`.probes` (one-off measurements on a probe batch),
:mod:`.callbacks` (records taken while Keras trains), :mod:`.histograms` (TensorBoard's
weight histograms) and :mod:`._core` (the compiled probes and argument checks they share).
Everything public is re-exported here: ``nt.diagnostics.Monitor``.

Beyond the layers: :func:`gradient_through_time` measures how far back in a sequence the
loss still reaches, :class:`StepLoss` the loss of every mini-batch (spikes included),
:class:`Monitor` bundles the four per-step records and draws them, and
:func:`read_histograms` reads back what ``keras.callbacks.TensorBoard`` wrote.
"""

from __future__ import annotations

from ._core import LOSS_RATIO, SIGMOID_SATURATION, TANH_SATURATION, WEIGHT_VARIABLES
from .callbacks import ActivationStats, DivergenceGuard, GradientNorms, Monitor, StepLoss, UpdateRatios
from .histograms import plot_histograms, read_histograms
from .probes import activation_stats, gradient_norms, gradient_through_time, gradients, input_gradients

__all__ = [
    "ActivationStats",
    "DivergenceGuard",
    "GradientNorms",
    "LOSS_RATIO",
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
