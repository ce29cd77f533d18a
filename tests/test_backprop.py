"""Tests of nntrain.backprop: exact small cases, random expressions against TensorFlow and
finite differences, deep graphs, repeated backward, drawing, bad input."""

import math
import random
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from nntrain.backprop import Scalar, draw, trace  # noqa: E402


def _example():
    a, b = Scalar(2.0, "a"), Scalar(1.0, "b")
    y = (a + b) * (b + 1)
    y.label = "y"
    return a, b, y


def test_worked_example_is_exact():
    a, b, y = _example()
    y.backward()
    assert (y.value, a.grad, b.grad, y.grad) == (6.0, 2.0, 5.0, 1.0)  # b: two paths add up


def test_grad_is_zero_until_backward_and_repr_shows_value_and_grad():
    a, b, y = _example()
    assert a.grad == b.grad == y.grad == 0.0
    assert repr(y) == "Scalar(value=6, grad=0, label='y')"
    y.backward()
    assert repr(b) == "Scalar(value=1, grad=5, label='b')"


def test_reversed_operators_and_numpy_scalars():
    x = Scalar(4.0)
    cases = [(2 * x, 8.0, 2.0), (1 - x, -3.0, -1.0), (1 / x, 0.25, -1 / 16), (3 + x, 7.0, 1.0),
             (np.float64(2.0) * x, 8.0, 2.0), (x / 2, 2.0, 0.5), (-x, -4.0, -1.0),
             (x**0.5, 2.0, 0.25), (x - 1, 3.0, 1.0)]
    for y, value, grad in cases:
        assert isinstance(y, Scalar)
        y.backward()
        assert (y.value, x.grad) == pytest.approx((value, grad), rel=1e-15)


@pytest.mark.parametrize("v", [-1000.0, -3.0, 0.0, 2.5, 1000.0])
def test_unary_ops_against_closed_forms(v):
    s = 1 / (1 + math.exp(-v)) if v > -700 else 0.0
    for name, value, grad in [
        ("tanh", math.tanh(v), 1 - math.tanh(v) ** 2),
        ("sigmoid", s, s * (1 - s)),  # stable at +-1000: no OverflowError
        ("relu", max(v, 0.0), float(v > 0)),
    ]:
        x = Scalar(v)
        y = getattr(x, name)()
        y.backward()
        assert (y.value, x.grad) == pytest.approx((value, grad), rel=1e-12, abs=1e-300)
    if abs(v) < 100:
        x = Scalar(v)
        y = x.exp()
        y.backward()
        assert (y.value, x.grad) == pytest.approx((math.exp(v), math.exp(v)), rel=1e-15)


# ------------------------------------------------------------------ random expressions
# Each op: (arity, how to apply it with Scalars / floats / TF tensors). A constant `k` from
# the recipe stands for a Python number (reversed operators, the ** exponent).
OPS = {
    "add": (2, lambda a, b, k, m: a + b),
    "sub": (2, lambda a, b, k, m: a - b),
    "mul": (2, lambda a, b, k, m: a * b),
    "div": (2, lambda a, b, k, m: a / b),
    "radd": (1, lambda a, b, k, m: k + a),
    "rsub": (1, lambda a, b, k, m: k - a),
    "rmul": (1, lambda a, b, k, m: k * a),
    "rdiv": (1, lambda a, b, k, m: k / a),
    "pow": (1, lambda a, b, k, m: a**k),
    "neg": (1, lambda a, b, k, m: -a),
    "exp": (1, lambda a, b, k, m: m["exp"](a)),
    "log": (1, lambda a, b, k, m: m["log"](a)),
    "tanh": (1, lambda a, b, k, m: m["tanh"](a)),
    "sigmoid": (1, lambda a, b, k, m: m["sigmoid"](a)),
    "relu": (1, lambda a, b, k, m: m["relu"](a)),
}
SCALAR = {name: (lambda n: lambda a: getattr(a, n)())(name)
          for name in ("exp", "log", "tanh", "sigmoid", "relu")}
FLOAT = {"exp": math.exp, "log": math.log, "tanh": math.tanh,
         "sigmoid": lambda a: 1 / (1 + math.exp(-a)), "relu": lambda a: max(a, 0.0)}
TF = {"exp": tf.exp, "log": tf.math.log, "tanh": tf.tanh, "sigmoid": tf.sigmoid,
      "relu": tf.nn.relu}
