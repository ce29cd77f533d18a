"""The labs' student versions (`make assignments`, _ext/assignments.py).

The solved labs mark each exercise's answer with nbgrader's `### BEGIN SOLUTION` / `### END
SOLUTION`; a student copy has no solution code, no `{solution}` block, no hidden test cell and
no output, and keeps every exercise and every checker call. One student copy is executed up to
its first exercise, whose checker must reject the stub and accept the solved lab's answer.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted((ROOT / "labs").glob("*.ipynb"))
CALL = re.compile(r"""nt\.check\.exercise\(\s*["']([\w.-]+)["']""")
EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[^\n]*\n:label:\s*(\S+)", re.M)
# The cheapest lab to run up to its first exercise: a little data and NumPy, no training.
RUN_LAB = "backprop_by_hand"


def _load_assignments():
    spec = importlib.util.spec_from_file_location("nntrain_assignments", ROOT / "_ext" / "assignments.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


assignments = _load_assignments()


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _visible_code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "remove-cell" not in _tags(c)]


@pytest.fixture(scope="module")
def copies() -> dict[str, tuple[nbformat.NotebookNode, nbformat.NotebookNode]]:
    return {path.stem: (_read(path), assignments.student_copy(_read(path))) for path in LABS}


def test_there_are_labs():
    assert len(LABS) >= 5, LABS


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_the_solved_lab_marks_every_checked_answer_with_balanced_markers(path):
    nb = _read(path)
    marked = 0
    for cell in nb.cells:
        begins, ends = cell.source.count(assignments.BEGIN), cell.source.count(assignments.END)
        if cell.cell_type != "code":
            assert begins == ends == 0, f"{path.name}: solution markers in a {cell.cell_type} cell"
            continue
        assert begins == ends, f"{path.name}: {begins} BEGIN and {ends} END markers in\n{cell.source}"
        assignments._regions(cell.source)  # raises on nested or out-of-order markers
        if begins:
            marked += 1
            after = cell.source.rsplit(assignments.END, 1)[1]
            assert CALL.search(after), f"{path.name}: no nt.check.exercise(...) after the markers in\n{cell.source}"
    visible_checks = [c for c in _visible_code(nb) if CALL.search(c.source)]
    assert marked == len(visible_checks) > 0, f"{path.name}: {marked} marked cells, {len(visible_checks)} checker cells"


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_the_solved_lab_links_its_student_version(path):
    first = next(c for c in _read(path).cells if c.cell_type == "markdown")
    assert f'<a href="../assignments/{path.name}" download>Student version (download)</a>' in first.source


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_the_student_copy_has_no_solution_and_keeps_every_exercise_and_checker(path, copies):
    solved, student = copies[path.stem]
    by_id = {c.id: c for c in student.cells}
    for cell in solved.cells:
        if cell.cell_type == "code" and assignments.BEGIN in cell.source:
            left = by_id[cell.id].source
            assert assignments.BEGIN not in left and assignments.END not in left
            assert assignments.STUB in left
            for region in assignments._regions(cell.source):
                for line in filter(str.strip, region.splitlines()):
                    assert line not in left.splitlines(), f"{path.name}: solution line kept: {line!r}"
    for cell in student.cells:
        assert assignments.BEGIN not in cell.source and assignments.END not in cell.source
        if cell.cell_type == "markdown":
            assert "{solution}" not in cell.source, f"{path.name}: a {{solution}} block is left:\n{cell.source}"
        else:
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs kept"
    # Every exercise, and every checker call a reader sees, is still there, in order.
    labels = lambda nb: [m[1] for c in nb.cells if c.cell_type == "markdown" for m in EXERCISE.findall(c.source)]
    calls = lambda nb: [n for c in _visible_code(nb) for n in CALL.findall(c.source)]
    assert labels(student) == labels(solved) and labels(solved)
    assert calls(student) == calls(solved) and calls(solved)
    # The hidden test cells are gone; the Colab install cell (hidden, asserting nothing) stays.
    hidden = [c for c in student.cells if "remove-cell" in _tags(c)]
    assert all("colab" in _tags(c) for c in hidden), f"{path.name}: a hidden test cell is left"
    assert student.cells[0].cell_type == "code" and "colab" in _tags(student.cells[0])
    # The first markdown cell says what this copy is, instead of linking to itself.
    first = next(c for c in student.cells if c.cell_type == "markdown")
    assert "Student version (download)" not in first.source and "*Student version*" in first.source
    nbformat.validate(student)


def test_the_stub_defines_what_the_checker_line_uses():
    stub = assignments._stub
    begin, end = assignments.BEGIN, assignments.END
    function = f"def f(x):\n    {begin}\n    y = x + 1\n    return y\n    {end}\n\n\nnt.check.exercise('lab.f', f)"
    assert stub(function) == f"{assignments.STUB}\nreturn None"
    answer = f"{begin}\nsteps = [1]  # one step\nprint(steps)\n{end}\nnt.check.exercise('lab.steps', steps)"
    assert stub(answer) == f"{assignments.STUB}\nsteps = None"
    # A name in a string or a comment is no use of it; helpers the checker does not need stay unset.
    quoted = f"{begin}\nsteps, s = 1, 2\n{end}\nnt.check.exercise('lab.steps', (s,))  # steps"
    assert stub(quoted) == f"{assignments.STUB}\ns = None"
    with pytest.raises(ValueError, match="without"):
        assignments._regions(f"{begin}\nx = 1\n")
    with pytest.raises(ValueError, match="nested"):
        assignments._regions(f"{begin}\n{begin}\n{end}\n{end}")


def test_solution_blocks_go_and_exercises_stay():
    md = ("Text.\n\n```{exercise}\n:label: ex-a\n\nDo it.\n```\n\n````{solution} ex-a\n:class: dropdown\n\n"
          "```python\nx = 1\n```\n````\n\n:::{solution} ex-a\nColons.\n:::\nAfter.")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_markdown_cell(md)])
    out = assignments.student_copy(nb).cells[1].source
    assert out == "Text.\n\n```{exercise}\n:label: ex-a\n\nDo it.\n```\n\nAfter."


