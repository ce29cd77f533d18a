r"""The claims ledger: every ``assert`` a notebook makes, with what it needed and what it got.

Every claim a notebook's text makes is asserted in a hidden cell. A bare ``assert`` says only
*pass* or *fail*; the ledger also keeps the numbers, so that a claim's *margin* (how far the
measured value is from the threshold) can be read across machines, backends and seeds:

* :func:`record_asserts` (called by :func:`nntrain.setup` when ``$NNTRAIN_LEDGER`` names a
  folder) adds an IPython AST transformer to the running kernel. Every ``assert`` of the
  cells that follow is rewritten into a call that evaluates the same operands, records them
  in ``<folder>/<process id>.jsonl`` and raises the same ``AssertionError`` when the claim is
  false; calls of ``numpy.testing.assert_*`` are recorded as passed or failed. The rewrite is
  the one pytest makes of test files, reduced to what a ledger needs: a chained comparison
  ``lo < x < hi`` is recorded with every operand, anything else with its truth value.
* :func:`collect` reads such folders back and finds, from a hash of each cell's source, the
  notebook and cell every record came from, with the comment at the top of that cell (the
  claim in words).
* :func:`summarize` turns one folder per run (a backend and a seed) into one row per claim:
  the check, what each run got, the smallest margin, and whether every run passed
  (``python -m nntrain.ledger summarize``, which ``make test-matrix`` calls).

The margin of a comparison ``a < b`` (or ``<=``, ``>``, ``>=``) is the relative slack

.. math::

    m = \frac{b - a}{\max(|a|, |b|)} \in [-2, 2],

positive when the claim holds and negative when it fails; a chained comparison takes the
smallest over its links. ``m = 0.5`` says the value could move by half the larger of the two
before the claim breaks. Equalities and truth values have no margin.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import numbers
import operator
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ._files import atomic_write

__all__ = ["LEDGER_VAR", "cell_key", "collect", "record_asserts", "summarize"]

LEDGER_VAR = "NNTRAIN_LEDGER"
# The name the rewritten cells call; a dunder name no notebook uses.
_HOOK = "__nntrain_claim__"

_OPERATORS: dict[type, tuple[str, Callable[[object, object], object]]] = {
    ast.Lt: ("<", operator.lt), ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt), ast.GtE: (">=", operator.ge),
    ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne),
    ast.Is: ("is", operator.is_), ast.IsNot: ("is not", operator.is_not),
    ast.In: ("in", lambda a, b: a in b), ast.NotIn: ("not in", lambda a, b: a not in b),
}
_BY_SYMBOL = {symbol: function for symbol, function in _OPERATORS.values()}


def cell_key(source: str) -> str:
    """The key of a cell in the ledger: a short hash of its source, whitespace at the ends removed."""
    return hashlib.sha1(source.strip().encode("utf-8")).hexdigest()[:16]


# -- recording, inside a kernel -------------------------------------------------------------

class _Recorder:
    """The callable the rewritten asserts call: evaluates, records one JSON line, raises."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, row: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, default=str) + "\n")

    def __call__(self, cell: str, line: int, source: str, ops: Sequence[str],
                 values: list, message: Callable[[], object] | None) -> None:
        __tracebackhide__ = True  # a failing claim's traceback ends at the notebook's own line
        if ops:
            links = [_BY_SYMBOL[op](a, b) for op, a, b in zip(ops, values, values[1:])]
            ok = all(bool(link) for link in links)  # bool() raises on an ambiguous array, as assert does
            slack = _slack(ops, values)
        else:
            ok, slack = bool(values[0]), None
        self._write({"cell": cell, "line": line, "source": source, "ops": list(ops),
                     "values": [_summary(v) for v in values] if ops else [],
                     "ok": ok, "margin": slack})
        if not ok:
            raise AssertionError(message()) if message is not None else AssertionError()

    def call(self, cell: str, line: int, source: str, thunk: Callable[[], object]) -> object:
        """Run an ``assert_*`` call (``numpy.testing``'s), record whether it raised, re-raise."""
        __tracebackhide__ = True
        try:
            result = thunk()
        except AssertionError as err:
            self._write({"cell": cell, "line": line, "source": source, "ops": [], "values": [],
                         "ok": False, "margin": None, "error": str(err).strip()[:300]})
            raise
        self._write({"cell": cell, "line": line, "source": source, "ops": [], "values": [],
                     "ok": True, "margin": None})
        return result


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # Python and NumPy scalars, 0-d arrays
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _slack(ops: Sequence[str], values: Sequence[object]) -> float | None:
    """The smallest relative slack of the ordering links of a comparison (see the module)."""
    slacks = []
    for op, a, b in zip(ops, values, values[1:]):
        if op not in ("<", "<=", ">", ">="):
            continue
        a, b = _number(a), _number(b)
        if a is None or b is None:
            continue
        low, high = (a, b) if op in ("<", "<=") else (b, a)
        scale = max(abs(low), abs(high))
        slacks.append(0.0 if scale == 0 else (high - low) / scale)
    return min(slacks) if slacks else None