EXPONENTS = [2, 3, -1, 0.5, 1.5, -0.5]  # the ** exponents drawn


def _valid(op, a, b, k, out):
    """Keep every value in the region where all three evaluations are smooth and tame."""
    if not math.isfinite(out) or abs(out) > 50:
        return False
    if op == "log" or (op == "pow" and not float(k).is_integer()):
        return a > 0.2
    if op in ("div", "rdiv", "pow"):  # a divisor, or a negative power's base
        return abs(b if op == "div" else a) > 0.3
    if op == "relu":
        return abs(a) > 0.05  # away from the kink, where finite differences fail
    return True


def _recipe(rng, n_inputs=3, n_ops=10):
    """A random expression: a list of (op, i, j, k) acting on earlier nodes, checked valid."""
    values = [rng.uniform(-2.0, 2.0) for _ in range(n_inputs)]
    steps = []
    while len(steps) < n_ops:
        # The first operand is mostly a recent node (a deep expression), the second any
        # earlier one (shared subexpressions: paths that meet); the first binary operations
        # take each input in turn, so that every input reaches the output.
        i = max(0, len(values) - 1 - int(rng.expovariate(0.7)))
        if len(steps) < n_inputs:
            op, j = rng.choice(["add", "sub", "mul", "div"]), len(steps)
        else:
            op, j = rng.choice(sorted(OPS)), rng.randrange(len(values))
        k = rng.choice(EXPONENTS) if op == "pow" else rng.choice([-1.5, 0.5, 2.0, 3.0])
        try:
            out = OPS[op][1](values[i], values[j], k, FLOAT)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        if isinstance(out, complex) or not _valid(op, values[i], values[j], k, out):
            continue
        values.append(out)
        steps.append((op, i, j, k))
    return values[:n_inputs], steps


def _evaluate(inputs, steps, lib):
    nodes = list(inputs)
    for op, i, j, k in steps:
        nodes.append(OPS[op][1](nodes[i], nodes[j], k, lib))
    # The output mixes the last node with two earlier ones: more paths that meet.
    return nodes[-1] + nodes[-2] * nodes[len(inputs)], nodes


RECIPES = [_recipe(random.Random(seed)) for seed in range(40)]


def test_recipes_cover_every_operation():
    used = {op for _, steps in RECIPES for op, *_ in steps}
    assert used == set(OPS)


