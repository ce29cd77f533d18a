"""Model builders for the course's experiments, and the one helper that compiles them.

Every builder returns an *uncompiled* Keras model (``keras.Sequential`` or a functional
``keras.Model``), so the same architecture can be trained with any optimizer, loss or
training loop. All builders share three conventions:

* ``init=`` is an initializer name (resolved with :func:`nntrain.initializers.get`) or a
  ``keras.initializers.Initializer`` instance;
* ``seed=`` fixes every random choice of the model: layer :math:`i` draws its weights with its
  own seed :math:`s_i`, derived from ``(seed, i)`` by NumPy's ``SeedSequence``, so the same
  seed gives identical weights and no two layers share a random stream (``seed=None`` draws
  fresh seeds from Python's ``random``, which :func:`nntrain.setup` seeds);
* layers carry stable names (``hidden_1``, ``hidden_2``, ..., ``output``) because the
  diagnostics in :mod:`nntrain.diagnostics` report per layer.

:func:`compile_for` picks the loss and metrics from the task: sparse categorical
cross-entropy and accuracy for classification, mean squared error and mean absolute error
for regression.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from . import initializers as _initializers
from . import optimizers as _optimizers
from .data import Dataset
from . import _checks
from ._checks import is_int as _is_int

__all__ = ["CELLS", "cnn", "compile_for", "deep_mlp", "loss_and_metrics", "mlp", "regression", "rnn"]

InitLike = str | keras.initializers.Initializer

# The recurrent layers `rnn` can build, by the name of their cell.
CELLS: dict[str, type[keras.layers.Layer]] = {
    "simple": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}

# task -> (loss, metrics) that `compile_for` uses when none are given.
_TASK_DEFAULTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "classification": ("sparse_categorical_crossentropy", ("accuracy",)),
    "regression": ("mean_squared_error", ("mean_absolute_error",)),
}


# ---------------------------------------------------------------------------- builders


def mlp(
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int | None = 10,
    init: InitLike = "he_normal",
    seed: int | None = 0,
) -> keras.Sequential:
    """The case study's multilayer perceptron: 256 sigmoid units, then 128 tanh units.

    .. math::

        h_1 = \\sigma(W_1 x + b_1), \\quad h_2 = \\tanh(W_2 h_1 + b_2), \\quad
        \\hat y = \\operatorname{softmax}(W_3 h_2 + b_3)

    Args:
        input_shape: shape of one example; it is flattened first.
        num_classes: number of classes of the softmax output; ``None`` gives one linear
            output unit (regression).
        init: initializer of every kernel, a name or an instance.
        seed: the seed of every kernel (see the module docstring).

    Returns:
        An uncompiled ``keras.Sequential`` with layers ``flatten``, ``hidden_1``,
        ``hidden_2``, ``output``.

    Example:
        >>> model = mlp((8, 8, 1), num_classes=10, init="xavier_uniform", seed=1)
        >>> model.count_params()
        50826
    """
    shape = _check_input_shape(input_shape)
    _check_num_classes(num_classes)
    kernels = _Kernels(init, seed)
    return keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Flatten(name="flatten"),
            _dense(256, "sigmoid", kernels, "hidden_1"),
            _dense(128, "tanh", kernels, "hidden_2"),
            _head(num_classes, kernels),
        ],
        name="mlp",
    )


def cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int | None = 10,
    init: InitLike = "he_normal",
    seed: int | None = 0,
) -> keras.Sequential:
    """A small convolutional network: two conv/pool stages, a dense layer with dropout.

    Conv 32 (3x3, ReLU), max-pool 2, conv 64 (3x3, ReLU), max-pool 2, flatten, dense 128
    (ReLU), dropout 0.5, softmax output.

    Args:
        input_shape: ``(height, width, channels)``; each side at least 10 pixels, so that
            both conv/pool stages fit.
        num_classes: classes of the softmax output; ``None`` gives one linear unit.
        init: initializer of every kernel, a name or an instance.
        seed: the seed of every kernel and of the dropout masks.

    Returns:
        An uncompiled ``keras.Sequential`` with layers ``conv_1``, ``pool_1``, ``conv_2``,
        ``pool_2``, ``flatten``, ``hidden_1``, ``dropout``, ``output``.

    Example:
        >>> model = cnn((28, 28, 1), num_classes=10, seed=0)
        >>> model.output_shape
        (None, 10)
    """
    shape = _check_input_shape(input_shape)
    # two valid 3x3 convolutions and two 2x2 poolings need at least 10 pixels a side
    if len(shape) != 3 or min(shape[:2]) < 10:
        _checks.fail("input_shape", "(height, width, channels) with height and width of at least 10",
                     input_shape)
    _check_num_classes(num_classes)
    kernels = _Kernels(init, seed)
    return keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Conv2D(32, 3, activation="relu", name="conv_1",
                                kernel_initializer=kernels.next()),
            keras.layers.MaxPooling2D(2, name="pool_1"),
            keras.layers.Conv2D(64, 3, activation="relu", name="conv_2",
                                kernel_initializer=kernels.next()),
            keras.layers.MaxPooling2D(2, name="pool_2"),
            keras.layers.Flatten(name="flatten"),
            _dense(128, "relu", kernels, "hidden_1"),
            keras.layers.Dropout(0.5, seed=kernels.next_seed(), name="dropout"),
            _head(num_classes, kernels),
        ],
        name="cnn",
    )


def regression(
    input_shape: Sequence[int] = (8,),
    init: InitLike = "he_normal",
    seed: int | None = 0,
    normalization_data: np.ndarray | None = None,
) -> keras.Sequential:
    """A regression network for tabular data (California housing): 64 and 32 ReLU units.

    .. math::

        \\hat y = w_3^\\top \\operatorname{relu}(W_2 \\operatorname{relu}(W_1 z + b_1) + b_2)
        + b_3, \\qquad z = (x - \\mu) / \\sigma

    Args:
        input_shape: shape of one example, ``(features,)``.
        init: initializer of every kernel, a name or an instance.
        seed: the seed of every kernel.
        normalization_data: training features to adapt the ``Normalization`` layer to
            (its :math:`\\mu` and :math:`\\sigma`); ``None`` leaves it the identity
            (:math:`\\mu = 0, \\sigma = 1`), right for features already standardized, as
            :func:`nntrain.data.load` gives them.

    Returns:
        An uncompiled ``keras.Sequential`` with layers ``normalization``, ``hidden_1``,
        ``hidden_2``, ``output``.

    Example:
        >>> regression((8,)).output_shape
        (None, 1)
    """
    shape = _check_input_shape(input_shape)
    normalization = keras.layers.Normalization(name="normalization")
    if normalization_data is not None:
        data = _checks.array("normalization_data", normalization_data, dtype="float32",
                             accepted="a non-empty array of finite numbers of shape "
                                      f"(n, {', '.join(map(str, shape))}), to match `input_shape`")
        if data.ndim < 1 or data.shape[1:] != shape:
            _checks.fail("normalization_data", f"an array of shape (n, {', '.join(map(str, shape))}), "
                         "to match `input_shape`", data, shown=_checks.shown(data))
        normalization.adapt(data)
    kernels = _Kernels(init, seed)
    return keras.Sequential(
        [
            keras.Input(shape),
            normalization,
            _dense(64, "relu", kernels, "hidden_1"),
            _dense(32, "relu", kernels, "hidden_2"),
            _head(None, kernels),
        ],
        name="regression",
    )


def deep_mlp(
    depth: int,
    width: int,
    activation: str | Callable = "relu",
    init: InitLike = "he_normal",
    batch_norm: bool = False,
    residual: bool = False,
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int | None = 10,
    seed: int | None = 0,
) -> keras.Model:
    """A deep multilayer perceptron of ``depth`` equal hidden layers: the vanishing and
    exploding gradient experiments.

    Hidden block :math:`l` maps :math:`h_{l-1}` to

    .. math::

        f_l(h_{l-1}) = \\phi(\\operatorname{BN}(W_l h_{l-1} + b_l)), \\qquad
        h_l = \\begin{cases} h_{l-1} + f_l(h_{l-1}) & \\text{residual} \\\\
        f_l(h_{l-1}) & \\text{otherwise} \\end{cases}

    where :math:`\\phi` is ``activation`` and BN (batch normalization, with its own
    scale and shift, so the dense layer then has no bias) is there only with
    ``batch_norm=True``. With ``residual=True`` a linear ``projection`` to ``width``
    comes first so that :math:`h_0` and :math:`f_1(h_0)` have the same shape.

    Args:
        depth: number of hidden layers, at least 1.
        width: units per hidden layer, at least 1.
        activation: a Keras activation name (``"relu"``, ``"tanh"``, ``"sigmoid"``, ...)
            or callable.
        init: initializer of every kernel, a name or an instance.
        batch_norm: add ``BatchNormalization`` between each dense layer and its activation.
        residual: wrap each hidden block in a skip connection :math:`h + f(h)`.
        input_shape: shape of one example; it is flattened first.
        num_classes: classes of the softmax output; ``None`` gives one linear unit.
        seed: the seed of every kernel.

    Returns:
        An uncompiled functional ``keras.Model``. Its layers are named ``hidden_1`` ...
        ``hidden_{depth}`` (the dense layers; their kernels are what the diagnostics
        report), with ``hidden_{l}_bn``, ``hidden_{l}_act`` (only with ``batch_norm``) and
        ``hidden_{l}_add`` (only with ``residual``), ``projection`` and ``output``.

    Example:
        >>> model = deep_mlp(depth=20, width=32, activation="sigmoid", init="xavier_normal",
        ...                  input_shape=(8, 8, 1))
        >>> [layer.name for layer in model.layers][2:4]
        ['hidden_1', 'hidden_2']

    References:
        Ioffe & Szegedy, 2015, https://arxiv.org/abs/1502.03167 (batch normalization);
        He et al., 2016, https://arxiv.org/abs/1512.03385 (residual connections).
    """
    _checks.integer("depth", depth, minimum=1)
    _checks.integer("width", width, minimum=1)
    _check_activation(activation)
    batch_norm = _checks.boolean("batch_norm", batch_norm)
    residual = _checks.boolean("residual", residual)
    shape = _check_input_shape(input_shape)
    _check_num_classes(num_classes)
    kernels = _Kernels(init, seed)

    inputs = keras.Input(shape, name="inputs")
    h = keras.layers.Flatten(name="flatten")(inputs)
    if residual:
        h = keras.layers.Dense(width, name="projection", kernel_initializer=kernels.next())(h)
    for layer in range(1, depth + 1):
        name = f"hidden_{layer}"
        if batch_norm:
            f = keras.layers.Dense(width, use_bias=False, name=name,
                                   kernel_initializer=kernels.next())(h)
            f = keras.layers.BatchNormalization(name=f"{name}_bn")(f)
            f = keras.layers.Activation(activation, name=f"{name}_act")(f)
        else:
            f = _dense(width, activation, kernels, name)(h)
        h = keras.layers.Add(name=f"{name}_add")([h, f]) if residual else f
    outputs = _head(num_classes, kernels)(h)
    return keras.Model(inputs, outputs, name="deep_mlp")


def rnn(
    cell: str = "lstm",
    units: int = 32,
    input_shape: Sequence[int] = (28, 28),
    num_classes: int | None = 10,
    init: InitLike = "xavier_uniform",
    recurrent_init: InitLike = "orthogonal",
    seed: int | None = 0,
) -> keras.Sequential:
    """A one-layer recurrent network reading a sequence, then a dense output.

    For the simple cell, :math:`h_t = \\tanh(W x_t + U h_{t-1} + b)`; LSTM and GRU add
    their gates. ``W`` (``kernel``) is drawn by ``init``, ``U`` (``recurrent_kernel``) by
    ``recurrent_init``, orthogonal by default so that repeated multiplication by ``U``
    neither shrinks nor grows the state.

    Args:
        cell: ``"simple"``, ``"lstm"`` or ``"gru"``.
        units: size of the hidden state, at least 1.
        input_shape: ``(timesteps, features)``; an image ``(28, 28)`` is read row by row.
        num_classes: classes of the softmax output; ``None`` gives one linear unit.
        init: initializer of the input kernel :math:`W` and of the output layer.
        recurrent_init: initializer of the recurrent kernel :math:`U`.
        seed: the seed of every kernel.

    Returns:
        An uncompiled ``keras.Sequential`` with layers ``recurrent`` and ``output``.

    Example:
        >>> rnn("gru", units=16, input_shape=(8, 8), num_classes=10).output_shape
        (None, 10)

    References:
        Hochreiter & Schmidhuber, 1997, https://doi.org/10.1162/neco.1997.9.8.1735 (LSTM);
        Cho et al., 2014, https://arxiv.org/abs/1406.1078 (GRU);
        Saxe et al., 2014, https://arxiv.org/abs/1312.6120 (orthogonal initialization).
    """
    _checks.choice("cell", cell, list(CELLS))
    _checks.integer("units", units, minimum=1)
    shape = _check_input_shape(input_shape)
    if len(shape) != 2:
        _checks.fail("input_shape", "(timesteps, features)", input_shape)
    _check_num_classes(num_classes)
    kernels = _Kernels(init, seed)
    recurrent = _Kernels(recurrent_init, seed, stream=1, name="recurrent_init")
    return keras.Sequential(
        [
            keras.Input(shape),
            CELLS[cell](units, name="recurrent", kernel_initializer=kernels.next(),
                        recurrent_initializer=recurrent.next()),
            _head(num_classes, kernels),
        ],
        name=f"rnn_{cell}",
    )


# ----------------------------------------------------------------------------- compile


def loss_and_metrics(task: str | Dataset) -> tuple[str, list[str]]:
    """The loss and metrics of a task: cross-entropy and accuracy, or MSE and MAE.

    Args:
        task: ``"classification"``, ``"regression"`` or a :class:`~nntrain.data.Dataset`.

    Returns:
        ``(loss, metrics)`` as Keras names.

    Example:
        >>> loss_and_metrics("regression")
        ('mean_squared_error', ['mean_absolute_error'])
    """
    name = task.task if isinstance(task, Dataset) else task
    if not isinstance(name, str) or name not in _TASK_DEFAULTS:
        _checks.fail("task", f"one of {list(_TASK_DEFAULTS)} or a Dataset", task, shown=_checks.shown(task))
    loss, metrics = _TASK_DEFAULTS[name]
    return loss, list(metrics)


def compile_for(
    model: keras.Model,
    task: str | Dataset,
    optimizer: str | keras.optimizers.Optimizer = "adam",
    loss: str | keras.losses.Loss | None = None,
    metrics: Sequence[str | keras.metrics.Metric] | None = None,
) -> keras.Model:
    """Compile ``model`` with the loss and metrics of ``task`` (see :func:`loss_and_metrics`).

    Args:
        model: a Keras model.
        task: ``"classification"``, ``"regression"`` or a :class:`~nntrain.data.Dataset`.
        optimizer: a name for :func:`nntrain.optimizers.get` (the course's own
            optimizers, with their default settings) or a ``keras.optimizers.Optimizer``.
        loss: overrides the task's loss.
        metrics: overrides the task's metrics.

    Returns:
        The same model, compiled.

    Example:
        >>> model = compile_for(mlp((8, 8, 1)), "classification", optimizer="sgd")
        >>> model.loss
        'sparse_categorical_crossentropy'
    """
    _checks.instance("model", model, keras.Model, "a Keras model (see nntrain.models)")
    default_loss, default_metrics = loss_and_metrics(task)
    optimizer = _optimizers._resolve(optimizer)
    if loss is not None:
        _check_loss(loss)
    if metrics is not None:
        metrics = _check_metrics(metrics)
    model.compile(
        optimizer=optimizer,
        loss=default_loss if loss is None else loss,
        metrics=default_metrics if metrics is None else list(metrics),
    )
    return model


# ----------------------------------------------------------------------------- helpers


class _Kernels:
    """Hands out one initializer per layer, each with its own seed derived from ``seed``."""

    def __init__(self, init: InitLike, seed: int | None, stream: int = 0, name: str = "init"):
        accepted = "an initializer name or a keras.initializers.Initializer"
        if not isinstance(init, (str, keras.initializers.Initializer)):
            _checks.fail(name, accepted, init)
        _checks.seed("seed", seed, none=True)
        self.init, self.seed, self.stream, self.count = init, seed, stream, 0
        try:
            _resolve(init, 0)  # a bad name fails here, before any layer is made
        except ValueError:
            if not isinstance(init, str) or _initializers._lookup(init) is not None:
                raise
            _checks.fail(name, f"an initializer name, one of {_initializers.available()}, or a "
                         "keras.initializers.Initializer", init)

    def next_seed(self) -> int | None:
        self.count += 1
        if self.seed is None:
            return None
        # 31 bits: a seed every backend accepts as a plain int
        state = np.random.SeedSequence([self.seed, self.stream, self.count]).generate_state(1)
        return int(state[0] >> 1)

    def next(self) -> keras.initializers.Initializer:
        return _resolve(self.init, self.next_seed())


def _resolve(init: InitLike, seed: int | None) -> keras.initializers.Initializer:
    """An initializer for one layer: a name through ``nntrain.initializers.get``; an
    instance cloned with the layer's seed when it takes one."""
    if isinstance(init, str):
        try:
            return _initializers.get(init, seed=seed)
        except ValueError:
            instance = _initializers.get(init)  # an unknown name raises its own error here
            if "seed" in instance.get_config():
                raise
            return instance  # a deterministic initializer (zeros, constant) takes no seed
    config = init.get_config()
    if "seed" in config:
        config["seed"] = seed
    return type(init).from_config(config)


