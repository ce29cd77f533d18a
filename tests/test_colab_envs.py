"""Tests of the Colab-shaped environments' checks (tests/colab/envs.py).

The environments themselves are built and run by ``make test-colab``; here the pieces that
decide pass or fail are tested on small inputs, so that the check can fail.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("colab_envs", ROOT / "tests" / "colab" / "envs.py")
envs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(envs)

FREEZE = """# a comment
Keras==3.13.2
numpy==2.1.3
ml_dtypes==0.6.0
torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-manylinux_2_28_x86_64.whl
tensorflow==2.20.0
"""


def _report(*items):
    return {"install": [{"metadata": {"name": n, "version": v}} for n, v in items]}


def test_pins_read_name_version_lines_only():
    assert envs.pins(FREEZE) == {"keras": "3.13.2", "numpy": "2.1.3", "ml-dtypes": "0.6.0",
                                 "tensorflow": "2.20.0"}


def test_constraints_pin_tensorflow_cpu_to_colabs_tensorflow():
    text = envs.constraints(envs.pins(FREEZE))
    assert "tensorflow-cpu==2.20.0" in text.splitlines() and "keras==3.13.2" in text.splitlines()


def test_a_version_change_of_a_shipped_package_is_found():
    freeze = envs.pins(FREEZE)
    changed, added = envs.changes(_report(("nntrain", "0.1.0"), ("numpy", "2.4.6"), ("ML-Dtypes", "0.6.0")),
                                  freeze, installed={})
    assert changed == ["numpy 2.1.3 -> 2.4.6"]
    assert added == ["nntrain 0.1.0"]


def test_a_package_only_in_the_environment_counts_too():
    changed, _ = envs.changes(_report(("nbval", "0.12.0")), {}, installed={"nbval": "0.11.0"})
    assert changed == ["nbval 0.11.0 -> 0.12.0"]


def test_nothing_to_change_is_clean():
    assert envs.changes(_report(("nntrain", "0.1.0")), envs.pins(FREEZE), {}) == ([], ["nntrain 0.1.0"])


@pytest.mark.parametrize("kind", sorted(envs.KINDS))
def test_colab_meets_every_floor_nntrain_declares(kind):
    """The package's own requirements hold at Colab's versions (else pip would upgrade)."""
    from packaging.requirements import Requirement

    freeze = envs.pins((ROOT / "tests" / "colab" / envs.KINDS[kind]["freeze"]).read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = envs.normalize(requirement.name)
        assert name in freeze, f"{name} is not on Colab's {kind} runtime"
        assert requirement.specifier.contains(freeze[name]), (name, str(requirement.specifier), freeze[name])


def test_the_tpu_environment_installs_no_tensorflow():
    assert not any(p.startswith("tensorflow") for p in envs.KINDS["tpu"]["packages"])
    assert "tensorflow" not in envs.pins((ROOT / "tests" / "colab" / "pip-freeze.tpu.txt").read_text())


def test_the_copies_match_the_shared_lists_when_present():
    """Where ../shared/colab/ sits beside the checkout, its lists are the ones copied here."""
    shared = ROOT.parent / "shared" / "colab"
    if not shared.is_dir():
        pytest.skip("no ../shared/colab beside this checkout")
    for name in ("pip-freeze.txt", "pip-freeze.tpu.txt"):
        assert (shared / name).read_bytes() == (ROOT / "tests" / "colab" / name).read_bytes(), name


def test_find_python_prefers_colabs_version_and_skips_a_broken_shim(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # no pyenv here
    fake = tmp_path / "python3.99"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    assert envs.find_python("3.99") == str(fake)
    fake.write_text("#!/bin/sh\nexit 127\n")  # a pyenv shim of a version not selected
    assert envs.find_python("3.99") == sys.executable


def test_the_book_never_reads_the_environments():
    """The environments hold thousands of Markdown files of their packages: the site's build
    must not read them (a strict build fails on their warnings)."""
    import yaml

    excluded = yaml.safe_load((ROOT / "_config.yml").read_text())["exclude_patterns"]
    assert {spec["venv"] for spec in envs.KINDS.values()} <= set(excluded)
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    assert {spec["venv"] + "/" for spec in envs.KINDS.values()} <= set(gitignore)
