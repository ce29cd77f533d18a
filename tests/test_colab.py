"""Tests of nntrain.colab: the repository URL has one source, the first cell of every lab
installs nntrain on Colab only (and nothing else), carries the tags the book and nbval
read, and the ``full`` profile is picked on a Colab accelerator and nowhere else."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest
import yaml

import nntrain as nt
from nntrain import colab, distribute

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted((ROOT / "labs").glob("*.ipynb"))
NOTEBOOKS = sorted(p for folder in ("chapters", "labs") for p in (ROOT / folder).glob("*.ipynb"))
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/([^/\s]+)/([^/\s]+)/blob/([^/\s]+)/([^)\s\"'\\]+)")
MAX_FIRST_CELL_LINES = 10  # "tiny": it must read at a glance on Colab


# --- one source for the repository's address -------------------------------------------


def test_the_repository_url_is_the_one_in_config_yml():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert colab.REPOSITORY_URL == config["repository"]["url"]
    assert colab.REPOSITORY_REF == config["repository"]["branch"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Homepage"] == config["repository"]["url"]


def _colab_link_problems(text: str, path: str) -> list[str]:
    """Links that open a notebook in Colab must name _config.yml's repository and branch,
    and the notebook itself."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    problems = []
    for owner, name, branch, target in COLAB_LINK.findall(text):
        if f"https://github.com/{owner}/{name}" != repository["url"]:
            problems.append(f"{owner}/{name} is not {repository['url']}")
        if branch != repository["branch"]:
            problems.append(f"branch {branch} is not {repository['branch']}")
        if target != path:
            problems.append(f"{target} is not {path}")
    return problems


def test_the_check_of_colab_links_finds_a_stale_one():
    good = f"[badge]({colab.REPOSITORY_URL.replace('https://github.com', 'https://colab.research.google.com/github')}/blob/main/labs/x.ipynb)"
    assert _colab_link_problems(good, "labs/x.ipynb") == []
    stale = good.replace("nntrain-course", "someone-else").replace("/main/", "/dev/")
    assert len(_colab_link_problems(stale, "labs/y.ipynb")) == 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_colab_link_opens_this_notebook_from_the_repository(path):
    assert _colab_link_problems(path.read_text(), path.relative_to(ROOT).as_posix()) == []


def test_installing_nntrain_pulls_no_backend():
    """Colab ships TensorFlow or JAX: nntrain's own dependencies must not reinstall one."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("keras") for d in dependencies)
    assert not [d for d in dependencies if d.split(">")[0].split("=")[0].split("[")[0].strip()
                in ("tensorflow", "tensorflow-cpu", "jax", "jaxlib", "torch")]


# --- the first cell ---------------------------------------------------------------------


def _run_first_cell(monkeypatch, on_colab: bool, tensorflow: bool = True) -> list:
    """Execute FIRST_CELL as a notebook would, with pip and nntrain's setup recorded."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(("pip", args, kwargs)))
    monkeypatch.setattr(colab, "setup", lambda *args, **kwargs: calls.append(("setup", args, kwargs)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if not tensorflow:
        find_spec = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a: None if name == "tensorflow" else find_spec(name, *a))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    exec(compile(colab.FIRST_CELL, "<first cell>", "exec"), {})
    return calls


def test_the_first_cell_is_tiny():
    assert len(colab.FIRST_CELL.splitlines()) <= MAX_FIRST_CELL_LINES
    compile(colab.FIRST_CELL, "<first cell>", "exec")


def test_off_colab_the_first_cell_does_nothing(monkeypatch):
    assert _run_first_cell(monkeypatch, on_colab=False) == []
    assert "KERAS_BACKEND" not in os.environ


def test_on_colab_the_first_cell_installs_nntrain_from_the_repository(monkeypatch):
    calls = _run_first_cell(monkeypatch, on_colab=True)
    assert [name for name, *_ in calls] == ["pip", "setup"]
    (command,), options = calls[0][1], calls[0][2]
    assert command == [sys.executable, "-m", "pip", "install", "--quiet",
                       f"nntrain @ git+{colab.REPOSITORY_URL}@{colab.REPOSITORY_REF}"]
    assert options == {"check": True}
    # not editable, no upgrade or reinstall of what Colab has, no backend named
    assert not {"-e", "--editable", "-U", "--upgrade", "--force-reinstall"} & set(command)
    assert not any("tensorflow" in part or "jax" in part for part in command)
    assert "KERAS_BACKEND" not in os.environ  # TensorFlow is there: keep it


def test_on_a_colab_runtime_without_tensorflow_keras_uses_jax(monkeypatch):
    calls = _run_first_cell(monkeypatch, on_colab=True, tensorflow=False)
    assert [name for name, *_ in calls] == ["pip", "setup"]
    assert os.environ["KERAS_BACKEND"] == "jax"


def test_the_first_cell_as_a_notebook_cell():
    cell = colab.first_cell()
    assert "".join(cell["source"]) == colab.FIRST_CELL
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert cell["metadata"]["tags"] == list(colab.FIRST_CELL_TAGS)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.from_dict(cell), nbformat.v4.new_code_cell("import nntrain as nt\ncfg = nt.setup()")])
    nbformat.validate(notebook)
    assert _first_cell_problems(json.loads(nbformat.writes(notebook))) == []


