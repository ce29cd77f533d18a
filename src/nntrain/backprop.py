"""A scalar reverse-mode autodiff engine, small enough to read in one sitting.

Every arithmetic operation on :class:`Scalar` values records a node of a computational
graph: its inputs and ONE closure that returns the *local* gradients
:math:`\\partial\\, \\text{out} / \\partial\\, \\text{input}_k` of that operation.
:meth:`Scalar.backward` then applies the chain rule once, in one loop over the nodes in
reverse topological order,

.. math::

    \\bar v_k \\mathrel{+}= \\frac{\\partial v}{\\partial v_k} \\, \\bar v
    \\qquad \\text{for every node } v \\text{ and each of its inputs } v_k,

where :math:`\\bar v = \\partial y / \\partial v` is the ``grad`` of node :math:`v`. The
``+=`` is what makes two paths that meet at a node add up (the multivariate chain rule).

Example:
    >>> a, b = Scalar(2.0, "a"), Scalar(1.0, "b")
    >>> y = (a + b) * (b + 1)
    >>> y.backward()
    >>> y.value, a.grad, b.grad
    (6.0, 2.0, 5.0)

References:
    Rumelhart, Hinton and Williams (1986), Learning representations by back-propagating
    errors, https://doi.org/10.1038/323533a0; Baydin et al. (2018),
    Automatic Differentiation in Machine Learning: a Survey, https://arxiv.org/abs/1502.05767;
    Karpathy (2020), micrograd, https://github.com/karpathy/micrograd
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["Scalar", "draw", "trace"]

Number = int | float


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"`{name}` must be a real number (int or float). Received: {name}={value!r}"
        )
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


def trace(root: Scalar) -> pd.DataFrame:
    """One row per node of ``root``'s graph, inputs first: label, op, value, grad, inputs.

    Example:
        >>> x = Scalar(3.0, "x"); y = x * x; y.label = "y"; y.backward()
        >>> trace(y)[["label", "op", "value", "grad"]].values.tolist()
        [['x', '', 3.0, 6.0], ['y', '*', 9.0, 1.0]]
    """
    import pandas as pd

    order = _topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    return pd.DataFrame(
        {
            "label": [n.label for n in order],
            "op": [n.op for n in order],
            "value": [n.value for n in order],
            "grad": [n.grad for n in order],
            "inputs": [[index[id(c)] for c in n._inputs] for n in order],
        }
    )


# Drawing ------------------------------------------------------------------------------------
_OP_SYMBOLS = {"*": "×", "/": "÷", "-": "−", "neg": "−x", "sigmoid": "σ"}  # prettier glyphs
_VALUE_STYLE = dict(boxstyle="round,pad=0.35", fc="#DCEBF7", ec="#0072B2", lw=1.2)  # blue
_INPUT_STYLE = dict(_VALUE_STYLE, fc="#FFFFFF")  # inputs (leaves): white boxes
_OP_STYLE = dict(boxstyle="circle,pad=0.25", fc="#FBE8C8", ec="#E69F00", lw=1.2)  # orange
_COLUMN_WIDTH, _ROW_HEIGHT = 2.0, 1.0  # inches per depth level and per node of a column


def draw(root: Scalar, ax: Axes | None = None, show_grad: bool = True) -> Axes:
    """Draw ``root``'s computational graph left to right, with matplotlib only.

    Value nodes are rounded boxes (label, value and, with ``show_grad``, gradient; inputs in
    white); each computed value is fed by a round operation node. Columns are depths counted
    back from ``root`` (the longest path), so the graph reads left to right, inputs first,
    and each input sits just before the first operation that uses it.

    Args:
        root: the output node.
        ax: the ``Axes`` to draw on; a new figure sized to the graph when ``None``.
        show_grad: print each node's ``grad`` (call ``root.backward()`` first).

    Returns:
        The ``Axes``. Its value boxes carry the gid ``"value"`` and its operation nodes
        ``"op"``, so ``[t for t in ax.texts if t.get_gid() == "value"]`` lists the values.

    Example:
        >>> a, b = Scalar(2.0, "a"), Scalar(1.0, "b")
        >>> y = (a + b) * (b + 1); y.backward()
        >>> ax = draw(y)
    """
    if not isinstance(root, Scalar):
        raise ValueError(f"`root` must be a Scalar. Received: root={root!r}")
    order = _topological_order(root)
    # Depth counted back from the root (longest path), so each input sits just left of the
    # first operation that needs it; column 2r holds values of depth r and column 2r + 1
    # the operations that produce them. Drawn mirrored: the root on the right.
    depth = {id(root): 0}
    consumers: dict[int, list[tuple[int, bool]]] = {}
    for node in reversed(order):  # every node comes before its inputs here
        for child in node._inputs:
            depth[id(child)] = max(depth.get(id(child), 0), depth[id(node)] + 1)
            consumers.setdefault(id(child), []).append((id(node), True))
    columns: dict[int, list[tuple[Scalar, bool]]] = {}
    for node in order:
        columns.setdefault(2 * depth[id(node)], []).append((node, False))
        if node._inputs:
            columns.setdefault(2 * depth[id(node)] + 1, []).append((node, True))
    # From the root leftwards, order each column by the mean height of what it feeds, so
    # that arrows rarely cross; then centre the column.
    y: dict[tuple[int, bool], float] = {}
    for c in sorted(columns):
        def fed(item: tuple[Scalar, bool]) -> float:
            node, is_op = item
            targets = [(id(node), False)] if is_op else consumers.get(id(node), [])
            return -sum(y[t] for t in targets) / len(targets) if targets else 0.0
        nodes = sorted(columns[c], key=fed)
        for row, (node, is_op) in enumerate(nodes):
            y[(id(node), is_op)] = ((len(nodes) - 1) / 2 - row) * _ROW_HEIGHT

    if ax is None:
        import matplotlib.pyplot as plt

        n_rows = max(len(nodes) for nodes in columns.values())
        _, ax = plt.subplots(figsize=(max(3.0, _COLUMN_WIDTH / 2 * (len(columns) + 0.5)),
                                      max(1.5, _ROW_HEIGHT * (n_rows + 0.2))))
    boxes = {}
    for c, nodes in columns.items():
        x = (max(columns) - c) * _COLUMN_WIDTH / 2
        for node, is_op in nodes:
            if is_op:
                text, style, size = _OP_SYMBOLS.get(node.op, node.op), _OP_STYLE, 10
            else:
                lines = ([node.label] if node.label else []) + [f"value {node.value:.4g}"]
                lines += [f"grad {node.grad:.4g}"] if show_grad else []
                text, size = "\n".join(lines), 8.5
                style = _VALUE_STYLE if node._inputs else _INPUT_STYLE
            boxes[(id(node), is_op)] = ax.text(
                x, y[(id(node), is_op)], text, ha="center", va="center", fontsize=size,
                bbox=style, zorder=3, gid="op" if is_op else "value",
            )

    # Arrows from the right edge of one box to the left edge of the next (artist coordinates,
    # so they follow the boxes whatever the figure size).
    arrow = dict(arrowstyle="-|>", color="0.35", lw=1.0, shrinkA=5, shrinkB=5, mutation_scale=10)
    for node in order:
        if node._inputs:
            op = boxes[(id(node), True)]
            for source, target in [(boxes[(id(c), False)], op) for c in node._inputs] + [
                (op, boxes[(id(node), False)])
            ]:
                ax.annotate("", xy=(0, 0.5), xycoords=target, xytext=(1, 0.5),
                            textcoords=source, arrowprops=arrow, zorder=2)

    half_height = max(abs(v) for v in y.values()) + _ROW_HEIGHT / 2
    ax.set_xlim(-_COLUMN_WIDTH / 2, (max(columns) + 1) * _COLUMN_WIDTH / 2)
    ax.set_ylim(-half_height, half_height)
    ax.set_axis_off()
    return ax
