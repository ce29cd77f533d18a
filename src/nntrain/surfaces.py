r"""Two-dimensional loss surfaces, and gradient descent on them with any Keras optimizer.

A network's loss lives in millions of dimensions, but what the learning rate and the
optimizer do to it is already visible in two. Each surface here is a function
:math:`L(\theta)` of a point :math:`\theta = (x, y)` with its value, gradient and Hessian
written out, so that a chapter can compare what it sees with what the algebra says:

=================  ==========================================================  ===========
name               :math:`L(x, y)`                                              minimum
=================  ==========================================================  ===========
``"quadratic"``    :math:`\tfrac12 (\theta - \theta^*)^\top A (\theta - \theta^*)`  :math:`\theta^*`
``"rosenbrock"``   :math:`(a - x)^2 + b (y - x^2)^2`                             :math:`(a, a^2)`
``"saddle"``       :math:`\tfrac12 x^2 - \tfrac12 y^2 + \tfrac14 y^4`              :math:`(0, \pm 1)`
``"beale"``        :math:`\sum_{i=1}^3 (c_i - x + x y^i)^2`                        :math:`(3, \tfrac12)`
=================  ==========================================================  ===========

Every method takes points of shape ``(..., 2)``: a NumPy array gives NumPy results (for
contour plots), a backend tensor gives backend tensors computed with ``keras.ops`` (for
training), so the same code serves both.

:func:`descend` runs any ``keras.optimizers.Optimizer`` (the course's own from
``nntrain.optimizers`` or Keras's) on a surface and returns the path as a tidy
``pandas.DataFrame``, stopping each path where it diverges. A per-member learning rate
(``nt.optimizers.SGD(learning_rate=[...])``) runs one path per rate in a single call.
:func:`summarize` condenses paths into one row each (final loss, divergence step, number of
direction reversals), which is what a hidden cell asserts on.

Example:
    >>> import nntrain as nt
    >>> from nntrain import surfaces
    >>> bowl = surfaces.Quadratic(eigenvalues=(1.0, 10.0))
    >>> bowl.stability_threshold()      # gradient descent converges iff eta < 2 / 10
    0.2
    >>> path = surfaces.descend(bowl, nt.optimizers.SGD(learning_rate=[0.05, 0.15, 0.25]),
    ...                         steps=50)
    >>> surfaces.summarize(path)[["learning_rate", "diverged_step"]]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd
from keras import ops

from . import _checks

__all__ = [
    "Beale",
    "Quadratic",
    "Rosenbrock",
    "Saddle",
    "Surface",
    "available",
    "descend",
    "get",
    "summarize",
]

# Default loss above which a path counts as diverged (every surface here starts below 1e4).
_MAX_LOSS = 1e6


def _stack(parts: Sequence, like, axis: int = -1):
    """Stack ``parts`` with NumPy when ``like`` is a NumPy array, else with ``keras.ops``."""
    if isinstance(like, np.ndarray):
        return np.stack(parts, axis=axis)
    return ops.stack(parts, axis=axis)


def _as_points(theta):
    """NumPy input as float64 arrays; tensors (backend or ``keras.Variable``) as tensors."""
    if isinstance(theta, keras.Variable):
        return theta.value
    if isinstance(theta, (np.ndarray, list, tuple, float, int)):
        theta = np.asarray(theta, dtype=np.float64)
    if theta.shape[-1] != 2:
        raise ValueError(
            "Points on a surface must have a last axis of length 2 (x, y). "
            f"Received: theta with shape={tuple(theta.shape)}"
        )
    return theta


def _point(name: str, value) -> tuple[float, float]:
    """A 2-D point as a tuple of floats, or a ValueError naming ``name``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape != (2,) or not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be a finite point (x, y). Received: {name}={value!r}")
    return float(array[0]), float(array[1])


