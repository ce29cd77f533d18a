"""The labs on Colab: the first cell of every lab, and the profile an accelerator earns.

A lab opened in Colab (the book's launch button) starts on a machine where ``nntrain`` is
not installed, so its first cell cannot import it. That cell, :data:`FIRST_CELL`, is
written here once and copied verbatim into every lab (a test checks each one). On Colab
only (the kernel has imported ``google.colab``), it installs ``nntrain`` from the course's repository, without touching Colab's own
TensorFlow or JAX (``nntrain``'s dependencies name neither; Keras is already there), and
then calls :func:`setup`, which picks the ``full`` profile when a GPU or TPU is present.
Anywhere else it does nothing; the book hides it (``remove-cell``) and neither the book
(``skip-execution``) nor nbval (``nbval-skip``) runs it.

The repository's address and the ref the labs install from live in one place,
``_config.yml`` (``repository: url:`` and ``branch:``), which the book's launch, repository
and issue buttons read. :data:`REPOSITORY_URL` and :data:`REPOSITORY_REF` are copies,
because the installed package and the first cell cannot read that file; a test asserts
that the copies equal the original.

**Releases.** On ``main`` the labs install ``nntrain @ git+<repository>@main``: what is being
developed. A release freezes a semester: ``python -m nntrain.colab retarget --ref release``
points every copy at the tag ``v<version>`` (the package's version, one source:
``nntrain.__version__``), so that a lab opened from that tag installs the package of that
tag, whatever is pushed to ``main`` later; tag the commit with the same name.
``python -m nntrain.colab retarget https://github.com/OWNER/REPO`` moves every copy to an
instructor's fork in one step (:func:`retarget`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from . import __version__, _checks, distribute
from ._files import atomic_write
from .profiles import ENV_VAR, Profile, setup as _setup

__all__ = ["FIRST_CELL", "FIRST_CELL_TAGS", "REPOSITORY_REF", "REPOSITORY_URL", "first_cell",
           "on_colab", "release_ref", "retarget", "setup"]

# Copies of `repository: url:` and `branch:` in _config.yml (tests/test_colab.py keeps them
# equal; `python -m nntrain.colab retarget` rewrites them all).
REPOSITORY_URL = "https://github.com/nntrain-course/nntrain"
REPOSITORY_REF = "main"

# The tags of the first cell: hidden on the website (Jupyter Book), not executed when the
# book is built (myst-nb / nbclient) nor by nbval; "colab" names it for the hygiene tests.
FIRST_CELL_TAGS: tuple[str, ...] = ("colab", "remove-cell", "skip-execution", "nbval-skip")

_FIRST_CELL = """\
# On Colab: install the course's package, nntrain, and pick the profile for the hardware.
import importlib.util, os, subprocess, sys
if "google.colab" in sys.modules:  # a Colab kernel has imported it
    if not importlib.util.find_spec("tensorflow"):  # Colab's TPU runtimes ship JAX only
        os.environ.setdefault("KERAS_BACKEND", "jax")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "nntrain @ git+{url}@{ref}"], check=True)
    importlib.invalidate_caches()  # see the package just installed
    import nntrain.colab; nntrain.colab.setup()"""
FIRST_CELL = _FIRST_CELL.format(url=REPOSITORY_URL, ref=REPOSITORY_REF)


def first_cell() -> dict:
    """The first cell of a lab as an nbformat (v4) code cell, ready to insert.

    Returns:
        A dict with ``cell_type``, ``id``, ``metadata`` (the :data:`FIRST_CELL_TAGS`),
        ``source`` (:data:`FIRST_CELL`, one string per line), no outputs and no count.

    Example:
        >>> notebook["cells"].insert(0, first_cell())
    """
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": "nntrain-colab",
        "metadata": {"tags": list(FIRST_CELL_TAGS)},
        "outputs": [],
        "source": FIRST_CELL.splitlines(keepends=True),
    }


def on_colab() -> bool:
    """Whether this runs in a Colab notebook (whose kernel imports ``google.colab``)."""
    return "google.colab" in sys.modules


def setup(seed: int | None = None) -> Profile:
    """:func:`nntrain.setup`, with the ``full`` profile on a Colab GPU or TPU.

    On Colab with an accelerator (:func:`nntrain.distribute.accelerator`), and when
    ``$NNTRAIN_PROFILE`` is not set already, sets ``NNTRAIN_PROFILE=full`` for this
    session, so that every later ``nt.setup()`` (the lab's own first code cell) reads it.
    Anywhere else the profile is left exactly as it is.

    Args:
        seed: passed to :func:`nntrain.setup` (``None``: ``$NNTRAIN_SEED``, default 0).

    Returns:
        The :class:`~nntrain.profiles.Profile` in force.

    Example:
        >>> cfg = nntrain.colab.setup()   # on a Colab GPU
        >>> cfg.name
        'full'
    """
    if on_colab() and not os.environ.get(ENV_VAR) and distribute.accelerator() != "cpu":
        os.environ[ENV_VAR] = "full"
    return _setup(seed)


# --- one command to move every copy of the address ---------------------------------------

_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


_VERSION = re.compile(r"^\d+(\.\d+)*([.+-]?[A-Za-z0-9]+)*$")  # PEP 440-like: 0.1.0, 1.0rc1


def release_ref(version: str = __version__) -> str:
    """The tag of a release, ``v<version>``: what released labs install from."""
    if not (isinstance(version, str) and _VERSION.match(version)):
        _checks.fail("version", "a version string such as '0.1.0'", version)
    return f"v{version}"


def _replace_line(text: str, pattern: str, value: str, path: Path) -> str:
    new, count = re.subn(pattern, lambda m: m[1] + value + m[2], text, count=1, flags=re.M)
    if count != 1:
        raise ValueError(f"{path} has no line matching {pattern!r}: is it this course's checkout?")
    return new


def retarget(url: str | None = None, ref: str | None = None, root: str | os.PathLike = ".") -> list[Path]:
    """Point every copy of the repository's address and ref at ``url`` and ``ref``.

    The copies: ``_config.yml`` (``repository: url:`` and ``branch:``, which the book's
    buttons read), the ``Homepage`` of ``pyproject.toml``, :data:`REPOSITORY_URL` and
    :data:`REPOSITORY_REF` in this module, the first cell of every lab and every "open in
    Colab" link in the notebooks.

    Args:
        url: a GitHub repository, ``https://github.com/OWNER/REPO``; ``None`` keeps the
            current one.
        ref: the branch or tag that the labs install from and the Colab links open:
            ``"main"`` for development, ``"release"`` for the tag of this version
            (:func:`release_ref`), or any ref; ``None`` keeps the current one.
        root: the checkout (the folder holding ``_config.yml``).

    Returns:
        The files that changed.

    Example:
        >>> retarget("https://github.com/my-school/nntrain-fork", ref="release")
    """
    root = Path(root)
    config_path = root / "_config.yml"
    if not config_path.is_file():
        raise ValueError(f"`root` must be the course's checkout (with _config.yml). Received: root={str(root)!r}")
    config = config_path.read_text()
    old_url = re.search(r"^\s+url:\s*(\S+)\s*$", config, re.M)[1]
    old_ref = re.search(r"^\s+branch:\s*(\S+)\s*$", config, re.M)[1]
    url = old_url if url is None else str(url).rstrip("/").removesuffix(".git")
    if not _GITHUB.match(url):
        raise ValueError(f"`url` must be a GitHub repository, https://github.com/OWNER/REPO. Received: url={url!r}")
    ref = old_ref if ref is None else (release_ref() if ref == "release" else ref)
    if not isinstance(ref, str) or not _REF.match(ref) or ".." in ref:
        raise ValueError(f"`ref` must be 'main', 'release' or a git branch or tag name. Received: ref={ref!r}")
    old_colab = "https://colab.research.google.com/github/" + "/".join(_GITHUB.match(old_url).groups())
    new_colab = "https://colab.research.google.com/github/" + "/".join(_GITHUB.match(url).groups())
    edits = {
        config_path: lambda t: _replace_line(_replace_line(t, r"^(\s+url:\s*)\S+(\s*)$", url, config_path),
                                             r"^(\s+branch:\s*)\S+(\s*)$", ref, config_path),
        root / "pyproject.toml": lambda t: _replace_line(t, r'^(Homepage\s*=\s*")[^"]*(")', url,
                                                         root / "pyproject.toml"),
        root / "src" / "nntrain" / "colab.py": lambda t: _replace_line(
            _replace_line(t, r'^(REPOSITORY_URL = ")[^"]*(")', url, Path("colab.py")),
            r'^(REPOSITORY_REF = ")[^"]*(")', ref, Path("colab.py")),
    }
    cell = _FIRST_CELL.format(url=url, ref=ref)
    for notebook in sorted([*root.glob("chapters/*.ipynb"), *root.glob("labs/*.ipynb")]):
        edits[notebook] = lambda t, cell=cell: _retarget_notebook(t, old_colab, new_colab, ref, cell)
    changed = []
    for path, edit in edits.items():
        if not path.is_file():
            continue
        text = path.read_text()
        new = edit(text)
        if new != text:
            atomic_write(path, new)  # a file is either the old one or the new one
            changed.append(path)
    return changed


def _retarget_notebook(text: str, old_colab: str, new_colab: str, ref: str, cell: str) -> str:
    links = re.compile(re.escape(old_colab) + r"/blob/[^/\s\"')]+/")
    text = links.sub(new_colab.replace("\\", "\\\\") + f"/blob/{ref}/", text)
    notebook = json.loads(text)
    first = next((c for c in notebook["cells"] if c["cell_type"] == "code"), None)
    if first is None or "colab" not in first.get("metadata", {}).get("tags", []):
        return text
    source = cell.splitlines(keepends=True)
    if first["source"] == source:
        return text
    first["source"] = source
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nntrain.colab",
                                     description="Course plumbing for Colab.")
    commands = parser.add_subparsers(dest="command", required=True)
    move = commands.add_parser("retarget", help="point every copy of the repository's address "
                               "and ref at a repository (a fork) and a ref (main, a release tag)")
    move.add_argument("url", nargs="?", help="https://github.com/OWNER/REPO (default: keep)")
    move.add_argument("--ref", help="main, release (the tag v<version>) or a branch or tag")
    move.add_argument("--root", default=".", help="the checkout (default: the current folder)")
    args = parser.parse_args(argv)
    try:
        changed = retarget(args.url, args.ref, args.root)
    except ValueError as error:
        parser.error(str(error))
    for path in changed:
        print(f"rewrote {path}")
    print(f"{len(changed)} files changed" if changed else "nothing to change")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