def test_every_checker_rejects_an_empty_answer_with_a_hint():
    """A student copy starts from None answers: each checker says "not yet", never raises."""
    from nntrain import check

    for name in check.available():
        feedback = check.exercise(name, None)
        assert not feedback and feedback.message.strip(), name
    assert "no answer yet" in str(check.close(None, 1.0, hint="h"))


def test_make_assignments_writes_the_student_copies(tmp_path):
    """What `make assignments` runs: one command, every lab, valid notebooks, nothing else."""
    out = tmp_path / "assignments"
    assert assignments.main(["--out", str(out), *map(str, LABS)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in LABS)
    for path in out.iterdir():
        nb = _read(path)
        nbformat.validate(nb)
        assert not any(assignments.BEGIN in c.source for c in nb.cells)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\.PHONY:.* assignments ", makefile, re.M)
    assert re.search(r"^assignments: .*\n\t.*_ext/assignments\.py --out \$\(ASSIGNMENTS_DIR\)", makefile, re.M)


def _answer(source: str) -> str:
    """The answer expression of a cell's checker call: `output_layer` in exercise("...", output_layer)."""
    call = next(node for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Call) and ast.unparse(node.func) == "nt.check.exercise")
    return ast.unparse(call.args[1])


def _text(outputs) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)


def test_a_student_copy_runs_to_its_first_exercise_and_its_checker_gives_a_hint(monkeypatch):
    """The student copy of one lab, executed up to its first exercise: the checker rejects the
    stub with a hint, and accepts the answer of the solved lab once its cell has run."""
    from nbclient import NotebookClient

    monkeypatch.setenv("NNTRAIN_PROFILE", "smoke")
    monkeypatch.setenv("NNTRAIN_PROGRESS", "0")
    solved = _read(ROOT / "labs" / f"{RUN_LAB}.ipynb")
    student = assignments.student_copy(solved)
    first = next(i for i, c in enumerate(student.cells) if c.cell_type == "code" and CALL.search(c.source))
    exercise_cell = student.cells[first]
    name, answer = CALL.search(exercise_cell.source)[1], _answer(exercise_cell.source)
    solution = next(c for c in solved.cells if c.get("id") == exercise_cell.id).source
    verdict = f"print('verdict', bool(nt.check.exercise({name!r}, {answer})))"

    client = NotebookClient(student, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "labs")}})
    with client.setup_kernel():
        for index, cell in enumerate(student.cells[: first + 1]):
            if cell.cell_type == "code" and "skip-execution" not in _tags(cell):
                client.execute_cell(cell, index)  # raises if a cell before the exercise fails
        hint = _text(exercise_cell.outputs)
        probes = [nbformat.v4.new_code_cell(verdict), nbformat.v4.new_code_cell(solution),
                  nbformat.v4.new_code_cell(verdict)]
        for probe in probes:
            student.cells.append(probe)  # the client writes each executed cell back by index
            client.execute_cell(probe, len(student.cells) - 1)
    assert "Not yet" in hint, hint
    assert "verdict False" in _text(probes[0].outputs)
    assert "Correct" in _text(probes[1].outputs)
    assert "verdict True" in _text(probes[2].outputs)
