"""Colab-shaped test environments: build them, install nntrain as a lab does, run every lab.

Colab publishes what its runtimes ship (googlecolab/backend-info); the two lists are copied
here (``pip-freeze.txt``: the CPU/GPU runtime, ``pip-freeze.tpu.txt``: the TPU runtime, JAX
and no TensorFlow). For each kind this script

1. builds a virtual environment (``.venv-colab``, ``.venv-tpu``; reused while the list and
   this script are unchanged) on Python 3.13 where the machine has it, as Colab does, with
   Colab's versions of every package the course touches (the list is a pip constraints
   file, so whatever those packages pull is held to Colab's versions too);
2. asks pip what installing ``nntrain @ git+<this checkout>`` would do, exactly as the labs'
   first cell installs it (``pip install --dry-run --report``), and fails if any package
   Colab ships would change version;
3. installs it that way and executes every lab with nbval at the smoke profile, under
   TensorFlow ("colab") or JAX with no TensorFlow importable ("tpu").

The git URL installs the checkout's last commit, as a lab installs the repository's: commit
before you run it. Usage: ``python tests/colab/envs.py colab tpu`` (``make test-colab``).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# The packages the course touches, at Colab's versions; the test tools (pytest, nbval, and
# pytest-xdist, which runs two labs side by side) come on top. TensorFlow's CPU build stands
# in for Colab's `tensorflow` (same release).
COMMON = ["keras", "jax[cpu]", "numpy", "pandas", "matplotlib", "scipy", "scikit-learn",
          "ipywidgets", "altair", "mlxtend", "ipykernel", "pytest", "pytest-xdist", "nbval"]
KINDS = {
    "colab": {"freeze": "pip-freeze.txt", "venv": ".venv-colab", "backend": "tensorflow",
              "packages": ["tensorflow-cpu", "tensorboard", *COMMON]},
    "tpu": {"freeze": "pip-freeze.tpu.txt", "venv": ".venv-tpu", "backend": "jax",
            "packages": COMMON},
}
PYTHON = "3.13"  # Colab's Python (os-info.txt: 3.13.15)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)$")


def normalize(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(freeze_text: str) -> dict[str, str]:
    """``{name: version}`` of every ``name==version`` line of a ``pip freeze`` listing.

    URL lines (``name @ https://...``), comments and blank lines are skipped.
    """
    out = {}
    for line in freeze_text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            out[normalize(match[1])] = match[2]
    return out


def constraints(freeze: dict[str, str]) -> str:
    """A pip constraints file holding every package to Colab's version.

    ``tensorflow-cpu`` is pinned to Colab's ``tensorflow`` release, which it stands in for.
    """
    lines = [f"{name}=={version}" for name, version in sorted(freeze.items())]
    if "tensorflow" in freeze:
        lines.append(f"tensorflow-cpu=={freeze['tensorflow']}")
    return "\n".join(lines) + "\n"


def changes(report: dict, freeze: dict[str, str], installed: dict[str, str]) -> tuple[list[str], list[str]]:
    """What a ``pip install --report`` would do to a Colab runtime.

    Returns ``(changed, added)``: ``"name old -> new"`` for every package that Colab ships
    (or the environment holds) at another version, and ``"name version"`` for the packages
    that would be new.
    """
    changed, added = [], []
    for item in report.get("install", []):
        name = normalize(item["metadata"]["name"])
        version = item["metadata"]["version"]
        before = freeze.get(name, installed.get(name))
        if before is None:
            added.append(f"{name} {version}")
        elif before != version:
            changed.append(f"{name} {before} -> {version}")
    return changed, added


def find_python(version: str = PYTHON) -> str:
    """An interpreter of ``version`` that runs (pyenv's, or on PATH), else the one running this.

    A pyenv shim on PATH exists even where its version is not selected, and then fails: each
    candidate is tried before it is chosen.
    """
    pyenv = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")))
    for candidate in [*reversed(pyenv), shutil.which(f"python{version}")]:
        if candidate and subprocess.run([candidate, "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    print(f"colab envs: no Python {version} here; using {sys.version.split()[0]} instead", flush=True)
    return sys.executable


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def _quiet_pip(python: Path, *args: str) -> None:
    """``pip install`` with its output kept back unless it fails."""
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", *args]
    print("+ pip install", " ".join(args), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.stdout.write(done.stdout[-6000:] + done.stderr[-6000:])
        raise SystemExit(f"colab envs: pip install failed ({done.returncode})")


def build(kind: str) -> tuple[Path, dict[str, str]]:
    """The environment of ``kind``, built afresh when its list or this script changed."""
    spec = KINDS[kind]
    freeze_file = HERE / spec["freeze"]
    freeze = pins(freeze_file.read_text())
    venv = ROOT / spec["venv"]
    python = venv / "bin" / "python"
    digest = hashlib.sha256(freeze_file.read_bytes() + Path(__file__).read_bytes()).hexdigest()
    stamp = venv / ".colab-stamp"
    if stamp.is_file() and stamp.read_text() == digest and python.is_file():
        print(f"colab envs: {spec['venv']} is up to date", flush=True)
        return python, freeze
    shutil.rmtree(venv, ignore_errors=True)
    _run([find_python(), "-m", "venv", str(venv)])
    (venv / "constraints.txt").write_text(constraints(freeze))
    _quiet_pip(python, "-c", str(venv / "constraints.txt"), *spec["packages"])
    stamp.write_text(digest)
    return python, freeze


def _installed(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format", "json",
                          "--disable-pip-version-check"], check=True, capture_output=True, text=True)
    return {normalize(p["name"]): p["version"] for p in json.loads(out.stdout)}


def install_like_a_lab(python: Path, freeze: dict[str, str]) -> None:
    """Check what the first cell's install would change, then install nntrain that way."""
    requirement = f"nntrain @ git+file://{ROOT}"
    report_file = python.parent.parent / "nntrain-install-report.json"
    _quiet_pip(python, "--dry-run", "--report", str(report_file), requirement)
    changed, added = changes(json.loads(report_file.read_text()), freeze, _installed(python))
    print(f"colab envs: installing nntrain would add {', '.join(added) or 'nothing'}", flush=True)
    if changed:
        raise SystemExit("colab envs: installing nntrain would change packages that Colab "
                         f"ships: {'; '.join(changed)}")
    # Everything it needs is there, at Colab's versions (checked above): no dependency moves.
    _quiet_pip(python, "--no-deps", "--force-reinstall", requirement)


def run_labs(kind: str, python: Path) -> int:
    """Execute every lab with nbval at the smoke profile; nbval's exit status."""
    backend = KINDS[kind]["backend"]
    if kind == "tpu":
        probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('tensorflow') is not None)"
        if subprocess.run([str(python), "-c", probe]).returncode:
            raise SystemExit("colab envs: the tpu environment must not hold TensorFlow")
    env = dict(os.environ, KERAS_BACKEND=backend, NNTRAIN_PROFILE="smoke",
               PYDEVD_DISABLE_FILE_VALIDATION="1")  # ipykernel 6.17's debugger notice
    env.pop("NNTRAIN_LEDGER", None)
    labs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "labs").glob("*.ipynb"))
    # As many labs side by side as the Makefile runs notebooks (TEST_WORKERS; 0: one process).
    workers = os.environ.get("TEST_WORKERS", "2")
    cmd = [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", workers,
           "--dist", "loadfile", "--nbval-lax", "--nbval-current-env", *labs]
    print(f"colab envs: the labs in {KINDS[kind]['venv']} (KERAS_BACKEND={backend})", flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="+", choices=sorted(KINDS))
    args = parser.parse_args(argv)
    status = 0
    for kind in args.kinds:
        start = time.time()
        python, freeze = build(kind)
        install_like_a_lab(python, freeze)
        code = run_labs(kind, python)
        print(f"== colab envs: {kind} {'passed' if code == 0 else 'FAILED'} in "
              f"{time.time() - start:.0f} s", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main())
