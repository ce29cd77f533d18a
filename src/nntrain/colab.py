"""The labs on Colab: the first cell of every lab, and the profile an accelerator earns.

A lab opened in Colab (the book's launch button) starts on a machine where ``nntrain`` is
not installed, so its first cell cannot import it. That cell, :data:`FIRST_CELL`, is
written here once and copied verbatim into every lab (a test checks each one). On Colab
only (the kernel has imported ``google.colab``), it installs ``nntrain`` from the course's repository, without touching Colab's own
TensorFlow or JAX (``nntrain``'s dependencies name neither; Keras is already there), and
then calls :func:`setup`, which picks the ``full`` profile when a GPU or TPU is present.
Anywhere else it does nothing; the book hides it (``remove-cell``) and neither the book
(``skip-execution``) nor nbval (``nbval-skip``) runs it.

The repository's address lives in one place, ``_config.yml`` (``repository: url:``), which
the book's launch, repository and issue buttons read. :data:`REPOSITORY_URL` is a copy,
because the installed package and the first cell cannot read that file; a test asserts
that the copy equals the original.
"""

from __future__ import annotations

import os
import sys

from . import distribute
from .profiles import ENV_VAR, Profile, setup as _setup

__all__ = ["FIRST_CELL", "FIRST_CELL_TAGS", "REPOSITORY_URL", "first_cell", "on_colab", "setup"]

# A copy of `repository: url:` in _config.yml (tests/test_colab.py keeps them equal).
REPOSITORY_URL = "https://github.com/nntrain-course/nntrain"

# The tags of the first cell: hidden on the website (Jupyter Book), not executed when the
# book is built (myst-nb / nbclient) nor by nbval; "colab" names it for the hygiene tests.
FIRST_CELL_TAGS: tuple[str, ...] = ("colab", "remove-cell", "skip-execution", "nbval-skip")

FIRST_CELL = f"""\
# On Colab: install the course's package, nntrain, and pick the profile for the hardware.
import importlib.util, os, subprocess, sys
if "google.colab" in sys.modules:  # a Colab kernel has imported it
    if not importlib.util.find_spec("tensorflow"):  # Colab's TPU runtimes ship JAX only
        os.environ.setdefault("KERAS_BACKEND", "jax")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "nntrain @ git+{REPOSITORY_URL}"], check=True)
    importlib.invalidate_caches()  # see the package just installed
    import nntrain.colab; nntrain.colab.setup()"""


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
