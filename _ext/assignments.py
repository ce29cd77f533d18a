"""Student copies of the labs: each solved lab with its solutions taken out.

The solved notebooks in ``labs/`` are the source of truth; a student copy is derived from one,
never edited by hand. In a solved lab, the code that answers an exercise sits between
nbgrader's markers, the convention instructors know::

    def output_layer(a1, z2, y):
        ### BEGIN SOLUTION
        dz2 = softmax(z2) - np.eye(len(z2))[y]
        return dz2, np.outer(a1, dz2), dz2
        ### END SOLUTION


    nt.check.exercise("backprop_by_hand.output", output_layer)

and the checker call stays outside them. In the student copy:

* every marked region becomes ``# YOUR CODE HERE`` (nbgrader's ``ClearSolutions``
  preprocessor does the replacing) followed by a stub that lets the checker line run and
  give its hint instead of raising: ``return None`` when the region is a function's body,
  else ``<name> = None`` for each name the region defines that the rest of the cell uses
  (``answer = None`` for ``nt.check.exercise("...", answer)``);
* the ``{solution}`` blocks of the markdown cells are removed (the ``{exercise}`` text stays);
* the hidden test cells (code cells tagged ``remove-cell`` that ``assert``: they check the
  solution's results, and would give the answers away) are dropped; the Colab install cell,
  hidden too, asserts nothing and stays;
* every output and execution count is cleared (nbconvert's ``ClearOutputPreprocessor``);
* the "Student version" link of the first markdown cell gives way to a note saying what this
  copy is.

Everything else is kept as it is, so a student copy runs up to its first exercise, where the
checker rejects the empty answer with a hint. Cells after an exercise may use its answer
(a later experiment trains with the student's function or rate) and fail until it is filled in.

Run by ``make assignments`` (into ``_build/assignments/``), and by the site's extension
(``_ext/nntrain_site.py``), which writes the same copies into the built website beside the
lab pages (``assignments/<lab>.ipynb``) that link to them::

    python _ext/assignments.py --out _build/assignments labs/*.ipynb
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import sys
import textwrap
from pathlib import Path

import nbformat

__all__ = ["BEGIN", "END", "STUB", "STUDENT_LINK", "student_copy", "write"]

# nbgrader's markers (ClearSolutions' begin/end_solution_delimeter, with the comment mark)
# and the line it puts in their place.
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "# YOUR CODE HERE"
# The link a solved lab's first markdown cell carries to its student copy (a raw HTML link:
# a Markdown link to an .ipynb would be resolved by MyST as a page of the book), and the note
# the student copy shows in its place.
STUDENT_LINK = re.compile(r'\s*<a href="\.\./assignments/[\w-]+\.ipynb"[^>]*>[^<]*</a>')
STUDENT_NOTE = ("\n\n*Student version*: the code that answers each exercise is replaced by "
                f"`{STUB}`. Write yours there and run the cell: its `nt.check.exercise(...)` "
                "line says whether the answer is right, with a hint when it is not. Cells after "
                "an exercise may need its answer to run.")
# A {solution} directive block of MyST Markdown: an opening fence of three or more backticks
# or colons, and the next closing fence of the same character and at least the same length.
_SOLUTION = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{solution\}[^\n]*\n.*?^(?P=fence)(?P<more>[`:]*)[ \t]*(?:\n|\Z)",
    re.M | re.S)
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")
# What is not a name in a line of Python: string literals (one-line) and comments.
_NOT_CODE = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|#[^\n]*")


def _regions(source: str) -> list[str]:
    """The marked regions of a cell's source, each as its lines between the markers."""
    regions, current = [], None
    for line in source.split("\n"):
        if BEGIN in line:
            if current is not None:
                raise ValueError(f"nested {BEGIN!r} in a cell:\n{source}")
            current = []
        elif END in line:
            if current is None:
                raise ValueError(f"{END!r} without {BEGIN!r} in a cell:\n{source}")
            regions.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    if current is not None:
        raise ValueError(f"{BEGIN!r} without {END!r} in a cell:\n{source}")
    return regions