def _summary(value: object) -> object:
    """A value as the ledger shows it: a number, a short list of numbers, or a short repr."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    number = _number(value)
    if number is not None and not hasattr(value, "__len__"):
        return number
    if isinstance(value, (bool, str)) or value is None:
        return value
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


class _AssertRewriter(ast.NodeTransformer):
    """Rewrites ``assert`` statements and ``*.assert_*(...)`` calls of one cell into recorder calls."""

    def __init__(self, cell: str) -> None:
        self.cell = cell

    def _hook(self, *args: ast.expr, attribute: str | None = None) -> ast.Call:
        func: ast.expr = ast.Name(_HOOK, ast.Load())
        if attribute:
            func = ast.Attribute(func, attribute, ast.Load())
        return ast.Call(func, list(args), [])

    def visit_Assert(self, node: ast.Assert) -> ast.stmt:
        test = node.test
        if isinstance(test, ast.Compare):
            ops = [_OPERATORS[type(op)][0] for op in test.ops]
            values = [test.left, *test.comparators]
        else:
            ops, values = [], [test]
        message = ast.Lambda(ast.arguments([], [], None, [], [], None, []), node.msg) \
            if node.msg is not None else ast.Constant(None)
        call = self._hook(ast.Constant(self.cell), ast.Constant(node.lineno),
                          ast.Constant(ast.unparse(test)),
                          ast.Tuple([ast.Constant(op) for op in ops], ast.Load()),
                          ast.List(values, ast.Load()), message)
        return ast.copy_location(ast.Expr(call), node)

    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        value = node.value
        if isinstance(value, ast.Call):
            name = value.func.attr if isinstance(value.func, ast.Attribute) else \
                getattr(value.func, "id", "")
            if name.startswith("assert_"):
                thunk = ast.Lambda(ast.arguments([], [], None, [], [], None, []), value)
                call = self._hook(ast.Constant(self.cell), ast.Constant(node.lineno),
                                  ast.Constant(ast.unparse(value)), thunk, attribute="call")
                return ast.copy_location(ast.Expr(call), node)
        return self.generic_visit(node)


class _CellTransformer(ast.NodeTransformer):
    """The IPython AST transformer: rewrites each cell, keyed by the hash of its raw source.

    The raw source comes from IPython's ``pre_run_cell`` event (whatever the client asked of
    the history: nbval executes without storing it), else from the input history.
    """

    def __init__(self, shell) -> None:
        self.shell = shell
        self.raw: str | None = None
        shell.events.register("pre_run_cell", self._remember)

    def _remember(self, info) -> None:
        self.raw = getattr(info, "raw_cell", None)

    def visit(self, node: ast.AST) -> ast.AST:
        raw, self.raw = self.raw, None
        if raw is None:
            history = self.shell.history_manager.input_hist_raw
            raw = history[-1] if history else ""
        return ast.fix_missing_locations(_AssertRewriter(cell_key(raw)).visit(node))


def record_asserts(folder: str | os.PathLike | None = None, shell=None) -> Path | None:
    """Record every later ``assert`` of this IPython kernel in the ledger folder.

    Args:
        folder: where to write; ``None`` reads ``$NNTRAIN_LEDGER`` (nothing happens when it is
            unset or empty, or outside IPython).
        shell: the IPython shell; ``None`` takes the running one.

    Returns:
        The file this kernel writes, or ``None`` when nothing is recorded.
    """
    folder = folder if folder is not None else os.environ.get(LEDGER_VAR, "").strip()
    if not folder:
        return None
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    existing = shell.user_ns.get(_HOOK)
    if isinstance(existing, _Recorder):
        return existing.path
    path = Path(folder).resolve()
    path.mkdir(parents=True, exist_ok=True)
    path = path / f"{os.getpid()}.jsonl"
    recorder = _Recorder(path)
    recorder._write({"run": True, **_run_facts()})
    shell.user_ns[_HOOK] = recorder
    shell.ast_transformers.append(_CellTransformer(shell))
    return path


def _run_facts() -> dict:
    import platform

    from .profiles import default_seed, get_profile

    backend = os.environ.get("KERAS_BACKEND")
    if backend is None:
        import keras

        backend = keras.backend.backend()
    return {"profile": get_profile().name, "seed": default_seed(), "backend": backend,
            "cwd": os.getcwd(), "machine": platform.processor() or platform.machine()}


# -- reading back -------------------------------------------------------------------------

def _comment(source: str) -> str:
    """The comment block at the top of a cell: the claim in words."""
    words = []
    for line in source.strip().splitlines():
        if not line.startswith("#"):
            break
        words.append(line.lstrip("#").strip())
    return " ".join(words)


def _cells(notebooks: Iterable[str | os.PathLike]) -> dict[str, dict]:
    """Every code cell of the notebooks, by :func:`cell_key`."""
    cells = {}
    for path in notebooks:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
        code = 0
        for index, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] != "code":
                continue
            code += 1
            source = "".join(cell["source"])
            cells[cell_key(source)] = {
                "notebook": Path(path).as_posix(), "cell": index,
                "hidden": "remove-cell" in cell.get("metadata", {}).get("tags", []),
                "claim": _comment(source),
            }
    return cells


def collect(folder: str | os.PathLike, notebooks: Iterable[str | os.PathLike]):
    """Every record of a ledger folder, with its notebook, cell and claim in words.

    Args:
        folder: a folder that :func:`record_asserts` wrote (one ``.jsonl`` file per kernel).
        notebooks: the notebooks whose cells the records may come from.

    Returns:
        A ``pandas.DataFrame``, one row per recorded check, in the order they ran.

    Raises:
        ValueError: for a folder that holds no ledger file.
    """
    import pandas as pd

    cells = _cells(notebooks)
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise ValueError(f"`folder` must hold the ledger's .jsonl files. Received: folder={str(folder)!r}")
    rows = []
    for path in files:
        facts: dict = {}
        for order, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            record = json.loads(line)
            if record.pop("run", False):
                facts = record
                continue
            record["key"] = record.pop("cell")
            where = cells.get(record["key"], {"notebook": "?", "cell": -1, "hidden": False, "claim": ""})
            rows.append({**where, **record, "order": order,
                         **{k: facts.get(k) for k in ("backend", "seed", "profile")}})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["notebook", "cell", "order"], kind="stable").reset_index(drop=True)


def _got(record) -> str:
    values = record["values"]
    if isinstance(values, list) and values and record["ops"]:
        return " ".join(
            f"{_fmt(v)} {op}" for v, op in zip(values, record["ops"])) + f" {_fmt(values[-1])}"
    if record.get("error"):
        return str(record["error"])[:80]
    return "true" if record["ok"] else "false"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def claims(table):
    """One row per check of one run: the same check in a loop is one row, its worst case shown."""
    import pandas as pd

    if table.empty:
        return pd.DataFrame(columns=["notebook", "cell", "line", "claim", "check", "got", "margin", "ok"])
    table = table.assign(got=[_got(r) for r in table.to_dict("records")],
                         margin=pd.to_numeric(table["margin"], errors="coerce"))
    keys = ["notebook", "cell", "line", "source"]
    rows = []
    for key, group in table.groupby(keys, sort=False):
        failed = group[~group["ok"].astype(bool)]
        worst = failed.iloc[0] if len(failed) else (
            group.loc[group["margin"].idxmin()] if group["margin"].notna().any() else group.iloc[0])
        rows.append({"notebook": key[0], "cell": key[1], "line": key[2], "claim": worst["claim"],
                     "check": key[3], "got": worst["got"], "margin": worst["margin"],
                     "ok": bool(group["ok"].astype(bool).all()), "times": len(group)})
    return pd.DataFrame(rows)


def summarize(runs: dict[str, str | os.PathLike], notebooks: Sequence[str | os.PathLike]):
    """One row per claim over several runs: what each run got and the smallest margin.

    Args:
        runs: run name (e.g. ``"jax seed 1"``) to its ledger folder.
        notebooks: the notebooks the runs executed.

    Returns:
        A ``pandas.DataFrame`` with columns notebook, cell, claim, check, one ``got`` column
        per run, ``margin`` (smallest over the runs that reached the check), ``runs passed``
        and ``ok`` (every run reached the check and passed it).
    """
    import pandas as pd

    keys = ["notebook", "cell", "line", "check"]
    merged = None
    passed = {}
    for name, folder in runs.items():
        table = claims(collect(folder, notebooks)) if any(Path(folder).glob("*.jsonl")) else claims(pd.DataFrame())
        part = table.set_index(keys)[["claim", "got", "margin", "ok"]].rename(
            columns={"got": name, "margin": f"margin {name}", "ok": f"ok {name}"})
        merged = part if merged is None else merged.combine_first(part)
        passed[name] = f"ok {name}"
    if merged is None:
        raise ValueError("`runs` must name at least one run. Received: runs={}")
    margins = merged[[f"margin {n}" for n in runs]]
    oks = merged[list(passed.values())]
    out = merged[["claim", *runs]].copy()
    out["margin"] = margins.min(axis=1)
    out["runs passed"] = oks.eq(True).sum(axis=1).astype(int).astype(str) + f"/{len(runs)}"
    out["ok"] = oks.eq(True).all(axis=1)
    for name in runs:
        out[name] = out[name].fillna("not reached")
    return out.reset_index().sort_values(["notebook", "cell", "line"]).reset_index(drop=True)


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m nntrain.ledger", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summarize", help="one row per claim over the runs of a matrix")
    s.add_argument("matrix", help="a folder with one ledger folder per run")
    s.add_argument("notebooks", nargs="+")
    s.add_argument("--out", help="CSV file to write (default: <matrix>/ledger.csv)")
    args = parser.parse_args(argv)

    matrix = Path(args.matrix)
    runs = {p.name: p for p in sorted(matrix.iterdir()) if p.is_dir()}
    table = summarize(runs, args.notebooks)
    out = Path(args.out) if args.out else matrix / "ledger.csv"
    atomic_write(out, table.to_csv(index=False))
    failing = table[~table["ok"]]
    print(f"claims ledger: {len(table)} checks in {table['notebook'].nunique()} notebooks "
          f"over {len(runs)} runs ({', '.join(runs)}); {len(failing)} not passed everywhere; written to {out}")
    thin = table[table["ok"] & table["margin"].notna()].nsmallest(12, "margin")
    if len(thin):
        print("thinnest margins (smallest over the runs):")
        for row in thin.itertuples():
            print(f"  {row.margin:6.3f}  {row.notebook} cell {row.cell}: {row.check[:90]}")
    for row in failing.itertuples():
        got = "; ".join(f"{name}: {table.loc[row.Index, name]}" for name in runs)
        print(f"FAILED  {row.notebook} cell {row.cell}: {row.check[:100]}\n        {got}")
    return 1 if len(failing) else 0


if __name__ == "__main__":
    raise SystemExit(_main())