@pytest.mark.parametrize("seed", range(len(RECIPES)))
def test_random_expression_matches_tf_gradient_tape_and_finite_differences(seed):
    x0, steps = RECIPES[seed]
    xs = [Scalar(v, f"x{n}") for n, v in enumerate(x0)]
    y, _ = _evaluate(xs, steps, SCALAR)
    y.backward()
    ours = np.array([x.grad for x in xs])

    variables = [tf.Variable(v, dtype=tf.float64) for v in x0]
    with tf.GradientTape() as tape:
        y_tf, _ = _evaluate(variables, steps, TF)
    grads = tape.gradient(y_tf, variables)
    reference = np.array([0.0 if g is None else float(g) for g in grads])
    assert y.value == pytest.approx(float(y_tf), rel=1e-12)
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)

    h = 1e-6  # central differences: truncation ~h^2, rounding ~1e-16 / h
    central = []
    for n in range(len(x0)):
        up, down = list(x0), list(x0)
        up[n] += h
        down[n] -= h
        f_up, f_down = _evaluate(up, steps, FLOAT)[0], _evaluate(down, steps, FLOAT)[0]
        central.append((f_up - f_down) / (2 * h))
    np.testing.assert_allclose(ours, central, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ the engine's promises
def test_deep_graph_has_no_recursion_limit():
    n = max(10_000, 5 * sys.getrecursionlimit())  # far deeper than any recursive walk allows
    x = Scalar(0.3, "x")
    y = x
    for _ in range(n):
        y = 0.9999 * y + 0.0001  # two operations per step: 4n nodes with the constants
    y.backward()
    assert x.grad == pytest.approx(0.9999**n, rel=1e-9)
    assert len(trace(y)) == 4 * n + 1


def test_backward_twice_gives_the_same_gradients():
    a, b, y = _example()
    z = (y * a).sigmoid() + b * b
    z.backward()
    first = [n.grad for n in (a, b, y)]
    z.backward()
    assert [n.grad for n in (a, b, y)] == first
    assert first[1] == pytest.approx(  # dz/db = s'(y a) * a * (2b + a + 1) + 2b
        (lambda s: s * (1 - s))(1 / (1 + math.exp(-12.0))) * 2.0 * 5.0 + 2.0, rel=1e-12
    )


def test_trace_lists_every_node_inputs_first():
    a, b, y = _example()
    y.backward()
    table = trace(y)
    assert list(table.columns) == ["label", "op", "value", "grad", "inputs"]
    assert table["label"].tolist() == ["a", "b", "", "", "", "y"]
    assert table["op"].tolist() == ["", "", "+", "", "+", "*"]
    assert table["value"].tolist() == [2.0, 1.0, 3.0, 1.0, 2.0, 6.0]
    assert table["grad"].tolist() == [2.0, 5.0, 2.0, 3.0, 3.0, 1.0]
    for row, inputs in enumerate(table["inputs"]):
        assert all(i < row for i in inputs)


# ------------------------------------------------------------------ drawing
@pytest.mark.parametrize("show_grad", [True, False])
def test_draw_one_box_per_node(show_grad):
    a, b, y = _example()
    y.backward()
    ax = draw(y, show_grad=show_grad)
    assert isinstance(ax, matplotlib.axes.Axes)
    values = [t.get_text() for t in ax.texts if t.get_gid() == "value"]
    ops = [t.get_text() for t in ax.texts if t.get_gid() == "op"]
    assert len(values) == len(trace(y)) == 6 and sorted(ops) == ["+", "+", "×"]
    assert "b\nvalue 1\ngrad 5" in values if show_grad else "b\nvalue 1" in values
    assert all(("grad" in text) == show_grad for text in values)
    # Every box has a frame; 3 operations with 2 inputs each, plus 3 outputs: 9 arrows.
    assert all(t.get_bbox_patch() is not None for t in ax.texts if t.get_gid())
    assert sum(1 for t in ax.texts if t.get_gid() is None and t.arrow_patch is not None) == 9
    ax.figure.canvas.draw()  # the arrows resolve their box-relative coordinates
    plt.close(ax.figure)


def test_draw_lays_out_left_to_right_on_a_given_axes():
    x = Scalar(0.5, "x")
    w = Scalar(-1.0, "w")
    h = (x * w + 0.1).tanh()
    loss = (h - 1) ** 2
    loss.label = "loss"
    loss.backward()
    _, ax = plt.subplots()
    assert draw(loss, ax=ax) is ax
    boxes = {t.get_text().split("\n")[0]: t.get_position()[0] for t in ax.texts if t.get_gid()}
    assert boxes["x"] < boxes["×"] < boxes["tanh"] < boxes["**2"] < boxes["loss"]
    assert sum(1 for t in ax.texts if t.get_gid() == "value") == len(trace(loss))
    plt.close("all")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Scalar("2.0"), r"real number .*Received: value='2\.0'"),
        (lambda: Scalar(None), r"Received: value=None"),
        (lambda: Scalar(True), r"Received: value=True"),
        (lambda: Scalar(1.0) + "a", r"Received: other='a'"),
        (lambda: Scalar(0.0).log(), r"positive value. Received: value=0\.0"),
        (lambda: Scalar(-2.0).log(), r"Received: value=-2\.0"),
        (lambda: Scalar(2.0) ** Scalar(2.0), r"not supported.*Received: exponent=Scalar"),
        (lambda: Scalar(-2.0) ** 0.5, r"integer exponent.*Received: value=-2\.0, exponent=0\.5"),
        (lambda: draw(3.0), r"Received: root=3\.0"),
        (lambda: draw(Scalar(1.0) * 2, max_columns=1), r"integer >= 2. Received: max_columns=1"),
        (lambda: draw(Scalar(1.0) * 2, max_columns=3.0), r"Received: max_columns=3\.0"),
    ],
)
def test_bad_input_raises(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ------------------------------------------------------------------ the chapter's derivations
@pytest.mark.parametrize("a0, b0", [(2.0, 1.0), (-1.0, 3.0), (0.37, -2.5), (5.0, -1.0)])
def test_paths_that_meet_add_up(a0, b0):
    """y = (a + b)(b + 1): a reaches y by one path, b by two whose products add."""
    a, b = Scalar(a0, "a"), Scalar(b0, "b")
    y = (a + b) * (b + 1)
    y.backward()
    via_c, via_d = b0 + 1, a0 + b0  # dy/dc * dc/db and dy/dd * dd/db
    assert a.grad == pytest.approx(b0 + 1, rel=1e-15)
    assert b.grad == pytest.approx(via_c + via_d, rel=1e-15)


def _one_neuron_network(x, y, w1, b1, w2, b2):
    params = {name: Scalar(v, name) for name, v in
              dict(x=x, y=y, w1=w1, b1=b1, w2=w2, b2=b2).items()}
    p = params
    a1 = (p["w1"] * p["x"] + p["b1"]).sigmoid()
    a2 = (p["w2"] * a1 + p["b2"]).sigmoid()
    cost = (a2 - p["y"]) ** 2
    return params, a1, cost


@pytest.mark.parametrize("seed", range(5))
def test_one_neuron_per_layer_network_matches_the_chain_rule_formulas(seed):
    """dC/dw(L) = a(L-1) s'(z(L)) 2(a(L) - y), dC/db(L) without the a(L-1), and the hidden
    layer through dC/da(L-1) = w(L) s'(z(L)) 2(a(L) - y)."""
    rng = random.Random(seed)
    x, y, w1, b1, w2, b2 = (rng.uniform(-2, 2) for _ in range(6))
    params, a1_node, cost = _one_neuron_network(x, y, w1, b1, w2, b2)
    cost.backward()

    s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    z1 = w1 * x + b1
    a1 = s(z1)
    z2 = w2 * a1 + b2
    a2 = s(z2)
    dc_da2 = 2 * (a2 - y)
    dc_da1 = w2 * s(z2) * (1 - s(z2)) * dc_da2
    expected = {
        "w2": a1 * s(z2) * (1 - s(z2)) * dc_da2,
        "b2": 1 * s(z2) * (1 - s(z2)) * dc_da2,
        "w1": x * s(z1) * (1 - s(z1)) * dc_da1,
        "b1": 1 * s(z1) * (1 - s(z1)) * dc_da1,
    }
    assert cost.value == pytest.approx((a2 - y) ** 2, rel=1e-12)
    assert a1_node.grad == pytest.approx(dc_da1, rel=1e-12, abs=1e-15)
    for name, value in expected.items():
        assert params[name].grad == pytest.approx(value, rel=1e-12, abs=1e-15), name


def test_the_gradient_of_a_mean_is_the_mean_of_the_gradients():
    samples = [(0.5, 1.0), (-1.2, 0.0), (2.0, 0.3)]
    w, b = Scalar(0.7, "w"), Scalar(-0.1, "b")
    cost = sum(((w * x + b).sigmoid() - y) ** 2 for x, y in samples) / len(samples)
    cost.backward()
    batch = (w.grad, b.grad)
    singles = []
    for x, y in samples:
        c = ((w * x + b).sigmoid() - y) ** 2
        c.backward()
        singles.append((w.grad, b.grad))
    assert batch == pytest.approx(tuple(np.mean(singles, axis=0)), rel=1e-12)


def test_draw_wraps_a_long_graph_into_bands():
    """max_columns cuts the columns into bands, one below the other, read left to right;
    every edge still has exactly one arrow, and arrows between bands run along the gaps."""
    _, _, cost = _one_neuron_network(0.5, 1.0, 1.2, -0.4, 0.9, 0.1)
    cost.label = "C0"
    cost.backward()
    flat = draw(cost)
    assert len({t.get_position()[0] for t in flat.texts if t.get_gid()}) == 17  # 9 values, 8 ops
    ax = draw(cost, max_columns=7)
    boxes = {t.get_text().split("\n")[0]: t.get_position() for t in ax.texts if t.get_gid()}
    assert len({x for x, _ in boxes.values()}) == 7 and ax.get_xlim() == (-1.0, 7.0)
    # Band 1 holds w1 .. a1, band 2 starts with w2's product (b2 next to it), band 3 with
    # the residual a2 - y; each band starts at the left edge.
    assert boxes["w1"][1] > boxes["b2"][1] > boxes["C0"][1]
    assert boxes["w1"][0] == boxes["value -0.3555"][0] == 0.0
    edges = trace(cost)["inputs"]
    arrows = [t for t in ax.texts if t.get_gid() is None and t.arrow_patch is not None]
    assert len(arrows) == sum(len(i) + 1 for i in edges if i)
    assert len(ax.lines) == 3  # w2 and a1 into band 2, the residual into band 3
    assert ax.figure.get_size_inches()[0] < flat.figure.get_size_inches()[0] / 2
    ax.figure.canvas.draw()
    plt.close("all")
