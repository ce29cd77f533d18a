"""``stack``: the stacked twin of K models built alone, and its weights per member."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from .. import _checks
from .layers import (
    StackedBatchNormalization,
    StackedConv2D,
    StackedDense,
    StackedDropout,
    StackedFlatten,
    StackedMaxPooling2D,
    _pair,
)

__all__ = ["member_weights", "set_member_weights", "stack"]

# Activation layouts (see nntrain.sweeps.layers): no member axis, (B, K, F), (B, H, W, K C).
SHARED, DENSE, CONV = "shared", "dense", "conv"


def stack(models: Sequence[keras.Model], name: str | None = None) -> keras.Model:
    """The stacked twin of ``models``: one Keras model computing all of them at once.

    ``models`` must be the same architecture built alone (same layer names and shapes,
    for instance one builder of :mod:`nntrain.models` called with different ``init`` and
    ``seed``). The stacked model reads one input batch ``(B, ...)`` and returns
    ``(B, K, outputs)``: member :math:`k`'s output is ``models[k]``'s output. Its layers
    keep the members' layer names, and its weights are the members' weights (see
    :func:`member_weights`).

    Supported layers: ``Dense``, ``Conv2D``, ``MaxPooling2D``, ``Flatten``, ``Dropout``,
    ``Activation``, ``Add``, ``BatchNormalization`` (after a dense layer) and, before the
    first layer with weights, weight-sharing preprocessing such as ``Normalization``.

    Args:
        models: :math:`K \\ge 1` functional or Sequential Keras models built on a
            ``keras.Input``.
        name: the stacked model's name; default ``"<name>_x<K>"``.

    Returns:
        An uncompiled ``keras.Model``.

    Example:
        >>> members = [nt.models.mlp((8, 8, 1), init=i, seed=0) for i in ("he_normal", "zeros")]
        >>> stack(members).output_shape
        (None, 2, 10)
    """
    models = _checks.sequence("models", models, lambda m: isinstance(m, keras.Model),
                              accepted="a non-empty list of Keras models")
    first = models[0]
    layer_names = [layer.name for layer in first.layers]
    for m in models[1:]:
        if [layer.name for layer in m.layers] != layer_names:
            raise ValueError(
                "`models` must share one architecture (the same layer names in the same "
                f"order). Received: {layer_names} and {[layer.name for layer in m.layers]}")
    if len(first.inputs) != 1 or len(first.outputs) != 1:
        raise ValueError("`models` must have one input and one output. "
                         f"Received: {len(first.inputs)} inputs, {len(first.outputs)} outputs")
    k = len(models)
    by_name = [{layer.name: layer for layer in m.layers} for m in models]

    source = first.inputs[0]
    inputs = keras.Input(tuple(source.shape[1:]), dtype=source.dtype, name="inputs")
    tensors = {id(source): (inputs, SHARED)}
    for layer in first.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        ins = layer.input if isinstance(layer.input, list) else [layer.input]
        args = [tensors[id(t)] for t in ins]
        members = [names[layer.name] for names in by_name]
        tensors[id(layer.output)] = _stack_layer(members, args, k)
    output, layout = tensors[id(first.outputs[0])]
    if layout != DENSE:
        raise ValueError(f"The models' output must come from a dense layer. Received: {layout} output")
    return keras.Model(inputs, output, name=name or f"{first.name}_x{k}")


def _stack_layer(members: list, args: list, k: int):
    """Call the stacked version of ``members`` on ``args`` (tensor, layout) pairs.

    Layers are read through their attributes, not ``get_config`` (which, under JAX,
    imports TensorFlow to serialize the dtype policy)."""
    layer = members[0]
    x, layout = args[0]
    name = layer.name
    if layout == SHARED and not isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
        if isinstance(layer, (keras.layers.Dropout, keras.layers.BatchNormalization)):
            raise ValueError(f"Layer {name!r} ({type(layer).__name__}) before the first dense or "
                             "convolution layer is not supported by the sweep.")
        return layer(x), SHARED  # shared preprocessing: the same for all, reused as it is
    shared = layout == SHARED
    if isinstance(layer, keras.layers.Dense):
        if layout == CONV:
            raise ValueError(f"Dense layer {name!r} needs a Flatten before it.")
        twin = StackedDense(k, layer.units, layer.activation, layer.use_bias,
                            shared_input=shared, name=name)
        out = twin(x)
        twin.set_member_weights(_stacked_weights(members, ("kernel", "bias")))
        return out, DENSE
    if isinstance(layer, keras.layers.Conv2D):
        if layout == DENSE or layer.data_format != "channels_last" or layer.groups != 1:
            raise ValueError(f"Conv2D layer {name!r} must read images, channels last, groups=1.")
        twin = StackedConv2D(k, layer.filters, layer.kernel_size, layer.strides, layer.padding,
                             layer.dilation_rate, layer.activation, layer.use_bias,
                             shared_input=shared, name=name)
        out = twin(x)
        twin.set_member_weights(_stacked_weights(members, ("kernel", "bias")))
        return out, CONV
    if isinstance(layer, keras.layers.MaxPooling2D) and layout == CONV:
        pool, strides = _pair(layer.pool_size), _pair(layer.strides)
        if strides == pool and layer.padding == "valid" and layer.data_format == "channels_last":
            return StackedMaxPooling2D(pool, name=name)(x), CONV
        return keras.layers.MaxPooling2D(pool, strides, layer.padding, layer.data_format,
                                         name=name)(x), CONV
    if isinstance(layer, keras.layers.Flatten):
        return StackedFlatten(k, conv_layout=layout == CONV, name=name)(x), DENSE
    if isinstance(layer, keras.layers.Dropout) and layout == DENSE and layer.noise_shape is None:
        twin = StackedDropout(k, layer.rate, [m.seed for m in members], name=name)
        out = twin(x)
        for gen, m in zip(twin.generators, members):
            gen.state.assign(m.seed_generator.state.value)
        return out, DENSE
    if (isinstance(layer, keras.layers.BatchNormalization) and layout == DENSE
            and layer.axis in (-1, 1) and not getattr(layer, "renorm", False)):
        # (`renorm` came with Keras 3.14; earlier BatchNormalization layers have none)
        twin = StackedBatchNormalization(k, layer.momentum, layer.epsilon, layer.center,
                                         layer.scale, name=name)
        out = twin(x)
        twin.set_member_weights(_stacked_weights(members, StackedBatchNormalization._NAMES))
        return out, DENSE
    if isinstance(layer, (keras.layers.Activation, keras.layers.Add)):
        if len({a[1] for a in args}) != 1:
            raise ValueError(f"Layer {name!r} mixes shared and stacked inputs.")
        twin = (keras.layers.Activation(layer.activation, name=name)
                if isinstance(layer, keras.layers.Activation) else keras.layers.Add(name=name))
        return twin([a[0] for a in args] if len(args) > 1 else x), layout
    raise ValueError(
        f"The sweep cannot stack layer {name!r} ({type(layer).__name__}) reading a {layout} input. "
        "Supported: Dense, Conv2D, MaxPooling2D, Flatten, Dropout, Activation, Add, "
        "BatchNormalization, and weight-sharing preprocessing before the first Dense or Conv2D.")


def _stacked_weights(members: list, names: Sequence[str]) -> dict[str, np.ndarray]:
    """``{name: (K, ...)}`` from each member layer's variable of that name."""
    out = {}
    for n in names:
        values = [getattr(m, n, None) for m in members]
        if values[0] is not None:
            out[n] = np.stack([ops.convert_to_numpy(v) for v in values])
    return out


