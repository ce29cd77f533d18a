"""Shared pieces of the diagnostics: the thresholds, the compiled gradient and activation
probes (one per model, cached), and the checks of their arguments."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from .. import _checks


# The variables a layer multiplies its input by (not biases, not normalization scales):
# the ones whose gradients and updates the diagnostics report by default.
WEIGHT_VARIABLES: tuple[str, ...] = ("kernel", "recurrent_kernel")

# A tanh unit is saturated when |a| > 0.99, i.e. |z| > 2.65, where tanh'(z) < 0.02.
TANH_SATURATION = 0.99
# A sigmoid unit is saturated when a < 0.01 or a > 0.99, i.e. |z| > 4.6, where
# sigma'(z) < 0.01 (its maximum is 0.25).
SIGMOID_SATURATION = 0.01

_ACTIVATION_COLUMNS = ("layer", "activation", "mean", "std", "saturated", "zeros", "dead")

# The one rule of divergence, shared by `nt.train` (DivergenceGuard) and `nt.sweep` (its
# compiled engine): at step t a run has diverged when its loss or its weights (in a sweep,
# its gradients) are not finite, or when the loss Keras logs, the running mean over the
# epoch so far, exceeds LOSS_RATIO times the loss of the run's first batch. A softmax
# cross-entropy rarely reaches infinity (Keras clips probabilities at 1e-7, so a sample's
# loss saturates at -log(1e-7) = 16.1), so the growth rule is what catches a classifier
# thrown off by a large rate: its first loss is about log(10) = 2.3, and 4x that (9.2) is
# far above anything a healthy run logs, yet well below the ceiling.
LOSS_RATIO = 4.0


def check_loss_ratio(loss_ratio: float | None) -> float | None:
    """``loss_ratio`` as a float above 1, or ``None`` (finiteness only); else ValueError."""
    if loss_ratio is None:
        return None
    return _checks.real("loss_ratio", loss_ratio, "a finite number above 1, or None",
                        lambda v: v > 1)


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


def check_loss(loss: object) -> object:
    """``loss``, if it is ``None`` (the model's or the task's loss) or a loss Keras can resolve
    (:func:`nntrain.models._check_loss`, the one check of a loss); else the package's ValueError."""
    from ..models import _check_loss

    return None if loss is None else _check_loss(loss)


def _loss_function(model: keras.Model, y, loss) -> Callable:
    check_loss(loss)
    if loss is None:
        loss = getattr(model, "loss", None)
    if loss is None:
        integer = np.issubdtype(np.asarray(y).dtype, np.integer)
        loss = "sparse_categorical_crossentropy" if integer else "mean_squared_error"
    return keras.losses.get(loss)


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
    if variables is not None:
        _checks.sequence("variables", variables, lambda v: isinstance(v, str), min_len=0,
                         accepted="a sequence of variable names such as ('kernel',), or None for all")


def check_model(model) -> keras.Model:
    """``model``, if it is a Keras model; else the package's ValueError."""
    return _checks.instance("model", model, keras.Model, "a built Keras model")


def check_batch(x, y=None, names: tuple[str, str] = ("x", "y")):
    """``x`` (and ``y``) as arrays, if ``x`` is a non-empty batch of finite inputs and ``y`` holds
    one target per example (NaN targets are let through: a probe reports what they give)."""
    x = _checks.examples(x, names=names)
    if y is None:
        return x
    return _checks.examples(x, y, names=names, finite=False)


def _check_probe(x, y):
    return check_batch(x, y, names=("x_probe", "y_probe"))
