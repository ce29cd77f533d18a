"""One variance-scaling rule, and Xavier/Glorot, He/Kaiming and LeCun as presets of it."""

from __future__ import annotations

import math

import keras

from .. import _checks
from ._base import _RandomInitializer, compute_fans

__all__ = [
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
]

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")

# keras.random.truncated_normal redraws values beyond 2 standard deviations. The standard
# deviation of a standard normal cut to [-2, 2] is sqrt(1 - 4 phi(2) / erf(sqrt 2)) =
# 0.8796256610342398 (phi: the standard normal density); dividing the requested stddev by
# it makes the variance after truncation exactly scale / n, as Keras does.
_TRUNCATED_STDDEV = math.sqrt(
    1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / math.erf(math.sqrt(2.0))
)


@keras.saving.register_keras_serializable(package="nntrain")
class VarianceScaling(_RandomInitializer):
    r"""Zero-mean random weights whose variance is ``scale`` over a fan.

    .. math::

        \operatorname{Var}(W) = \frac{s}{n}, \qquad
        n = \begin{cases} n_{in} & \text{mode = fan\_in} \\
                          n_{out} & \text{mode = fan\_out} \\
                          (n_{in} + n_{out}) / 2 & \text{mode = fan\_avg} \end{cases}

    with :math:`s` = ``scale`` and :math:`n_{in}, n_{out}` from :func:`compute_fans`
    (:math:`n` is at least 1). The distribution is chosen by ``distribution``; each has
    variance exactly :math:`s / n`:

    - ``"normal"`` (the default): the untruncated :math:`W \sim \mathcal{N}(0, s / n)`.
    - ``"truncated_normal"``: :math:`\mathcal{N}(0, \sigma^2)` cut at :math:`\pm 2\sigma`
      with :math:`\sigma = \sqrt{s / n} / 0.8796\ldots`, the correction that restores the
      variance lost to the cut (as in Keras, whose ``"normal"`` means this one).
    - ``"uniform"``: :math:`W \sim \mathcal{U}(-L, L)` with :math:`L = \sqrt{3 s / n}`,
      since a uniform on :math:`[-L, L]` has variance :math:`L^2 / 3`.

    The argument behind it: a unit sums :math:`n_{in}` terms :math:`w x`, so
    :math:`\operatorname{Var}(y) = n_{in} \operatorname{Var}(W) \operatorname{Var}(x)`
    (zero means, independence). Choosing :math:`\operatorname{Var}(W) = s / n_{in}` keeps
    the forward signal's variance constant (with the activation's gain folded into
    :math:`s`); ``fan_out`` does the same for the backward gradients.

    Args:
        scale: :math:`s > 0`.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"normal"``, ``"truncated_normal"`` or ``"uniform"``.
        seed: an int (same tensor on every call), a ``keras.random.SeedGenerator``
            (new values on every call) or ``None``.

    Example:
        >>> init = VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=0)
        >>> w = init((784, 256))          # Var(w) = 2 / 784: He uniform

    References:
        LeCun, Bottou, Orr & Mueller, 1998, "Efficient BackProp",
        https://link.springer.com/chapter/10.1007/3-540-49430-8_2;
        Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html;
        He, Zhang, Ren & Sun, 2015, https://arxiv.org/abs/1502.01852
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "normal",
        seed=None,
    ):
        self.scale = float(_checks.positive("scale", scale))
        self.mode = _checks.choice("mode", mode, MODES)
        self.distribution = _checks.choice("distribution", distribution, DISTRIBUTIONS)
        super().__init__(seed=seed)

    def variance(self, shape) -> float:
        r"""The target variance :math:`s / n` for a tensor of this shape."""
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        return self.scale / max(1.0, n[self.mode])

    def __call__(self, shape, dtype=None):
        variance = self.variance(shape)
        kwargs = dict(dtype=dtype, seed=self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return keras.random.uniform(shape, minval=-limit, maxval=limit, **kwargs)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV
            return keras.random.truncated_normal(shape, stddev=stddev, **kwargs)
        return keras.random.normal(shape, stddev=math.sqrt(variance), **kwargs)

    def get_config(self) -> dict:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            **super().get_config(),
        }


class _Preset(VarianceScaling):
    """A named variance-scaling rule: only the seed is free."""

    _scale: float
    _mode: str
    _distribution: str

    def __init__(self, seed=None):
        super().__init__(self._scale, self._mode, self._distribution, seed=seed)

    def get_config(self) -> dict:
        return {"seed": keras.saving.serialize_keras_object(self._init_seed)}


@keras.saving.register_keras_serializable(package="nntrain")
class XavierUniform(_Preset):
    r"""Xavier/Glorot uniform: ``VarianceScaling(1.0, "fan_avg", "uniform")``.

    .. math::

        \operatorname{Var}(W) = \frac{2}{n_{in} + n_{out}}, \qquad
        W \sim \mathcal{U}(-L, L), \quad L = \sqrt{\frac{6}{n_{in} + n_{out}}}

    A compromise between keeping the forward (:math:`n_{in}`) and the backward
    (:math:`n_{out}`) variance constant, derived for tanh-like units.

    Example:
        >>> w = XavierUniform(seed=0)((784, 256))

    References:
        Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html
    """

    _scale, _mode, _distribution = 1.0, "fan_avg", "uniform"


@keras.saving.register_keras_serializable(package="nntrain")
class XavierNormal(_Preset):
    r"""Xavier/Glorot normal: ``VarianceScaling(1.0, "fan_avg", "normal")``.

    .. math::

        W \sim \mathcal{N}\left(0, \frac{2}{n_{in} + n_{out}}\right)

    Untruncated, so the variance is exactly :math:`2 / (n_{in} + n_{out})` (Keras's
    ``GlorotNormal`` uses a rescaled truncated normal with the same variance).

    Example:
        >>> w = XavierNormal(seed=0)((784, 256))

    References:
        Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html
    """

    _scale, _mode, _distribution = 1.0, "fan_avg", "normal"


@keras.saving.register_keras_serializable(package="nntrain")
class HeUniform(_Preset):
    r"""He/Kaiming uniform: ``VarianceScaling(2.0, "fan_in", "uniform")``.

    .. math::

        \operatorname{Var}(W) = \frac{2}{n_{in}}, \qquad
        W \sim \mathcal{U}(-L, L), \quad L = \sqrt{\frac{6}{n_{in}}}

    The factor 2 makes up for ReLU zeroing half of its inputs.

    Example:
        >>> w = HeUniform(seed=0)((3, 3, 64, 128))

    References:
        He, Zhang, Ren & Sun, 2015, https://arxiv.org/abs/1502.01852
    """

    _scale, _mode, _distribution = 2.0, "fan_in", "uniform"


@keras.saving.register_keras_serializable(package="nntrain")
class HeNormal(_Preset):
    r"""He/Kaiming normal: ``VarianceScaling(2.0, "fan_in", "normal")``.

    .. math::

        W \sim \mathcal{N}\left(0, \frac{2}{n_{in}}\right)

    Untruncated, as in the paper, so the variance is exactly :math:`2 / n_{in}`.

    Example:
        >>> w = HeNormal(seed=0)((3, 3, 64, 128))

    References:
        He, Zhang, Ren & Sun, 2015, https://arxiv.org/abs/1502.01852
    """

    _scale, _mode, _distribution = 2.0, "fan_in", "normal"


@keras.saving.register_keras_serializable(package="nntrain")
class LecunUniform(_Preset):
    r"""LeCun uniform: ``VarianceScaling(1.0, "fan_in", "uniform")``.

    .. math::

        \operatorname{Var}(W) = \frac{1}{n_{in}}, \qquad
        W \sim \mathcal{U}(-L, L), \quad L = \sqrt{\frac{3}{n_{in}}}

    Example:
        >>> w = LecunUniform(seed=0)((784, 256))

    References:
        LeCun, Bottou, Orr & Mueller, 1998, "Efficient BackProp", section 4.6,
        https://link.springer.com/chapter/10.1007/3-540-49430-8_2
    """

    _scale, _mode, _distribution = 1.0, "fan_in", "uniform"


@keras.saving.register_keras_serializable(package="nntrain")
class LecunNormal(_Preset):
    r"""LeCun normal: ``VarianceScaling(1.0, "fan_in", "normal")``.

    .. math::

        W \sim \mathcal{N}\left(0, \frac{1}{n_{in}}\right)

    The initialization SELU networks assume (Klambauer et al., 2017).

    Example:
        >>> w = LecunNormal(seed=0)((784, 256))

    References:
        LeCun, Bottou, Orr & Mueller, 1998, "Efficient BackProp", section 4.6,
        https://link.springer.com/chapter/10.1007/3-540-49430-8_2;
        Klambauer, Unterthiner, Mayr & Hochreiter, 2017, https://arxiv.org/abs/1706.02515
    """

    _scale, _mode, _distribution = 1.0, "fan_in", "normal"