class _Bound(ast.NodeVisitor):
    """The names a block of code binds in its own scope, in order, and whether it returns."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.returns = False

    def _bind(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self._bind(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._bind(node.name)  # its body is another scope

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_alias(self, node: ast.alias) -> None:
        self._bind((node.asname or node.name).split(".")[0])

    def visit_Return(self, node: ast.Return) -> None:
        self.returns = True

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass  # another scope

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda


def _stub(source: str) -> str:
    """What replaces a cell's solution region: ``# YOUR CODE HERE`` and what the cell needs.

    A region that returns is a function's body and becomes ``return None``; otherwise each
    name the region binds and the rest of the cell (the checker line) uses is set to None.
    """
    bound = _Bound()
    for region in _regions(source):
        # Parsed as a function's body, so that a region with `return` parses too.
        body = textwrap.indent(textwrap.dedent(region), "    ") or "    pass"
        for statement in ast.parse("def _region():\n" + body + "\n    pass").body[0].body:
            bound.visit(statement)
    if bound.returns:
        return f"{STUB}\nreturn None"
    outside = set(_NAME.findall(_NOT_CODE.sub(" ", source.split(END, 1)[1])))
    return "\n".join([STUB, *(f"{name} = None" for name in bound.names if name in outside)])


def _is_hidden_test(cell: nbformat.NotebookNode) -> bool:
    """A code cell hidden from the website (``remove-cell``) that asserts: a test cell."""
    if cell.cell_type != "code" or "remove-cell" not in cell.metadata.get("tags", []):
        return False
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:  # IPython syntax (magics): look for the word
        return re.search(r"^\s*assert\b", cell.source, re.M) is not None
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def student_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student copy of a solved notebook (a new notebook; the argument is not changed).

    Args:
        notebook: a solved lab, as :func:`nbformat.read` returns it.

    Returns:
        The notebook without solutions, hidden test cells or outputs.

    Raises:
        ValueError: when a cell's markers are unbalanced or nested.
    """
    from nbconvert.preprocessors import ClearOutputPreprocessor
    from nbgrader.preprocessors import ClearSolutions

    nb = copy.deepcopy(notebook)
    nb.cells = [cell for cell in nb.cells if not _is_hidden_test(cell)]
    resources = {"language": nb.metadata.get("kernelspec", {}).get("language", "python")}
    first_markdown = True
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            text, changes = _SOLUTION.subn("", cell.source)
            if first_markdown:
                text, links = STUDENT_LINK.subn(lambda _: STUDENT_NOTE, text, count=1)
                changes, first_markdown = changes + links, False
            if changes:  # close the gaps the removed blocks leave
                cell.source = re.sub(r"\n{3,}", "\n\n", text).rstrip("\n")
        elif cell.cell_type == "code" and BEGIN in cell.source:
            # One stub per cell, so one ClearSolutions per cell (its code_stub is per language).
            clear = ClearSolutions(code_stub={resources["language"]: _stub(cell.source)},
                                   begin_solution_delimeter=BEGIN, end_solution_delimeter=END,
                                   enforce_metadata=False)
            clear.preprocess_cell(cell, resources, index)
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timings of the solved run, where kept
    return nb


def write(paths: list[str | os.PathLike], out: str | os.PathLike) -> list[Path]:
    """Write the student copy of each solved notebook in ``paths`` to ``out/<name>.ipynb``.

    Each file is written aside and renamed into place, so a reader never sees half of one
    (as nntrain's ``atomic_write`` does; importing nntrain would import Keras and its
    backend, which this script has no use for).

    Returns:
        The files written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, paths):
        nb = student_copy(nbformat.read(path, as_version=4))
        target = out / path.name
        aside = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            aside.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            os.replace(aside, target)
        finally:
            aside.unlink(missing_ok=True)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="solved notebooks (e.g. labs/*.ipynb)")
    parser.add_argument("--out", default="_build/assignments", help="folder for the student copies")
    args = parser.parse_args(argv)
    for target in write(args.notebooks, args.out):
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