def test_the_tags_are_the_ones_the_tools_read():
    from nbclient import NotebookClient
    from nbval.plugin import metadata_tags

    tags = set(colab.FIRST_CELL_TAGS)
    assert metadata_tags["nbval-skip"] == "skip" and "nbval-skip" in tags  # nbval
    assert NotebookClient.skip_cells_with_tag.default_value in tags  # myst-nb's executor
    assert "remove-cell" in tags  # Jupyter Book hides it
    assert "colab" in tags  # tests/test_hygiene.py looks past it for the setup cell


# --- every lab starts with it -----------------------------------------------------------


def _first_cell_problems(notebook: dict) -> list[str]:
    """What is wrong with a lab's start: the first cell, then the usual setup cell."""
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    if not code:
        return ["no code cell"]
    problems = []
    first = code[0]
    if "".join(first["source"]) != colab.FIRST_CELL:
        problems.append("the first code cell is not nntrain.colab.FIRST_CELL")
    if first.get("metadata", {}).get("tags") != list(colab.FIRST_CELL_TAGS):
        problems.append(f"the first code cell must be tagged {list(colab.FIRST_CELL_TAGS)}")
    second = "".join(code[1]["source"]) if len(code) > 1 else ""
    if "import nntrain as nt" not in second or "nt.setup(" not in second:
        problems.append("the second code cell must import nntrain and call nt.setup()")
    return problems


def test_the_check_of_a_labs_start_finds_what_is_wrong():
    good = {"cells": [colab.first_cell(), nbformat.v4.new_code_cell("import nntrain as nt\ncfg = nt.setup()")]}
    assert _first_cell_problems(good) == []
    edited = json.loads(json.dumps(good))
    edited["cells"][0]["source"][-1] += "  # edited"
    edited["cells"][0]["metadata"]["tags"].remove("nbval-skip")
    assert len(_first_cell_problems(edited)) == 2
    assert _first_cell_problems({"cells": good["cells"][1:]})[0].startswith("the first code cell")


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.name)
def test_every_lab_starts_with_the_first_cell(path):
    assert _first_cell_problems(json.loads(path.read_text())) == []


# --- the profile on Colab ---------------------------------------------------------------


@pytest.fixture
def no_profile(monkeypatch):
    monkeypatch.delenv("NNTRAIN_PROFILE", raising=False)


@pytest.mark.parametrize("hardware", ["gpu", "tpu"])
def test_on_a_colab_accelerator_the_profile_is_full(monkeypatch, no_profile, hardware):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(distribute, "accelerator", lambda: hardware)
    assert colab.on_colab()
    assert colab.setup().name == "full"
    assert nt.setup().name == "full"  # the lab's own setup cell reads it too


def test_a_colab_cpu_keeps_the_default_profile(monkeypatch, no_profile):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(distribute, "accelerator", lambda: "cpu")
    assert colab.setup().name == nt.profiles.DEFAULT_PROFILE


def test_a_profile_chosen_by_hand_wins_on_colab(monkeypatch):
    monkeypatch.setenv("NNTRAIN_PROFILE", "smoke")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(distribute, "accelerator", lambda: "gpu")
    assert colab.setup().name == "smoke"


