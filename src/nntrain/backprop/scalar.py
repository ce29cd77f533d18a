"""The engine: :class:`Scalar`, one local-gradient closure per operation, and the backward
pass (an iterative topological sort and one reversed loop)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from .. import _checks

__all__ = ["Scalar"]

Number = int | float


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _checks.fail(name, "a real number (int or float)", value)
    return float(value)


class Scalar:
    """A number that remembers how it was computed, and its gradient.

    Args:
        value: the number (int or float).
        label: a name shown by :func:`draw` and :func:`trace`.

    Attributes:
        value: the number, as a float.
        grad: :math:`\\partial y / \\partial\\,\\text{self}` after ``y.backward()``; 0.0 before.
        label: the name; can be set after the fact (``y.label = "y"``).
        op: the operation that produced this value (``""`` for an input).

    Example:
        >>> x = Scalar(0.5, "x")
        >>> y = (2 * x).tanh()
        >>> y.backward()
        >>> round(x.grad, 6)   # 2 (1 - tanh(1)^2)
        0.839949
    """

    __array_ufunc__ = None  # numpy scalars on the left defer to our reflected operators

    def __init__(self, value: Number, label: str = "", *, _inputs: tuple[Scalar, ...] = (),
                 _op: str = "", _local: Callable[[], tuple[float, ...]] | None = None) -> None:
        self.value = _check_number("value", value)
        self.grad = 0.0
        self.label = label
        self.op = _op
        self._inputs = _inputs
        self._local = _local  # () -> d self / d input_k for each input k

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        return f"Scalar(value={self.value:.6g}, grad={self.grad:.6g}{name})"

    # One method per operation: its value, and one closure with its local gradients. --------
    def __add__(self, other: Scalar | Number) -> Scalar:
        other = _as_scalar(other)
        return Scalar(self.value + other.value, _inputs=(self, other), _op="+",
                      _local=lambda: (1.0, 1.0))

    def __sub__(self, other: Scalar | Number) -> Scalar:
        other = _as_scalar(other)
        return Scalar(self.value - other.value, _inputs=(self, other), _op="-",
                      _local=lambda: (1.0, -1.0))

    def __mul__(self, other: Scalar | Number) -> Scalar:
        other = _as_scalar(other)
        return Scalar(self.value * other.value, _inputs=(self, other), _op="*",
                      _local=lambda: (other.value, self.value))

    def __truediv__(self, other: Scalar | Number) -> Scalar:
        other = _as_scalar(other)
        return Scalar(self.value / other.value, _inputs=(self, other), _op="/",
                      _local=lambda: (1.0 / other.value, -self.value / other.value**2))

    def __pow__(self, exponent: Number) -> Scalar:
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise ValueError(
                "The exponent of `**` must be a Python number (int or float); a Scalar "
                f"exponent is not supported, write exp(n * log(x)). Received: exponent={exponent!r}"
            )
        n = float(exponent)
        if self.value < 0 and not n.is_integer():
            raise ValueError(
                "A negative base needs an integer exponent (the result would be complex). "
                f"Received: value={self.value!r}, exponent={exponent!r}"
            )
        return Scalar(self.value**n, _inputs=(self,), _op=f"**{exponent:g}",
                      _local=lambda: (n * self.value ** (n - 1),))

    def __neg__(self) -> Scalar:
        return Scalar(-self.value, _inputs=(self,), _op="neg", _local=lambda: (-1.0,))

    def exp(self) -> Scalar:
        e = math.exp(self.value)
        return Scalar(e, _inputs=(self,), _op="exp", _local=lambda: (e,))

    def log(self) -> Scalar:
        if self.value <= 0:
            raise ValueError(f"log needs a positive value. Received: value={self.value!r}")
        return Scalar(math.log(self.value), _inputs=(self,), _op="log",
                      _local=lambda: (1.0 / self.value,))

    def tanh(self) -> Scalar:
        t = math.tanh(self.value)
        return Scalar(t, _inputs=(self,), _op="tanh", _local=lambda: (1.0 - t * t,))

    def sigmoid(self) -> Scalar:
        # 1 / (1 + e^-x) written so that neither branch overflows for large |x|.
        z = math.exp(-abs(self.value))
        s = 1.0 / (1.0 + z) if self.value >= 0 else z / (1.0 + z)
        return Scalar(s, _inputs=(self,), _op="sigmoid", _local=lambda: (s * (1.0 - s),))

    def relu(self) -> Scalar:
        # At 0 the derivative is taken as 0, as TensorFlow and PyTorch do.
        return Scalar(max(self.value, 0.0), _inputs=(self,), _op="relu",
                      _local=lambda: (1.0 if self.value > 0 else 0.0,))

    # Python numbers on the left: 2 * x, 1 - x, 1 / x. -------------------------------------
    def __radd__(self, other: Number) -> Scalar:
        return _as_scalar(other) + self

    def __rsub__(self, other: Number) -> Scalar:
        return _as_scalar(other) - self

    def __rmul__(self, other: Number) -> Scalar:
        return _as_scalar(other) * self

    def __rtruediv__(self, other: Number) -> Scalar:
        return _as_scalar(other) / self

    # The chain rule. -----------------------------------------------------------------------
    def backward(self) -> None:
        """Set every node's ``grad`` to :math:`\\partial\\,\\text{self} / \\partial v`.

        The gradients of the whole graph are first reset to 0, so calling ``backward`` twice
        gives the same gradients (unlike PyTorch, which adds to ``.grad`` until you zero it):
        a learner can re-run a cell without stale sums. Gradients from two different outputs
        are therefore not added up: build their sum and call ``backward`` on it.
        """
        order = _topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # every node comes after all its inputs in `order`
            if node._local is not None:
                for child, local in zip(node._inputs, node._local()):
                    child.grad += local * node.grad


def _as_scalar(x: Scalar | Number) -> Scalar:
    return x if isinstance(x, Scalar) else Scalar(_check_number("other", x))


def _topological_order(root: Scalar) -> list[Scalar]:
    """Nodes reachable from ``root``, each after all its inputs; iterative (no recursion)."""
    order: list[Scalar] = []
    seen: set[int] = set()
    stack: list[tuple[Scalar, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:  # second visit: every input is already in `order`
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            # Reversed, so that the first input is visited (and listed) first.
            stack.extend((c, False) for c in reversed(node._inputs) if id(c) not in seen)
    return order
