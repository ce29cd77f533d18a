"""Looking at a graph: :func:`trace` (a table) and :func:`draw` (a matplotlib figure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _checks
from .scalar import Scalar, _topological_order

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["draw", "trace"]


def trace(root: Scalar) -> pd.DataFrame:
    """One row per node of ``root``'s graph, inputs first: label, op, value, grad, inputs.

    Example:
        >>> x = Scalar(3.0, "x"); y = x * x; y.label = "y"; y.backward()
        >>> trace(y)[["label", "op", "value", "grad"]].values.tolist()
        [['x', '', 3.0, 6.0], ['y', '*', 9.0, 1.0]]
    """
    import pandas as pd

    _checks.instance("root", root, Scalar, "a Scalar")
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
_LANE = 0.35 * _COLUMN_WIDTH  # offset from a box's centre of an arrow running between bands


def draw(root: Scalar, ax: Axes | None = None, show_grad: bool = True,
         max_columns: int | None = None) -> Axes:
    """Draw ``root``'s computational graph left to right, with matplotlib only.

    Value nodes are rounded boxes (label, value and, with ``show_grad``, gradient; inputs in
    white); each computed value is fed by a round operation node. Columns are depths counted
    back from ``root`` (the longest path), so the graph reads left to right, inputs first,
    and each input sits just before the first operation that uses it. A long graph can be
    wrapped into bands of at most ``max_columns`` columns, read like lines of text: an arrow
    that leaves the right end of one band enters the left end of the next.

    Args:
        root: the output node.
        ax: the ``Axes`` to draw on; a new figure sized to the graph when ``None``.
        show_grad: print each node's ``grad`` (call ``root.backward()`` first).
        max_columns: the most columns (values and operations both count) per band, at
            least 2; ``None`` draws one band however long the graph.

    Returns:
        The ``Axes``. Its value boxes carry the gid ``"value"`` and its operation nodes
        ``"op"``, so ``[t for t in ax.texts if t.get_gid() == "value"]`` lists the values.

    Example:
        >>> a, b = Scalar(2.0, "a"), Scalar(1.0, "b")
        >>> y = (a + b) * (b + 1); y.backward()
        >>> ax = draw(y)
    """
    _checks.instance("root", root, Scalar, "a Scalar")
    _checks.axes("ax", ax, none=True)
    _checks.boolean("show_grad", show_grad)
    if max_columns is not None:
        _checks.integer("max_columns", max_columns, minimum=2, accepted="None or an integer >= 2")
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

    # Wrapping: the column that is `left` columns from the left edge goes to band
    # left // per_band, at position left % per_band; each band sits below the previous one.
    n_rows = max(len(nodes) for nodes in columns.values())
    per_band = max_columns or len(columns)
    n_bands = -(-len(columns) // per_band)  # ceiling division
    band_height = (n_rows + 0.6) * _ROW_HEIGHT  # rows plus a gap for the arrows between bands
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(
            max(3.0, _COLUMN_WIDTH / 2 * (min(per_band, len(columns)) + 0.5)),
            max(1.5, band_height * (n_bands - 1) + _ROW_HEIGHT * (n_rows + 0.2))))
    boxes, centres = {}, {}
    for c, nodes in columns.items():
        band, position = divmod(max(columns) - c, per_band)
        x = position * _COLUMN_WIDTH / 2
        for node, is_op in nodes:
            centres[(id(node), is_op)] = (x, y[(id(node), is_op)] - band * band_height, band)
            if is_op:
                text, style, size = _OP_SYMBOLS.get(node.op, node.op), _OP_STYLE, 10
            else:
                lines = ([node.label] if node.label else []) + [f"value {node.value:.4g}"]
                lines += [f"grad {node.grad:.4g}"] if show_grad else []
                text, size = "\n".join(lines), 8.5
                style = _VALUE_STYLE if node._inputs else _INPUT_STYLE
            boxes[(id(node), is_op)] = ax.text(
                *centres[(id(node), is_op)][:2], text, ha="center", va="center",
                fontsize=size, bbox=style, zorder=3, gid="op" if is_op else "value",
            )

    # Arrows from the right edge of one box to the left edge of the next (artist coordinates,
    # so they follow the boxes whatever the figure size). An arrow into a later band runs
    # right of its source, along the gap below the source's band, and in from the left.
    arrow = dict(arrowstyle="-|>", color="0.35", lw=1.0, shrinkA=5, shrinkB=5, mutation_scale=10)
    for node in order:
        if not node._inputs:
            continue
        edges = [((id(c), False), (id(node), True)) for c in node._inputs]
        for source, target in edges + [((id(node), True), (id(node), False))]:
            (xs, ys, band_s), (xt, yt, band_t) = centres[source], centres[target]
            if band_s == band_t:
                ax.annotate("", xy=(0, 0.5), xycoords=boxes[target], xytext=(1, 0.5),
                            textcoords=boxes[source], arrowprops=arrow, zorder=2)
                continue
            lane_s, lane_t = xs + _LANE, xt - _LANE
            gap = -(band_s + 0.5) * band_height
            ax.plot([xs, lane_s, lane_s, lane_t, lane_t], [ys, ys, gap, gap, yt],
                    color=arrow["color"], lw=arrow["lw"], zorder=2)
            ax.annotate("", xy=(0, 0.5), xycoords=boxes[target], xytext=(lane_t, yt),
                        textcoords="data", arrowprops=dict(arrow, shrinkA=0), zorder=2)

    half_height = max(abs(v) for v in y.values()) + _ROW_HEIGHT / 2
    ax.set_xlim(-_COLUMN_WIDTH / 2, min(per_band, len(columns)) * _COLUMN_WIDTH / 2)
    ax.set_ylim(-half_height - (n_bands - 1) * band_height, half_height)
    ax.set_axis_off()
    return ax