class Surface:
    r"""Base class of the 2-D loss surfaces: a function with its gradient and Hessian.

    Subclasses implement :meth:`value`, :meth:`gradient` and :meth:`hessian` for points of
    shape ``(..., 2)`` using only arithmetic, indexing and :func:`_stack` (so NumPy arrays
    and backend tensors both work), and set the class attributes below.

    Attributes:
        name: the short name :func:`get` accepts, e.g. ``"rosenbrock"``.
        title: a LaTeX formula for plot titles.
        start: the default starting point of :func:`descend` (a tuple).
        xlim, ylim: the window of the plane worth plotting (tuples).
        minima: the global minimisers (a tuple of points).
    """

    name: str = ""
    title: str = ""
    start: tuple[float, float] = (0.0, 0.0)
    xlim: tuple[float, float] = (-1.0, 1.0)
    ylim: tuple[float, float] = (-1.0, 1.0)
    minima: tuple[tuple[float, float], ...] = ()

    def value(self, theta):
        """The loss :math:`L(\\theta)` at points ``theta`` of shape ``(..., 2)``; shape ``(...)``."""
        raise NotImplementedError

    def gradient(self, theta):
        """The gradient :math:`\\nabla L(\\theta)`, shape ``(..., 2)``."""
        raise NotImplementedError

    def hessian(self, theta):
        """The Hessian :math:`\\nabla^2 L(\\theta)`, shape ``(..., 2, 2)``."""
        raise NotImplementedError

    @property
    def minimum_value(self) -> float:
        """The smallest value of the loss, :math:`L` at :attr:`minima`."""
        return float(self.value(np.asarray(self.minima[0])))

    def curvatures(self, theta) -> np.ndarray:
        """The Hessian's eigenvalues at one point, ascending (NumPy).

        At a minimum they are the curvatures that set gradient descent's stable learning
        rates, :math:`\\eta < 2 / \\lambda_{\\max}`.
        """
        return np.linalg.eigvalsh(np.asarray(self.hessian(np.asarray(theta, dtype=float))))

    def grid(self, n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The loss on an ``n`` by ``n`` grid over :attr:`xlim` x :attr:`ylim`, for contours.

        Returns:
            ``(X, Y, Z)``, each of shape ``(n, n)``, as ``matplotlib.pyplot.contour`` takes.
        """
        _checks.integer("n", n, minimum=2)
        x = np.linspace(*self.xlim, n)
        y = np.linspace(*self.ylim, n)
        xx, yy = np.meshgrid(x, y)
        return xx, yy, self.value(np.stack([xx, yy], axis=-1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Quadratic(Surface):
    r"""An ill-conditioned quadratic bowl, whose learning-rate thresholds are exact.

    With eigenvalues :math:`\lambda_1 \le \lambda_2` (``eigenvalues``), the rotation
    :math:`R` by ``angle`` degrees, :math:`A = R\,\mathrm{diag}(\lambda_1, \lambda_2)\,R^\top`
    and the minimiser :math:`\theta^*` (``center``):

    .. math::

        L(\theta) = \tfrac12 (\theta - \theta^*)^\top A\, (\theta - \theta^*), \qquad
        \nabla L = A (\theta - \theta^*), \qquad \nabla^2 L = A

    One gradient-descent step with learning rate :math:`\eta` multiplies the error's
    component along eigenvector :math:`i` by :math:`1 - \eta \lambda_i`. So the path
    converges iff :math:`\eta < 2/\lambda_{\max}` (:meth:`stability_threshold`), its fast
    component flips sign at every step (oscillates) iff :math:`\eta > 1/\lambda_{\max}`
    (:meth:`oscillation_threshold`), and the slowest component shrinks fastest at
    :math:`\eta = 2/(\lambda_{\min} + \lambda_{\max})` (:meth:`optimal_learning_rate`),
    by the factor :math:`(\kappa - 1)/(\kappa + 1)` with :math:`\kappa = \lambda_{\max}/\lambda_{\min}`.

    Args:
        eigenvalues: :math:`(\lambda_1, \lambda_2)`, two positive curvatures. Defaults to
            ``(1.0, 10.0)`` (condition number 10).
        angle: the rotation of the eigenvectors in degrees; ``0`` puts the flat direction
            along :math:`x`. Defaults to ``0.0``.
        center: the minimiser :math:`\theta^*`. Defaults to ``(0.0, 0.0)``.

    Example:
        >>> bowl = Quadratic(eigenvalues=(1.0, 10.0))
        >>> bowl.oscillation_threshold(), bowl.stability_threshold()
        (0.1, 0.2)

    References:
        Goodfellow, I., Bengio, Y. & Courville, A. (2016). *Deep Learning*, Section 4.3.1
        (the Hessian and the step size). https://www.deeplearningbook.org/contents/numerical.html
    """

    name = "quadratic"
    title = r"$\frac{1}{2}\,\theta^\top A\,\theta$"
    start = (-2.5, 1.5)
    xlim = (-3.0, 3.0)
    ylim = (-2.0, 2.0)

    def __init__(
        self,
        eigenvalues: Sequence[float] = (1.0, 10.0),
        angle: float = 0.0,
        center: Sequence[float] = (0.0, 0.0),
    ):
        pair = _point("eigenvalues", eigenvalues)
        if min(pair) <= 0:
            raise ValueError(
                f"`eigenvalues` must be two positive numbers. Received: eigenvalues={eigenvalues!r}"
            )
        if isinstance(angle, bool) or not isinstance(angle, (int, float, np.number)) or not (
            math.isfinite(angle)
        ):
            raise ValueError(f"`angle` must be a finite number of degrees. Received: angle={angle!r}")
        self.eigenvalues = pair
        self.angle = float(angle)
        self.center = _point("center", center)
        self.minima = (self.center,)
        radians = math.radians(self.angle)
        rotation = np.array(
            [[math.cos(radians), -math.sin(radians)], [math.sin(radians), math.cos(radians)]]
        )
        # A = R diag(lambda) R^T, kept as Python floats so it mixes with any tensor type.
        self.matrix = rotation @ np.diag(pair) @ rotation.T
        (self._a, self._b), (_, self._c) = self.matrix.tolist()

    def value(self, theta):
        theta = _as_points(theta)
        u, v = theta[..., 0] - self.center[0], theta[..., 1] - self.center[1]
        return 0.5 * (self._a * u * u + 2.0 * self._b * u * v + self._c * v * v)

    def gradient(self, theta):
        theta = _as_points(theta)
        u, v = theta[..., 0] - self.center[0], theta[..., 1] - self.center[1]
        return _stack([self._a * u + self._b * v, self._b * u + self._c * v], theta)

    def hessian(self, theta):
        theta = _as_points(theta)
        ones = theta[..., 0] * 0.0 + 1.0
        rows = [
            _stack([self._a * ones, self._b * ones], theta),
            _stack([self._b * ones, self._c * ones], theta),
        ]
        return _stack(rows, theta, axis=-2)

    def stability_threshold(self) -> float:
        r"""The largest stable learning rate of gradient descent, :math:`2/\lambda_{\max}`."""
        return 2.0 / max(self.eigenvalues)

    def oscillation_threshold(self) -> float:
        r"""The learning rate above which the path zig-zags, :math:`1/\lambda_{\max}`."""
        return 1.0 / max(self.eigenvalues)

    def optimal_learning_rate(self) -> float:
        r"""The fastest constant rate for gradient descent, :math:`2/(\lambda_{\min}+\lambda_{\max})`."""
        return 2.0 / sum(self.eigenvalues)

    def __repr__(self) -> str:
        return f"Quadratic(eigenvalues={self.eigenvalues}, angle={self.angle}, center={self.center})"


class Rosenbrock(Surface):
    r"""Rosenbrock's banana valley: easy to find, slow to follow to its minimum.

    .. math::

        L(x, y) = (a - x)^2 + b\,(y - x^2)^2, \qquad
        \nabla L = \begin{pmatrix} -2(a - x) - 4 b x (y - x^2) \\ 2 b (y - x^2) \end{pmatrix}

    The minimum :math:`L = 0` is at :math:`(a, a^2)`, at the bottom of a curved valley
    whose walls are :math:`b` times steeper than its floor: at the minimum the Hessian's
    curvatures are about :math:`0.4` and :math:`1002` (for :math:`a = 1, b = 100`).

    Args:
        a: the minimiser's :math:`x`. Defaults to ``1.0``.
        b: the steepness of the valley's walls, positive. Defaults to ``100.0``.

    Example:
        >>> Rosenbrock().value(np.array([1.0, 1.0]))
        0.0

    References:
        Rosenbrock, H. H. (1960). An automatic method for finding the greatest or least
        value of a function. *The Computer Journal* 3(3). https://doi.org/10.1093/comjnl/3.3.175
    """

    name = "rosenbrock"
    title = r"$(a - x)^2 + b\,(y - x^2)^2$"
    start = (-1.5, 2.0)
    xlim = (-2.0, 2.0)
    ylim = (-1.0, 3.0)

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a = _checks.real("a", a, "a finite number")
        self.b = float(_checks.positive("b", b))
        self.minima = ((self.a, self.a**2),)

    def value(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def gradient(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        inner = y - x * x
        return _stack([-2.0 * (self.a - x) - 4.0 * self.b * x * inner, 2.0 * self.b * inner], theta)

    def hessian(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        xy = -4.0 * self.b * x
        rows = [
            _stack([2.0 - 4.0 * self.b * (y - 3.0 * x * x), xy], theta),
            _stack([xy, 0.0 * x + 2.0 * self.b], theta),
        ]
        return _stack(rows, theta, axis=-2)

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a}, b={self.b})"


class Saddle(Surface):
    r"""A saddle point between two valleys: gradient descent stalls near it, then escapes.

    .. math::

        L(x, y) = \tfrac12 x^2 - \tfrac12 y^2 + \tfrac14 y^4, \qquad
        \nabla L = (x,\; y^3 - y), \qquad
        \nabla^2 L = \mathrm{diag}(1,\; 3y^2 - 1)

    The origin is a saddle point (curvatures :math:`+1` and :math:`-1`); the minima
    :math:`L = -\tfrac14` are at :math:`(0, \pm 1)`. Started close to the ridge
    :math:`y = 0`, the path slides quickly towards :math:`x = 0`, lingers near the saddle
    while :math:`|y|` grows by the factor :math:`1 + \eta` per step, and then drops into a valley.

    Example:
        >>> Saddle().curvatures((0.0, 0.0)).tolist()
        [-1.0, 1.0]

    References:
        Dauphin, Y. et al. (2014). Identifying and attacking the saddle point problem in
        high-dimensional non-convex optimization. *NeurIPS*. https://arxiv.org/abs/1406.2572
    """

    name = "saddle"
    title = r"$\frac{1}{2}x^2 - \frac{1}{2}y^2 + \frac{1}{4}y^4$"
    start = (-2.0, 0.02)
    xlim = (-2.5, 2.5)
    ylim = (-1.75, 1.75)
    minima = ((0.0, 1.0), (0.0, -1.0))

    def value(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        return 0.5 * x * x - 0.5 * y * y + 0.25 * y**4

    def gradient(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        return _stack([x, y**3 - y], theta)

    def hessian(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        zero = 0.0 * x
        return _stack([_stack([zero + 1.0, zero], theta), _stack([zero, 3.0 * y * y - 1.0], theta)],
                      theta, axis=-2)


class Beale(Surface):
    r"""Beale's function: flat plateaus, steep ridges and a narrow valley to the minimum.

    With :math:`c = (1.5,\, 2.25,\, 2.625)` and :math:`r_i = c_i - x + x y^i`:

    .. math::

        L(x, y) = \sum_{i=1}^{3} r_i^2, \qquad
        \nabla L = \sum_{i=1}^{3} 2 r_i \begin{pmatrix} y^i - 1 \\ i\, x\, y^{i-1} \end{pmatrix}

    The minimum :math:`L = 0` is at :math:`(3, \tfrac12)`. Gradients differ by orders of
    magnitude across the plane, which is where adaptive optimizers (AdaGrad, RMSProp,
    Adam) differ visibly from plain gradient descent.

    Example:
        >>> float(Beale().value(np.array([3.0, 0.5])))
        0.0

    References:
        Beale, E. M. L. (1958). On an iterative method for finding a local minimum of a
        function of more than one variable. Technical Report 25, Statistical Techniques
        Research Group, Princeton University.
    """

    name = "beale"
    title = r"$\sum_{i=1}^{3}(c_i - x + x y^i)^2$"
    start = (1.0, 1.5)
    xlim = (-4.5, 4.5)
    ylim = (-4.5, 4.5)
    minima = ((3.0, 0.5),)
    _C = (1.5, 2.25, 2.625)  # Beale's constants c_1, c_2, c_3

    def value(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        return sum((c - x + x * y**i) ** 2 for i, c in enumerate(self._C, start=1))

    def gradient(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        gx, gy = 0.0 * x, 0.0 * x
        for i, c in enumerate(self._C, start=1):
            r = c - x + x * y**i
            gx = gx + 2.0 * r * (y**i - 1.0)
            gy = gy + 2.0 * r * i * x * y ** (i - 1)
        return _stack([gx, gy], theta)

    def hessian(self, theta):
        theta = _as_points(theta)
        x, y = theta[..., 0], theta[..., 1]
        hxx, hxy, hyy = 0.0 * x, 0.0 * x, 0.0 * x
        for i, c in enumerate(self._C, start=1):
            r = c - x + x * y**i
            rx, ry = y**i - 1.0, i * x * y ** (i - 1)  # dr/dx, dr/dy
            ryy = i * (i - 1) * x * y ** (i - 2) if i > 1 else 0.0 * x
            hxx = hxx + 2.0 * rx * rx
            hxy = hxy + 2.0 * (rx * ry + r * i * y ** (i - 1))
            hyy = hyy + 2.0 * (ry * ry + r * ryy)
        return _stack([_stack([hxx, hxy], theta), _stack([hxy, hyy], theta)], theta, axis=-2)


# Lower-case names, in the order the course introduces them.
_BY_NAME: dict[str, type[Surface]] = {
    "quadratic": Quadratic,
    "rosenbrock": Rosenbrock,
    "saddle": Saddle,
    "beale": Beale,
}


def available() -> list[str]:
    """The names :func:`get` accepts: ``["quadratic", "rosenbrock", "saddle", "beale"]``."""
    return list(_BY_NAME)


def get(name_or_surface: str | Surface, **kwargs) -> Surface:
    """A surface from its name (case-insensitive) and constructor arguments.

    Args:
        name_or_surface: one of :func:`available`, or a :class:`Surface`, returned as it is
            (then ``kwargs`` must be empty).
        **kwargs: the class's arguments, e.g. ``eigenvalues=(1, 50)`` for ``"quadratic"``.

    Returns:
        A :class:`Surface`.

    Example:
        >>> get("Quadratic", eigenvalues=(1, 4)).stability_threshold()
        0.5
    """
    if isinstance(name_or_surface, Surface):
        if kwargs:
            raise ValueError(
                "Arguments can only be given with a surface's name, not with a surface. "
                f"Received: name_or_surface={name_or_surface!r}, kwargs={kwargs}"
            )
        return name_or_surface
    if isinstance(name_or_surface, str) and name_or_surface.lower() in _BY_NAME:
        return _BY_NAME[name_or_surface.lower()](**kwargs)
    _checks.fail("name_or_surface", f"one of {available()} or a `Surface`", name_or_surface)


def _resolve(surface: object, name: str = "surface") -> Surface:
    """:func:`get` for an argument called ``name`` (a surface or the name of one)."""
    if isinstance(surface, Surface):
        return surface
    if isinstance(surface, str) and surface.lower() in _BY_NAME:
        return _BY_NAME[surface.lower()]()
    _checks.fail(name, f"one of {available()} or a `Surface`", surface)


def _starts(start, surface: Surface, members: int | None) -> np.ndarray:
    """The starting points as an array of shape (K, 2)."""
    if start is None:
        start = surface.start
    try:
        points = np.asarray(start, dtype=np.float64)
    except (TypeError, ValueError):
        points = None
    message = (
        "`start` must be a point (x, y) or an array of K points of shape (K, 2). "
        f"Received: start={start!r}"
    )
    if points is None or points.shape[-1:] != (2,) or points.ndim > 2:
        raise ValueError(message)
    if not np.all(np.isfinite(points)):
        raise ValueError(message)
    points = points.reshape(-1, 2)
    if members is not None:
        if len(points) == 1:
            points = np.repeat(points, members, axis=0)
        elif len(points) != members:
            raise ValueError(
                f"`start` must hold one point or one per member ({members} per-member "
                f"learning rates). Received: start with {len(points)} points"
            )
    return points


def _members(optimizer: keras.optimizers.Optimizer) -> int | None:
    """K, the number of per-member hyperparameter values of an nntrain optimizer, or None."""
    config = optimizer.get_config()
    lengths = {len(v) for v in config.values() if isinstance(v, list) and v}
    return lengths.pop() if lengths else None


def _fresh(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """An unbuilt copy of ``optimizer`` (a built one cannot take new variables)."""
    return type(optimizer).from_config(optimizer.get_config())


def _learning_rates(optimizer: keras.optimizers.Optimizer, steps: int, count: int) -> np.ndarray:
    """The learning rate of each step (rows) and path (columns), shape (steps, count)."""
    rate = optimizer.get_config()["learning_rate"]
    if isinstance(rate, dict):  # a serialized LearningRateSchedule: evaluate it per step
        schedule = keras.optimizers.schedules.deserialize(rate)
        values = [float(ops.convert_to_numpy(schedule(step))) for step in range(steps)]
        return np.repeat(np.asarray(values)[:, None], count, axis=1)
    return np.broadcast_to(np.asarray(rate, dtype=np.float64), (steps, count)).copy()


def _stepper(surface: Surface, optimizer: keras.optimizers.Optimizer, theta: keras.Variable):
    """A compiled function that takes one step of ``optimizer`` and returns theta (NumPy).

    Eager Keras costs milliseconds per tiny step; compiling it (``jax.jit`` of
    ``stateless_apply`` under JAX, ``tf.function`` under TensorFlow) makes a step cost tens
    of microseconds, which is what lets the explorers precompute thousands of paths.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        @jax.jit
        def jax_step(optimizer_variables, value):
            grads = [surface.gradient(value)]
            (value,), optimizer_variables = optimizer.stateless_apply(
                optimizer_variables, grads, [value]
            )
            return optimizer_variables, value

        state = {"optimizer": [v.value for v in optimizer.variables], "theta": theta.value}

        def step() -> np.ndarray:
            state["optimizer"], state["theta"] = jax_step(state["optimizer"], state["theta"])
            return np.asarray(state["theta"])

        return step
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def tf_step():
            optimizer.apply([surface.gradient(theta)], [theta])
            return theta.value

        return lambda: tf_step().numpy()

    def eager_step() -> np.ndarray:  # other backends: plain eager Keras
        optimizer.apply([surface.gradient(theta)], [theta])
        return ops.convert_to_numpy(theta)

    return eager_step


def descend(
    surface: Surface | str,
    optimizer: keras.optimizers.Optimizer,
    start: Sequence[float] | np.ndarray | None = None,
    steps: int = 50,
    *,
    max_loss: float = _MAX_LOSS,
    dtype: str | None = None,
) -> pd.DataFrame:
    r"""Run ``optimizer`` on ``surface`` from ``start`` and return every point visited.

    At each step the optimizer receives the surface's exact gradient
    :math:`g_t = \nabla L(\theta_t)` and updates :math:`\theta` (a ``keras.Variable``):
    for plain gradient descent :math:`\theta_{t+1} = \theta_t - \eta\, g_t`. Several paths
    run at once, as independent rows of one variable of shape ``(K, 2)``, when ``start``
    holds K points or the optimizer has per-member hyperparameters (for example
    ``nt.optimizers.SGD(learning_rate=[0.01, 0.1, 1.0])``: one path per rate).

    A path *diverges* at the first step whose loss is not finite or exceeds ``max_loss``;
    that row and the rest of the path are left out, and ``diverged_step`` records it.
    The optimizer passed in is not changed: a fresh copy (from its config) does the work,
    so one optimizer object can describe many runs.

    Args:
        surface: a :class:`Surface` or its name (see :func:`available`).
        optimizer: a ``keras.optimizers.Optimizer``, e.g. ``nt.optimizers.Adam(0.1)`` or
            ``keras.optimizers.SGD(0.01)``.
        start: one point ``(x, y)`` or K points of shape ``(K, 2)``. Defaults to the
            surface's :attr:`Surface.start`.
        steps: the number of updates, a positive integer. Defaults to ``50``.
        max_loss: a loss above this counts as divergence. Defaults to ``1e6``.
        dtype: the variable's float type, ``"float32"`` or ``"float64"`` (under JAX only
            with ``JAX_ENABLE_X64=1``). Defaults to ``keras.config.floatx()``.

    Returns:
        A DataFrame with one row per path and step: ``member`` (0 to K-1), ``step`` (0 is
        the start), ``learning_rate`` (the rate the next step uses), ``x``, ``y``,
        ``loss``, and ``diverged_step`` (the step at which the path diverged, the same on
        every row of a path; ``<NA>`` if it did not).

    Example:
        >>> import nntrain as nt
        >>> path = descend("quadratic", nt.optimizers.SGD(learning_rate=0.05), steps=100)
        >>> bool(path["loss"].iloc[-1] < 1e-3)
        True
    """
    surface = _resolve(surface)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            "`optimizer` must be a `keras.optimizers.Optimizer`, e.g. "
            f"nt.optimizers.SGD(0.1). Received: optimizer={optimizer!r}"
        )
    _checks.integer("steps", steps, minimum=1)
    max_loss = float(_checks.positive("max_loss", max_loss))
    dtype = keras.config.floatx() if dtype is None else dtype
    if dtype not in ("float32", "float64"):
        raise ValueError(f"`dtype` must be 'float32' or 'float64'. Received: dtype={dtype!r}")
    points = _starts(start, surface, _members(optimizer))
    count = len(points)
    optimizer = _fresh(optimizer)
    theta = keras.Variable(points, dtype=dtype, trainable=True, name="theta")
    optimizer.build([theta])
    step = _stepper(surface, optimizer, theta)
    path = np.empty((steps + 1, count, 2))
    path[0] = points
    done = steps
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            path[t + 1] = step()
            if not np.any(np.isfinite(path[t + 1])):
                done = t + 1  # every path has blown up: nothing more to learn
                break
    rates = _learning_rates(optimizer, steps + 1, count)
    return _tidy(surface, path[: done + 1], rates[: done + 1], max_loss)