def _stacked_layers(model: keras.Model) -> list[keras.layers.Layer]:
    _checks.instance("model", model, keras.Model, "a model made by nntrain.sweeps.stack")
    return [layer for layer in model.layers if hasattr(layer, "member_weights")]


def member_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """The weights of a stacked model as ``{"layer/variable": (K, ...)}``, in the layout
    of the layers built alone (``"hidden_1/kernel"``: ``(K, n_in, n_out)``).

    Args:
        model: a model made by :func:`stack`.

    Returns:
        A dict of NumPy arrays; entry ``[k]`` of each is member ``k``'s weight.
    """
    return {f"{layer.name}/{n}": w for layer in _stacked_layers(model)
            for n, w in layer.member_weights().items()}


def set_member_weights(model: keras.Model, weights: dict[str, np.ndarray]) -> None:
    """Assign weights given as :func:`member_weights` returns them.

    Args:
        model: a model made by :func:`stack`.
        weights: ``{"layer/variable": (K, ...)}``.
    """
    if not isinstance(weights, dict) or not all(isinstance(key, str) for key in weights):
        _checks.fail("weights", 'a dict {"layer/variable": (K, ...) array}, as member_weights returns',
                     weights, shown=_checks.shown(weights))
    for layer in _stacked_layers(model):
        prefix = f"{layer.name}/"
        layer.set_member_weights({key[len(prefix):]: w for key, w in weights.items()
                                  if key.startswith(prefix)})


