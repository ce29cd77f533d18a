"""The test pipeline itself: a failing claim or a broken notebook must fail the test command.

These tests run nbval and Jupyter Book on small throwaway notebooks, with the course's own
configuration, and check both that a good notebook passes and that a bad one fails (so that
neither check could pass by accident).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _notebook(path: Path, *cells: tuple[str, str, tuple[str, ...]]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, text, tags in cells:
        cell = nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "NNTRAIN_PROFILE": "smoke", "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("claim, passes", [("assert 2 + 2 == 4", True), ("assert 2 + 2 == 5, 'the claim is false'", False)])
def test_nbval_fails_when_a_hidden_assertion_fails(tmp_path, claim, passes):
    _notebook(tmp_path / "claims.ipynb",
              ("md", "# A claim", ()),
              ("code", "x = 2 + 2\nprint(x)", ()),
              ("code", claim, ("remove-cell",)))
    result = _run([str(BIN / "python"), "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax",
                   "--nbval-current-env", "claims.ipynb"], tmp_path)
    assert (result.returncode == 0) == passes, result.stdout[-3000:]
    if not passes:
        assert "the claim is false" in result.stdout


def _book(tmp_path: Path, page: str, build: bool = True) -> subprocess.CompletedProcess | None:
    book = tmp_path / "book"
    book.mkdir()
    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, book / name)
    shutil.copytree(ROOT / "_ext", book / "_ext")  # the local Sphinx extension _config.yml loads
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: page\n  - file: refs\n")
    (book / "intro.md").write_text("# Test book\n\n```{tableofcontents}\n```\n")
    (book / "refs.md").write_text("# References\n\n```{bibliography}\n```\n")
    _notebook(book / "page.ipynb",
              ("md", f"# A page\n\n{page}\n", ()),
              ("code", "value = 6 * 7\nprint(value)", ()),
              ("code", "raise RuntimeError('this notebook is broken')" if "RAISE" in page else "pass", ()))
    if not build:
        return None
    return _run([str(BIN / "jupyter-book"), "build", str(book), "--warningiserror", "--nitpick", "--keep-going"],
                tmp_path)


@pytest.mark.parametrize("case", ["good", "raises", "unknown citation", "broken reference"])
def test_book_build_fails_on_errors_and_warnings(tmp_path, case):
    page = {
        "good": "Gradient descent goes back to {cite:t}`robbins1951stochastic`; see {numref}`fig-x`.\n\n"
                "```{figure} data:image/png;base64,iVBORw0KGgo=\n:name: fig-x\n\nA figure.\n```",
        "raises": "RAISE: the code below raises.",
        "unknown citation": "As shown by {cite:t}`nobody2099imaginary`.",
        "broken reference": "As {numref}`fig-does-not-exist` shows.",
    }[case]
    result = _book(tmp_path, page)
    log = result.stdout + result.stderr
    if case == "good":
        assert result.returncode == 0, log[-4000:]
        assert (tmp_path / "book" / "_build" / "html" / "page.html").is_file()
    else:
        assert result.returncode != 0, f"the build passed although the page has a {case}"
    if case == "raises":
        assert "this notebook is broken" in log  # the traceback is shown in the log


@pytest.mark.parametrize("broken", [False, True])
def test_notebooks_run_side_by_side_into_the_cache_the_build_renders(tmp_path, broken):
    """`make book`'s two steps: _ext/execute.py runs the notebooks, the build only renders them."""
    page = "RAISE: the code below raises." if broken else "Nothing to see."
    _book(tmp_path, page, build=False)
    book = tmp_path / "book"
    _notebook(book / "other.ipynb", ("md", "# Another page", ()), ("code", "print(1 + 1)", ()))
    cache = book / "_build" / ".jupyter_cache"
    executed = _run([str(BIN / "python"), str(book / "_ext" / "execute.py"), "--fresh", "--workers", "2",
                     "--cache", str(cache), str(book / "page.ipynb"), str(book / "other.ipynb")], tmp_path)
    log = executed.stdout + executed.stderr
    if broken:
        assert executed.returncode == 1, log[-4000:]
        assert "page.ipynb FAILED" in log and "this notebook is broken" in log  # with its traceback
        assert "1 of 2 notebooks ran" in log
        return
    assert executed.returncode == 0, log[-4000:]
    assert "2 of 2 notebooks ran" in log
    built = _run([str(BIN / "jupyter-book"), "build", str(book), "--warningiserror", "--nitpick",
                  "--keep-going"], tmp_path)
    log = built.stdout + built.stderr
    assert built.returncode == 0, log[-4000:]
    assert log.count("Using cached notebook") == 1 and "Executing notebook" not in log  # page.ipynb
    assert "42" in (book / "_build" / "html" / "page.html").read_text()  # print(6 * 7), from the cache
    # Run again without --fresh: nothing has changed, so nothing runs.
    again = _run([str(BIN / "python"), str(book / "_ext" / "execute.py"), "--cache", str(cache),
                  str(book / "page.ipynb")], tmp_path)
    assert again.returncode == 0 and "every notebook has a cached run" in again.stdout, again.stdout


def _outputs(path: Path) -> list[str]:
    """Every output of an executed notebook, images as hashes."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    seen = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                seen.append(out["text"])
            for mime, value in out.get("data", {}).items():
                if mime == "image/png":
                    value = hashlib.sha256(value.encode()).hexdigest()
                seen.append(f"{mime}: {value}")
    return seen


def test_the_same_seed_gives_identical_numbers_on_two_runs_of_a_chapter(monkeypatch):
    monkeypatch.setenv("NNTRAIN_PROFILE", "smoke")
    chapter = ROOT / "chapters" / "gradient_descent.ipynb"
    first, second = _outputs(chapter), _outputs(chapter)
    assert len(first) > 5
    assert first == second


def test_the_status_page_shows_the_ledger_of_its_own_build(tmp_path):
    """A build with NNTRAIN_LEDGER records every assert its notebooks make and shows the ledger."""
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    for name in ("_config.yml", "references.bib", "status.md"):
        shutil.copy(ROOT / name, book / name)
    shutil.copytree(ROOT / "_ext", book / "_ext")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/page\n"
                                   "  - file: status\n  - file: refs\n")
    (book / "intro.md").write_text("# Test book\n\n```{tableofcontents}\n```\n")
    (book / "refs.md").write_text("# References\n\n```{bibliography}\n```\n")
    _notebook(book / "chapters" / "page.ipynb",
              ("md", "# A page\n\nSix times seven is below fifty.", ()),
              ("code", "import nntrain as nt\n\ncfg = nt.setup()\nvalue = 6 * 7", ()),
              ("code", "# Claim: six times seven is 42, below 50.\nassert value == 42\nassert value < 50",
               ("remove-cell",)))
    ledger = tmp_path / "ledger"
    env = {**os.environ, "NNTRAIN_PROFILE": "smoke", "NNTRAIN_LEDGER": str(ledger),
           "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    result = subprocess.run([str(BIN / "jupyter-book"), "build", str(book), "--warningiserror", "--nitpick",
                             "--keep-going"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert len(list(ledger.glob("*.jsonl"))) == 1
    html = (book / "_build" / "html" / "status.html").read_text()
    assert "2 checks in 1 notebooks ran in this build; 2 passed and 0 failed" in html
    assert "Claim: six times seven is 42, below 50." in html and "42 &lt; 50" in html
