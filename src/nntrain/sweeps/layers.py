r"""Stacked layers: :math:`K` copies of a layer, one per *member*, computed together.

A stacked layer holds the weights of :math:`K` independent models along a leading member
axis: the kernel of a stacked dense layer has shape :math:`(K, n_\text{in}, n_\text{out})`.
Activations carry the member axis too, in one of two layouts:

* **dense** ``(B, K, F)``: batch first (so Keras can split batches as usual), then
  members, then features;
* **conv** ``(B, H, W, K C)``: the members' channels side by side, member-major, a
  layout that channel-wise operations (activations, pooling) pass through unchanged.

The first layer with weights reads an input that every member shares, ``(B, ...)``,
without a member axis; it is ``shared_input=True`` and turns that input into stacked
activations with **one** wide product: for a dense layer

.. math::

    Y = X\, [W_1 \; W_2 \; \cdots \; W_K] \in \mathbb{R}^{B \times K n_\text{out}},

one matrix product instead of :math:`K`, and no input gradient is ever needed for it.
Its kernel is stored as :math:`(K, n_\text{out}, n_\text{in})`, so that the matrix
:math:`[W_1 \cdots W_K]^\top` is a plain reshape of it (no copy) and the product is an
ordinary matrix product with a transposed operand. Later dense layers are batched
products :math:`Y_k = X_k W_k` (``einsum("bki,kio->bko")``). A stacked convolution
reading the shared image is one convolution with :math:`K F` filters; later ones are one
convolution per member on its own channels (a grouped convolution would be one op, but
XLA's CPU backend runs it as a dense one with zero blocks, :math:`K` times the work).

:func:`nntrain.sweeps.stack` builds the stacked twin of a list of models built alone
from these layers, copying each member's weights, so member :math:`k` of the stack
computes exactly what model :math:`k` computes alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from .. import _checks

__all__ = [
    "StackedBatchNormalization",
    "StackedConv2D",
    "StackedDense",
    "StackedDropout",
    "StackedFlatten",
    "StackedMaxPooling2D",
]


def _check_members(members: object) -> int:
    return _checks.integer("members", members, minimum=1)


@keras.saving.register_keras_serializable(package="nntrain")
class StackedDense(keras.layers.Layer):
    r""":math:`K` dense layers :math:`y_k = \phi(x_k W_k + b_k)`, one per member.

    Args:
        members: :math:`K`.
        units: :math:`n_\text{out}`, units of each member.
        activation: the activation :math:`\phi`, a Keras name or callable.
        use_bias: whether the layers have biases :math:`b_k`.
        shared_input: the input is ``(B, n_in)``, the same for every member (one wide
            matrix product, kernel stored ``(K, n_out, n_in)``); otherwise it is
            ``(B, K, n_in)`` (batched products, kernel ``(K, n_in, n_out)``).
        **kwargs: Keras layer arguments (``name``, ``dtype``).

    Example:
        >>> layer = StackedDense(members=3, units=4, shared_input=True)
        >>> layer(keras.ops.ones((2, 5))).shape
        (2, 3, 4)
    """

    def __init__(self, members: int, units: int, activation=None, use_bias: bool = True,
                 shared_input: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.members = _check_members(members)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.shared_input = bool(shared_input)

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        shape = (self.members, self.units, n_in) if self.shared_input else (self.members, n_in, self.units)
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer="zeros")
        self.bias = (self.add_weight(name="bias", shape=(self.members, self.units), initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        if self.shared_input:
            n_in = self.kernel.shape[-1]
            wide = ops.reshape(self.kernel, (self.members * self.units, n_in))
            y = ops.matmul(inputs, ops.transpose(wide))  # (B, K * units): one product
            y = ops.reshape(y, (-1, self.members, self.units))
        else:
            y = ops.einsum("bki,kio->bko", inputs, self.kernel)
        if self.bias is not None:
            y = ops.add(y, self.bias)  # (B, K, units) + (K, units): a plain broadcast
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.members, self.units)

    def member_weights(self) -> dict[str, np.ndarray]:
        """The weights in the layout of the layer built alone, with a leading member axis:
        ``kernel`` ``(K, n_in, n_out)``, ``bias`` ``(K, n_out)``."""
        kernel = ops.convert_to_numpy(self.kernel)
        weights = {"kernel": np.swapaxes(kernel, 1, 2) if self.shared_input else kernel}
        if self.bias is not None:
            weights["bias"] = ops.convert_to_numpy(self.bias)
        return weights

    def set_member_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Assign weights given as by :meth:`member_weights`."""
        kernel = np.asarray(weights["kernel"])
        self.kernel.assign(np.swapaxes(kernel, 1, 2) if self.shared_input else kernel)
        if self.bias is not None:
            self.bias.assign(weights["bias"])

    def get_config(self):
        return {**super().get_config(), "members": self.members, "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias, "shared_input": self.shared_input}


@keras.saving.register_keras_serializable(package="nntrain")
class StackedConv2D(keras.layers.Layer):
    r""":math:`K` 2-D convolutions :math:`y_k = \phi(x_k * W_k + b_k)`, one per member.

    Inputs and outputs use the conv layout ``(B, H, W, K C)`` (channels last, members'
    channels side by side). With ``shared_input=True`` the input ``(B, H, W, C)`` is the
    same for every member and this is one convolution with :math:`K F` filters; otherwise
    one convolution per member on its own channels.

    Args:
        members: :math:`K`.
        filters: :math:`F`, filters of each member.
        kernel_size, strides, padding, dilation_rate: as ``keras.layers.Conv2D``.
        activation: the activation :math:`\phi`.
        use_bias: whether the layers have biases.
        shared_input: whether the input has no member axis.
        **kwargs: Keras layer arguments.

    Example:
        >>> layer = StackedConv2D(members=2, filters=4, kernel_size=3, shared_input=True)
        >>> layer(keras.ops.ones((1, 8, 8, 1))).shape
        (1, 6, 6, 8)
    """

    def __init__(self, members: int, filters: int, kernel_size, strides=1, padding="valid",
                 dilation_rate=1, activation=None, use_bias: bool = True,
                 shared_input: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.members = _check_members(members)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size)
        self.strides = _pair(strides)
        self.dilation_rate = _pair(dilation_rate)
        self.padding = padding
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.shared_input = bool(shared_input)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        if not self.shared_input:
            channels //= self.members
        self.kernel = self.add_weight(
            name="kernel", shape=(self.members, *self.kernel_size, channels, self.filters),
            initializer="zeros")
        self.bias = (self.add_weight(name="bias", shape=(self.members, self.filters), initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        k, (kh, kw), c = self.members, self.kernel_size, self.kernel.shape[-2]
        conv = dict(strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate,
                    data_format="channels_last")
        if self.shared_input:
            # (K, kh, kw, C, F) -> (kh, kw, C, K F): output channel k F + f is member k's filter f
            kernel = ops.reshape(ops.transpose(self.kernel, (1, 2, 3, 0, 4)),
                                 (kh, kw, c, k * self.filters))
            y = ops.conv(inputs, kernel, **conv)
        else:
            # One convolution per member: a grouped convolution (groups=K) would be one op,
            # but XLA on CPU runs it as a dense one with zero blocks, K times the work.
            y = ops.concatenate([ops.conv(inputs[..., i * c:(i + 1) * c], self.kernel[i], **conv)
                                 for i in range(k)], axis=-1)
        if self.bias is not None:
            y = ops.add(y, ops.reshape(self.bias, (1, 1, 1, k * self.filters)))
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        conv = keras.layers.Conv2D(self.members * self.filters, self.kernel_size, self.strides,
                                   self.padding, dilation_rate=self.dilation_rate)
        return conv.compute_output_shape(input_shape)

    def member_weights(self) -> dict[str, np.ndarray]:
        """``kernel`` ``(K, kh, kw, C, F)`` and ``bias`` ``(K, F)``, the layout of Conv2D."""
        weights = {"kernel": ops.convert_to_numpy(self.kernel)}
        if self.bias is not None:
            weights["bias"] = ops.convert_to_numpy(self.bias)
        return weights

    def set_member_weights(self, weights: dict[str, np.ndarray]) -> None:
        self.kernel.assign(weights["kernel"])
        if self.bias is not None:
            self.bias.assign(weights["bias"])

    def get_config(self):
        return {**super().get_config(), "members": self.members, "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "dilation_rate": self.dilation_rate,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias, "shared_input": self.shared_input}


@keras.saving.register_keras_serializable(package="nntrain")
class StackedMaxPooling2D(keras.layers.Layer):
    r"""Max pooling over non-overlapping windows, as a reshape and a maximum.

    Equal to ``keras.layers.MaxPooling2D(pool_size)`` with ``strides=pool_size`` and
    ``padding="valid"`` on any channels-last input (the conv layout included). Its
    gradient is an elementwise selection, which XLA compiles deterministically; Keras's
    own pooling gradient has no deterministic XLA kernel in TensorFlow, so it cannot run
    under :func:`nntrain.setup`'s op determinism with ``jit_compile``.

    Args:
        pool_size: the window :math:`(p_h, p_w)`.
        **kwargs: Keras layer arguments.
    """

    def __init__(self, pool_size=2, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _pair(pool_size)

    def call(self, inputs):
        (ph, pw), (_, h, w, c) = self.pool_size, inputs.shape
        x = inputs[:, : h // ph * ph, : w // pw * pw, :]
        x = ops.reshape(x, (-1, h // ph, ph, w // pw, pw, c))
        return ops.max(x, axis=(2, 4))

    def compute_output_shape(self, input_shape):
        (ph, pw), (b, h, w, c) = self.pool_size, input_shape
        return (b, h // ph, w // pw, c)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


@keras.saving.register_keras_serializable(package="nntrain")
class StackedFlatten(keras.layers.Layer):
    """Flatten each member's features: conv layout ``(B, H, W, K C)`` or dense layout
    ``(B, K, ...)`` to ``(B, K, F)``, in the order ``keras.layers.Flatten`` uses alone.

    Args:
        members: :math:`K`.
        conv_layout: whether the input is in the conv layout.
        **kwargs: Keras layer arguments.
    """

    def __init__(self, members: int, conv_layout: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.members = _check_members(members)
        self.conv_layout = bool(conv_layout)

    def call(self, inputs):
        k = self.members
        if self.conv_layout:
            _, h, w, kc = inputs.shape
            x = ops.reshape(inputs, (-1, h, w, k, kc // k))
            inputs = ops.transpose(x, (0, 3, 1, 2, 4))  # (B, K, H, W, C)
        return ops.reshape(inputs, (-1, k, int(np.prod(inputs.shape[2:]))))

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape[1:])) // self.members
        return (input_shape[0], self.members, size)

    def get_config(self):
        return {**super().get_config(), "members": self.members, "conv_layout": self.conv_layout}


@keras.saving.register_keras_serializable(package="nntrain")
class StackedDropout(keras.layers.Layer):
    """Dropout with an independent mask per member, drawn from each member's own seed.

    Member :math:`k` draws its mask exactly as ``keras.layers.Dropout(rate, seed=seeds[k])``
    does alone, so a stacked model and its members see the same masks.

    Args:
        members: :math:`K`.
        rate: the fraction of units dropped in training.
        seeds: one seed per member (``None`` draws one).
        **kwargs: Keras layer arguments.
    """

    def __init__(self, members: int, rate: float, seeds: Sequence[int | None] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.members = _check_members(members)
        self.rate = float(rate)
        self.seeds = list(seeds) if seeds is not None else [None] * self.members
        if len(self.seeds) != self.members:
            raise ValueError(f"`seeds` must hold one seed per member ({self.members}). "
                             f"Received: seeds={seeds!r}")
        self.generators = [keras.random.SeedGenerator(s) for s in self.seeds]

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        parts = [keras.random.dropout(inputs[:, k], self.rate, seed=g)
                 for k, g in enumerate(self.generators)]
        return ops.stack(parts, axis=1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "members": self.members, "rate": self.rate,
                "seeds": self.seeds}


@keras.saving.register_keras_serializable(package="nntrain")
class StackedBatchNormalization(keras.layers.Layer):
    r"""Batch normalization of each member's features, over the batch, as
    ``keras.layers.BatchNormalization`` does alone.

    .. math::

        y_k = \gamma_k \frac{x_k - \mu_k}{\sqrt{\sigma_k^2 + \epsilon}} + \beta_k

    with :math:`\mu_k, \sigma^2_k` the batch statistics in training (their moving averages,
    ``momentum``, otherwise). Inputs are ``(B, K, F)``; every variable is ``(K, F)``.

    Args:
        members: :math:`K`.
        momentum: of the moving statistics.
        epsilon: :math:`\epsilon`.
        center: learn :math:`\beta`.
        scale: learn :math:`\gamma`.
        **kwargs: Keras layer arguments.

    References:
        Ioffe & Szegedy, 2015, https://arxiv.org/abs/1502.03167
    """

    _NAMES = ("gamma", "beta", "moving_mean", "moving_variance")

    def __init__(self, members: int, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.members = _check_members(members)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)

    def build(self, input_shape):
        shape = (self.members, int(input_shape[-1]))
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer="ones") if self.scale else None
        self.beta = self.add_weight(name="beta", shape=shape, initializer="zeros") if self.center else None
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape, initializer="zeros",
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                               initializer="ones", trainable=False)

    def call(self, inputs, training=False):
        k, f = self.moving_mean.shape
        x = ops.reshape(inputs, (-1, k * f))  # per (member, feature) statistics: one BN

        def flat(v):
            return None if v is None else ops.reshape(v, (k * f,))

        if training and self.trainable:
            mean, variance = ops.moments(x, axes=[0])
            m = self.momentum
            self.moving_mean.assign(
                self.moving_mean * m + ops.reshape(mean, (k, f)) * (1.0 - m))
            self.moving_variance.assign(
                self.moving_variance * m + ops.reshape(variance, (k, f)) * (1.0 - m))
        else:
            mean, variance = flat(self.moving_mean), flat(self.moving_variance)
        y = ops.batch_normalization(x, mean, variance, axis=-1, offset=flat(self.beta),
                                    scale=flat(self.gamma), epsilon=self.epsilon)
        return ops.reshape(y, (-1, k, f))

    def compute_output_shape(self, input_shape):
        return input_shape

    def member_weights(self) -> dict[str, np.ndarray]:
        return {n: ops.convert_to_numpy(getattr(self, n)) for n in self._NAMES
                if getattr(self, n) is not None}

    def set_member_weights(self, weights: dict[str, np.ndarray]) -> None:
        for n in self._NAMES:
            if getattr(self, n) is not None:
                getattr(self, n).assign(weights[n])

    def get_config(self):
        return {**super().get_config(), "members": self.members, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale}


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)