def _dense(units: int, activation, kernels: _Kernels, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(units, activation=activation, name=name,
                              kernel_initializer=kernels.next())


def _head(num_classes: int | None, kernels: _Kernels) -> keras.layers.Dense:
    if num_classes is None:
        return _dense(1, None, kernels, "output")
    return _dense(num_classes, "softmax", kernels, "output")


def _check_input_shape(input_shape: object) -> tuple[int, ...]:
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if isinstance(input_shape, str) or not shape or not all(_is_int(d) and d >= 1 for d in shape):
        _checks.fail("input_shape", "a non-empty tuple of positive integers (one example, without "
                     "the batch axis)", input_shape)
    return tuple(int(d) for d in shape)


def _check_num_classes(num_classes: object) -> None:
    if num_classes is not None and not (_is_int(num_classes) and num_classes >= 2):
        _checks.fail("num_classes", "an integer of at least 2, or None for one regression output",
                     num_classes)


def _check_activation(activation: object) -> None:
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        _checks.fail("activation", "a Keras activation name such as 'relu', 'tanh', 'sigmoid', "
                     "'linear', or a callable", activation)


def _check_loss(loss: object, name: str = "loss") -> object:
    """``loss``, if Keras can resolve it (a loss name, a ``keras.losses.Loss`` or a callable);
    else the package's ValueError naming ``name``."""
    try:
        if callable(loss) or keras.losses.get(loss) is not None:
            return loss
    except (ValueError, TypeError):
        pass
    _checks.fail(name, "a Keras loss name, a keras.losses.Loss or a callable", loss,
                 shown=_checks.shown(loss))


def _check_metrics(metrics: object, name: str = "metrics") -> list:
    """``list(metrics)``, if each is a metric Keras can resolve (a name, a
    ``keras.metrics.Metric`` or a callable); else the package's ValueError naming ``name``."""

    def known(metric: object) -> bool:
        if callable(metric) or isinstance(metric, keras.metrics.Metric):
            return True
        if not isinstance(metric, str):
            return False
        if metric in ("accuracy", "acc", "crossentropy", "ce"):  # resolved by compile per task
            return True
        keras.metrics.get(metric)
        return True

    return _checks.sequence(name, metrics, known, min_len=0,
                            accepted="a list of Keras metric names, keras.metrics.Metric or callables")
