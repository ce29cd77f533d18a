"""Run profiles and the one call that prepares a notebook: :func:`setup`.

One notebook serves three audiences, and the profile picks the scale:

========  ==========================  ==================================  =================
profile   where                       data and training                   budget (2-core CPU)
========  ==========================  ==================================  =================
smoke     CI, ``make test``           small stratified subsets, 1-3 epochs  about 30 s
book      ``make book``, the website  subsets that show the effect         about 90 s
full      Colab GPU/TPU labs          the full data sets, as published     minutes on a GPU
========  ==========================  ==================================  =================

The profile is read in exactly one place, :func:`get_profile`, from the environment
variable ``NNTRAIN_PROFILE`` (default ``book``). The seed of a run is read in one place too,
:func:`default_seed`, from ``NNTRAIN_SEED`` (default 0): ``NNTRAIN_SEED=1 make test-notebooks``
runs every notebook at seed 1, and every claim a notebook asserts must hold there too.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import random
import sys
import warnings
from dataclasses import dataclass
from importlib import resources

import numpy as np

from . import _checks
from ._checks import is_int

__all__ = ["PROFILES", "Profile", "default_seed", "get_profile", "interactive", "setup"]

ENV_VAR = "NNTRAIN_PROFILE"
DEFAULT_PROFILE = "book"
SEED_VAR = "NNTRAIN_SEED"


@dataclass(frozen=True)
class Profile:
    """The named sizes of one run profile.

    Args:
        name: ``"smoke"``, ``"book"`` or ``"full"``.
        n_train: training examples per data set; ``None`` keeps every one the source has.
        n_val: validation examples (for early stopping and model choice); ``None`` takes
            :attr:`val_fraction` of the training pool.
        n_test: test examples, touched only for the final numbers; ``None`` keeps the
            whole official test split.
        val_fraction: share of the training pool held out for validation when ``n_val``
            is ``None``, and share for each of validation and test when a source has no
            official test split.
        epochs: default number of training epochs.
        batch_size: default mini-batch size.
        seeds: how many seeds a comparison averages over.
        budget_s: the time one notebook should take on a 2-core CPU (a report, not a limit).
        synthetic_ok: whether :func:`nntrain.data.load` may fall back to a labelled
            synthetic stand-in when no real source can be reached.
        val_fraction: see ``n_val``.
        seed: the run's seed, set by :func:`setup` (``$NNTRAIN_SEED``, default 0). A
            notebook passes ``cfg.seed`` (and ``cfg.seed + 1``, ... where it needs several
            streams) and :meth:`seed_list` wherever it averages over seeds, so that one
            variable moves every random choice of its runs; the data splits stay put.
    """

    name: str
    n_train: int | None
    n_val: int | None
    n_test: int | None
    epochs: int
    batch_size: int
    seeds: int
    budget_s: float
    synthetic_ok: bool = False
    val_fraction: float = 0.15
    seed: int = 0

    def __post_init__(self):
        def fail(name, wanted):
            _checks.fail(name, wanted, getattr(self, name), owner="a Profile")

        if not isinstance(self.name, str) or not self.name:
            fail("name", "a non-empty string")
        for name in ("n_train", "n_val", "n_test"):
            value = getattr(self, name)
            if value is not None and not (is_int(value) and value >= 1):
                fail(name, "a positive integer, or None")
        for name in ("epochs", "batch_size", "seeds"):
            value = getattr(self, name)
            if not (is_int(value) and value >= 1):
                fail(name, "a positive integer")
        if not (is_int(self.seed) and self.seed >= 0):
            fail("seed", "a non-negative integer")
        if not (isinstance(self.budget_s, numbers.Real) and not isinstance(self.budget_s, bool)
                and math.isfinite(self.budget_s) and self.budget_s > 0):
            fail("budget_s", "a positive number of seconds")
        if not (isinstance(self.val_fraction, numbers.Real) and not isinstance(self.val_fraction, bool)
                and 0 < self.val_fraction < 0.5):
            fail("val_fraction", "a number strictly between 0 and 0.5")
        if not isinstance(self.synthetic_ok, bool):
            fail("synthetic_ok", "True or False")

    def seed_list(self, n: int | None = None) -> list[int]:
        """The ``n`` seeds a comparison averages over (default :attr:`seeds`), from :attr:`seed` on.

        Example:
            >>> get_profile("smoke").seed_list()
            [0, 1]
        """
        if n is None:
            n = self.seeds
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"`n` must be a positive integer or None. Received: n={n!r}")
        return [self.seed + i for i in range(int(n))]


PROFILES: dict[str, Profile] = {
    # CI and `make test`: enough data that every claim still holds, little enough that a
    # notebook runs in about half a minute on two cores.
    "smoke": Profile(
        "smoke", n_train=1200, n_val=400, n_test=400, epochs=2, batch_size=64,
        seeds=2, budget_s=30.0, synthetic_ok=True,
    ),
    # The website: 3,000 + 1,000 + 1,000 fits inside the offline 5,000-image MNIST subset.
    "book": Profile(
        "book", n_train=3000, n_val=1000, n_test=1000, epochs=10, batch_size=64,
        seeds=3, budget_s=90.0,
    ),
    # Colab with an accelerator: everything, as the experiments were published.
    "full": Profile(
        "full", n_train=None, n_val=None, n_test=None, epochs=50, batch_size=64,
        seeds=5, budget_s=1800.0, val_fraction=0.1,
    ),
}


def get_profile(profile: str | Profile | None = None) -> Profile:
    """Return the run profile named by ``profile``, or by ``$NNTRAIN_PROFILE``.

    Args:
        profile: a profile name, a :class:`Profile` (returned as is), or ``None`` to read
            the environment variable ``NNTRAIN_PROFILE`` (default ``"book"``).

    Raises:
        ValueError: for a name that is not one of ``smoke``, ``book``, ``full``.

    Example:
        >>> get_profile("smoke").epochs
        2
    """
    if isinstance(profile, Profile):
        return profile
    source = "profile"
    if profile is None:
        profile = os.environ.get(ENV_VAR, "").strip() or DEFAULT_PROFILE
        source = ENV_VAR
    if not isinstance(profile, str) or profile.lower() not in PROFILES:
        raise ValueError(
            f"`{source}` must be one of {sorted(PROFILES)}. Received: {source}={profile!r}"
        )
    return PROFILES[profile.lower()]


def default_seed() -> int:
    """The run's seed: ``$NNTRAIN_SEED`` when it is set, else 0.

    Raises:
        ValueError: when ``$NNTRAIN_SEED`` is not a non-negative integer.

    Example:
        >>> default_seed()   # with NNTRAIN_SEED unset
        0
    """
    raw = os.environ.get(SEED_VAR, "").strip()
    if not raw:
        return 0
    try:
        seed = int(raw)
    except ValueError:
        seed = -1
    if seed < 0:
        _checks.fail(SEED_VAR, "a non-negative integer", raw)
    return seed


def interactive() -> bool:
    """Whether someone is watching: a notebook or IPython, a REPL or a terminal; never
    under pytest or CI. Progress output (``verbose="auto"`` in :func:`nntrain.train` and
    :func:`nntrain.sweep`) follow this one rule. ``NNTRAIN_PROGRESS=0`` (set by ``make book``
    and ``make test``, which execute notebooks for pages and tests) turns it off; ``1`` on."""
    if os.environ.get("NNTRAIN_PROGRESS") in ("0", "1"):
        return os.environ["NNTRAIN_PROGRESS"] == "1"
    if "PYTEST_CURRENT_TEST" in os.environ or os.environ.get("CI"):
        return False
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        return True
    return hasattr(sys, "ps1") or sys.stdout.isatty()


def setup(seed: int | None = None, profile: str | Profile | None = None) -> Profile:
    """Prepare a notebook or script: seeds, determinism, quiet logs, plot style.

    * seeds Python's ``random``, NumPy and the Keras backend (TensorFlow's global seed
      included) with ``seed``, through :func:`keras.utils.set_random_seed`;
    * turns on TensorFlow's deterministic ops, so the same seed gives the same numbers;
    * silences TensorFlow's Python and absl loggers below ``ERROR``;
    * applies the course's matplotlib style;
    * where ``$NNTRAIN_LEDGER`` names a folder and this runs in a notebook kernel, records
      every ``assert`` of the cells that follow in the claims ledger (:mod:`nntrain.ledger`);
    * returns the run profile (see :func:`get_profile`), with the seed in :attr:`Profile.seed`.

    Args:
        seed: a non-negative integer; ``None`` (default) reads ``$NNTRAIN_SEED`` (default 0).
        profile: a profile name or object; ``None`` reads ``$NNTRAIN_PROFILE``.

    Returns:
        The :class:`Profile` in force, its ``seed`` set.

    Example:
        >>> import nntrain as nt
        >>> cfg = nt.setup(seed=0, profile="smoke")
        >>> cfg.name
        'smoke'
    """
    if seed is None:
        seed = default_seed()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer or None. Received: seed={seed!r}")
    cfg = dataclasses.replace(get_profile(profile), seed=int(seed))

    import keras

    random.seed(int(seed))
    np.random.seed(int(seed))
    keras.utils.set_random_seed(int(seed))
    _tensorflow_determinism()
    _quiet_loggers()
    _plot_style()
    _fallbacks_as_output()
    from . import ledger  # floor 0 as well; imported here so that importing profiles stays light

    ledger.record_asserts()
    return cfg


def _fallbacks_as_output() -> None:
    """In a notebook kernel, show :class:`~nntrain.data.DataFallbackWarning` as ordinary output.

    A notebook's stderr is an error of the strict website build (``stderr_output: warn``),
    and the notice is meant for the reader, who must see that the page's numbers come from a
    subset or a stand-in. Every other warning goes where it went before.
    """
    if "ipykernel" not in sys.modules or getattr(warnings.showwarning, "_nntrain", False):
        return
    from .data import DataFallbackWarning  # data imports profiles: imported here, not above

    shown_before = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, DataFallbackWarning):
            print(f"Note ({category.__name__}): {message}", file=sys.stdout)
        else:
            shown_before(message, category, filename, lineno, file, line)

    show._nntrain = True
    warnings.showwarning = show


def _tensorflow_determinism() -> None:
    """Ask TensorFlow (when it is installed) for deterministic kernels."""
    try:
        import tensorflow as tf
    except ImportError:  # the JAX backend without TensorFlow: JAX on CPU is deterministic
        return
    tf.config.experimental.enable_op_determinism()


def _quiet_loggers() -> None:
    import logging

    for name in ("tensorflow", "absl", "h5py", "jax._src.xla_bridge"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging
    except ImportError:
        return
    absl_logging.set_verbosity(absl_logging.ERROR)


def _plot_style() -> None:
    import matplotlib.pyplot as plt

    with resources.as_file(resources.files("nntrain") / "nntrain.mplstyle") as path:
        plt.style.use(str(path))