def test_off_colab_the_profile_never_changes(monkeypatch, no_profile):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(distribute, "accelerator", lambda: "gpu")  # a local GPU
    assert not colab.on_colab()
    assert colab.setup().name == nt.profiles.DEFAULT_PROFILE
    assert "NNTRAIN_PROFILE" not in os.environ


def test_setup_rejects_a_bad_seed():
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer or None. Received: seed=-1"):
        colab.setup(seed=-1)


# --- releases and forks: one command moves every copy --------------------------------------


def _checkout_copy(tmp_path) -> Path:
    import shutil

    for name in ("_config.yml", "pyproject.toml", "src/nntrain/colab.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("chapters", "labs"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def _copies(root: Path) -> dict:
    config = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    code = (root / "src" / "nntrain" / "colab.py").read_text()
    return {
        "config": (config["url"], config["branch"]),
        "pyproject": tomllib.loads((root / "pyproject.toml").read_text())["project"]["urls"]["Homepage"],
        "module": (re.search(r'^REPOSITORY_URL = "(.*)"', code, re.M)[1],
                   re.search(r'^REPOSITORY_REF = "(.*)"', code, re.M)[1]),
    }


@pytest.mark.parametrize("ref, tag", [("release", f"v{nt.__version__}"), ("spring-2027", "spring-2027")])
def test_retarget_moves_every_copy_to_a_fork_and_a_ref(tmp_path, ref, tag):
    root = _checkout_copy(tmp_path)
    fork = "https://github.com/my-school/nntrain-fork"
    changed = colab.retarget(fork, ref=ref, root=root)
    labs = sorted((root / "labs").glob("*.ipynb"))
    assert {root / "_config.yml", root / "pyproject.toml", *labs} <= set(changed)
    assert _copies(root) == {"config": (fork, tag), "pyproject": fork, "module": (fork, tag)}
    cell = colab._FIRST_CELL.format(url=fork, ref=tag)
    for lab in labs:
        text = lab.read_text()
        notebook = json.loads(text)
        assert "".join(notebook["cells"][0]["source"]) == cell
        assert f"git+{fork}@{tag}" in cell
        assert f"colab.research.google.com/github/my-school/nntrain-fork/blob/{tag}/labs/{lab.name}" in text
        assert "nntrain-course" not in text
        nbformat.validate(nbformat.reads(text, as_version=4))
    assert colab.retarget(fork, ref=ref, root=root) == []  # a second run changes nothing


def test_retarget_without_arguments_changes_nothing_here(tmp_path):
    root = _checkout_copy(tmp_path)
    assert colab.retarget(root=root) == []  # the checkout's copies already agree


def test_the_release_tag_comes_from_the_one_version():
    assert colab.release_ref() == f"v{nt.__version__}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "nntrain.__version__"}
    from importlib import metadata

    assert metadata.version("nntrain") == nt.__version__


@pytest.mark.parametrize("kwargs, argument", [
    ({"url": "http://example.com/x"}, "url"),
    ({"url": "https://gitlab.com/a/b"}, "url"),
    ({"ref": "../evil"}, "ref"),
    ({"ref": ""}, "ref"),
])
def test_retarget_rejects_what_is_not_a_repository_or_a_ref(tmp_path, kwargs, argument):
    root = _checkout_copy(tmp_path)
    with pytest.raises(ValueError, match=f"`{argument}` must .* Received: {argument}="):
        colab.retarget(root=root, **kwargs)
    assert _copies(root) == _copies(ROOT)  # nothing was written


def test_retarget_needs_the_checkout(tmp_path):
    with pytest.raises(ValueError, match="`root` must be the course's checkout"):
        colab.retarget(root=tmp_path)


def test_the_command_line_retargets(tmp_path):
    root = _checkout_copy(tmp_path)
    done = subprocess.run([sys.executable, "-m", "nntrain.colab", "retarget",
                           "https://github.com/a/b", "--ref", "main", "--root", str(root)],
                          capture_output=True, text=True, check=True)
    assert "files changed" in done.stdout and "RuntimeWarning" not in done.stderr
    assert _copies(root)["config"] == ("https://github.com/a/b", "main")
