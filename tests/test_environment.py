"""environment.yml and pyproject.toml must list the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# The extras a working copy installs (the Makefile's EXTRAS) are the ones environment.yml mirrors.
MIRRORED_EXTRAS = ("cpu", "jax", "offline", "book", "test", "lab")


def _split(requirement: str) -> tuple[str, str]:
    """'jupyter-book>=1.0.4.post1,<2' -> ('jupyter-book', '>=1.0.4.post1,<2'), names normalized."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return name, match.group(3).replace(" ", "")


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in MIRRORED_EXTRAS:
        reqs += project["optional-dependencies"][extra]
    return dict(_split(r) for r in reqs)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    reqs = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            reqs += [r for r in dep["pip"] if not r.startswith("-e")]
        else:
            reqs.append(dep)
    pairs = dict(_split(r.replace("=", "==", 1) if re.match(r"^[\w\-.]+=[^=]", r) else r) for r in reqs)
    pairs.pop("python")
    pairs.pop("pip")
    return pairs


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    ours, theirs = _pyproject(), _environment()
    assert sorted(ours) == sorted(theirs), (
        f"only in pyproject.toml: {sorted(set(ours) - set(theirs))}; "
        f"only in environment.yml: {sorted(set(theirs) - set(ours))}"
    )
    for name, spec in ours.items():
        assert theirs[name] == spec, f"{name}: pyproject.toml says {spec!r}, environment.yml says {theirs[name]!r}"


def test_environment_installs_the_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    assert "-e ." in pip


def test_makefile_installs_the_mirrored_extras():
    makefile = (ROOT / "Makefile").read_text()
    assert f"EXTRAS := {','.join(MIRRORED_EXTRAS)}" in makefile


def test_ci_calls_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    # A command line of .ci/run: `make test` itself, or wrapped by its `stage NAME` timer.
    calls = r'^\s*(?:stage\s+"[^"\n]*"\s+)?make test(?:\s|$)'
    assert "make test" in readme and re.search(calls, ci, re.M)
    assert "make book" in readme


def test_the_book_stack_is_locked_and_the_lock_is_what_runs():
    """constraints-book.txt pins Jupyter Book 1's stack; make install uses it; it is installed."""
    from importlib import metadata

    pins = {}
    for line in (ROOT / "constraints-book.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert name and version, f"not name==version: {line!r}"
            pins[name] = version
    assert pins["jupyter-book"].startswith("1."), pins["jupyter-book"]
    assert {"sphinx", "myst-nb", "sphinx-book-theme", "pydata-sphinx-theme"} <= set(pins)
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -c constraints-book.txt -e" in makefile
    assert {name: metadata.version(name) for name in pins} == pins