def _tidy(surface: Surface, path: np.ndarray, rates: np.ndarray, max_loss: float) -> pd.DataFrame:
    """The paths (T, K, 2) as a long DataFrame, cut at divergence (see :func:`descend`)."""
    with np.errstate(over="ignore", invalid="ignore"):
        loss = surface.value(path)
    bad = ~np.isfinite(loss) | (loss > max_loss) | ~np.all(np.isfinite(path), axis=-1)
    first_bad = np.where(bad.any(axis=0), bad.argmax(axis=0), -1)
    frames = []
    for member in range(path.shape[1]):
        end = first_bad[member] if first_bad[member] >= 0 else len(path)
        frames.append(
            pd.DataFrame(
                {
                    "member": member,
                    "step": np.arange(end),
                    "learning_rate": rates[:end, member],
                    "x": path[:end, member, 0],
                    "y": path[:end, member, 1],
                    "loss": loss[:end, member],
                    "diverged_step": first_bad[member] if first_bad[member] >= 0 else pd.NA,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["diverged_step"] = frame["diverged_step"].astype("Int64")
    return frame


def summarize(path: pd.DataFrame) -> pd.DataFrame:
    r"""One row per path of :func:`descend`: how it ended and whether it zig-zagged.

    A *reversal* is a step whose direction makes an obtuse angle with the step before,
    :math:`(\theta_{t+1} - \theta_t) \cdot (\theta_t - \theta_{t-1}) < 0`: the mark of
    oscillation across a valley. On a quadratic, gradient descent makes no reversal when
    :math:`\eta < 1/\lambda_{\max}` and reverses while the steep component dominates when
    :math:`1/\lambda_{\max} < \eta < 2/\lambda_{\max}`.

    Args:
        path: a DataFrame returned by :func:`descend`.

    Returns:
        A DataFrame indexed by ``member`` with ``learning_rate`` (at step 0), ``steps``
        (the last step kept), ``initial_loss``, ``final_loss``, ``reversals`` (count) and
        ``diverged_step`` (``<NA>`` if the path did not diverge).

    Example:
        >>> import nntrain as nt
        >>> path = descend("quadratic", nt.optimizers.SGD(learning_rate=[0.05, 0.15]))
        >>> summarize(path)["reversals"].gt(0).tolist()
        [False, True]
    """
    needed = {"member", "step", "learning_rate", "x", "y", "loss", "diverged_step"}
    if not isinstance(path, pd.DataFrame) or not needed <= set(path.columns):
        raise ValueError(
            f"`path` must be a DataFrame from `descend` with columns {sorted(needed)}. "
            f"Received: path={type(path).__name__}"
        )
    rows = []
    for member, group in path.groupby("member", sort=True):
        moves = np.diff(group[["x", "y"]].to_numpy(), axis=0)
        turns = np.einsum("ij,ij->i", moves[1:], moves[:-1])
        rows.append(
            {
                "member": member,
                "learning_rate": group["learning_rate"].iloc[0],
                "steps": int(group["step"].iloc[-1]),
                "initial_loss": group["loss"].iloc[0],
                "final_loss": group["loss"].iloc[-1],
                "reversals": int(np.sum(turns < 0)),
                "diverged_step": group["diverged_step"].iloc[0],
            }
        )
    summary = pd.DataFrame(rows).set_index("member")
    summary["diverged_step"] = summary["diverged_step"].astype("Int64")
    return summary
