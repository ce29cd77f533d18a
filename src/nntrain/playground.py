r"""A neural-network playground on 2-D data, in the spirit of TensorFlow Playground.

Three two-class problems in the plane (:func:`dataset`): scikit-learn's two moons and two
circles, and two interleaved spiral arms. :func:`train` fits a small multilayer
perceptron of a given depth, width and activation (:func:`nntrain.models.deep_mlp`) with
:func:`nntrain.sweep`, so that every initializer, learning rate and seed asked for is one
member of one stacked model, and returns a :class:`Playground`: the decision-boundary grid
(the probability of class 1 at every point of a regular grid over the data) and the loss
curves, as arrays and tidy tables. :meth:`Playground.plot` draws them with matplotlib;
:func:`precompute` fills the tables of an interactive explorer, one sweep per
architecture.

Example:
    >>> import nntrain as nt
    >>> data = nt.playground.dataset("moons", n=400, seed=0)
    >>> pg = nt.playground.train(data, depth=2, width=8, activation="tanh",
    ...                          learning_rates=[0.03, 0.3], epochs=100)
    >>> pg.plot()

References:
    Smilkov, D., Carter, S., Sculley, D., Viégas, F. B. & Wattenberg, M. (2017).
    Direct-manipulation visualization of deep networks. https://arxiv.org/abs/1708.03788
    (TensorFlow Playground, https://playground.tensorflow.org).
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.colors import LinearSegmentedColormap, to_hex
import numpy as np
import pandas as pd

from . import _checks
from . import search as _search
from . import sweeps as _sweeps
from .data import Dataset
from ._checks import is_int as _is_int

__all__ = ["DATASETS", "Playground", "dataset", "precompute", "train"]

# The problems and their default label noise (standard deviation of the Gaussian noise
# added to each coordinate, in the data's own units; the clouds span about 2 to 3 units).
DATASETS: dict[str, float] = {"moons": 0.2, "circles": 0.1, "spiral": 0.1}
# Shares of the examples in the validation and test splits (the rest is for training).
_VAL_SHARE, _TEST_SHARE = 0.2, 0.2
# Turns of each spiral arm, and the smallest radius (the arms' centre is too crowded).
_SPIRAL_TURNS, _SPIRAL_START = 1.5, 0.15
# The boundary grid reaches this far beyond the data on each side (a share of its range).
_MARGIN = 0.1
# Colours of class 0 and 1 (Okabe-Ito blue and vermillion); the shading runs between them.
_CLASS_COLOURS = ("#0072B2", "#D55E00")
# Okabe-Ito yellow: too light for titles and thin lines on white.
_YELLOW = "F0E442"
_CMAP = LinearSegmentedColormap.from_list("playground", [_CLASS_COLOURS[0], "#FFFFFF", _CLASS_COLOURS[1]])


def dataset(name: str = "moons", n: int = 400, noise: float | None = None, seed: int = 0) -> Dataset:
    r"""A two-class problem in the plane, split 60/20/20 into train, validation and test.

    * ``"moons"``: two interleaved half circles (:func:`sklearn.datasets.make_moons`);
    * ``"circles"``: a small circle inside a large one, radius ratio 0.5
      (:func:`sklearn.datasets.make_circles`);
    * ``"spiral"``: two arms :math:`r(\cos(\phi + c\pi), \sin(\phi + c\pi))` for class
      :math:`c`, with :math:`r \sim U(0.15, 1)` and :math:`\phi = 3\pi r` (1.5 turns);
      scikit-learn has no 2-D spiral, so it is drawn here.

    Gaussian noise of standard deviation ``noise`` is added to each coordinate.

    Args:
        name: one of ``moons``, ``circles``, ``spiral``.
        n: the number of examples (half of each class), at least 20.
        noise: the noise level; ``None`` takes the problem's default (0.2, 0.1, 0.1).
        seed: the seed of the points and of the split.

    Returns:
        A :class:`~nntrain.data.Dataset` with ``float32`` features of shape ``(2,)`` and
        ``int32`` labels 0/1.

    Example:
        >>> dataset("circles", n=100).x_train.shape
        (60, 2)
    """
    if name not in DATASETS:
        raise ValueError(f"`name` must be one of {list(DATASETS)}. Received: name={name!r}")
    if not _is_int(n) or n < 20:
        raise ValueError(f"`n` must be an integer of at least 20. Received: n={n!r}")
    noise = DATASETS[name] if noise is None else noise
    if not isinstance(noise, numbers.Real) or isinstance(noise, bool) or not 0 <= noise < np.inf:
        raise ValueError(f"`noise` must be a non-negative number or None. Received: noise={noise!r}")
    _checks.integer("seed", seed, minimum=0)
    from sklearn import datasets as skd
    from sklearn.model_selection import train_test_split

    if name == "moons":
        x, y = skd.make_moons(n, noise=noise, random_state=seed)
        source = f"scikit-learn make_moons (generated 2-D problem, noise={noise:g})"
    elif name == "circles":
        x, y = skd.make_circles(n, noise=noise, factor=0.5, random_state=seed)
        source = f"scikit-learn make_circles (generated 2-D problem, noise={noise:g})"
    else:
        x, y = _spiral(n, noise, seed)
        source = f"two spiral arms (generated 2-D problem, noise={noise:g})"
    x, y = x.astype(np.float32), y.astype(np.int32)
    rest, test = train_test_split(np.arange(n), test_size=_TEST_SHARE, stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=_VAL_SHARE / (1 - _TEST_SHARE), stratify=y[rest],
                                  random_state=seed + 1)
    return Dataset(name=name, x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
                   x_test=x[test], y_test=y[test], source=source, num_classes=2,
                   feature_names=("x1", "x2"))


def _spiral(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    r = rng.uniform(_SPIRAL_START, 1.0, n)
    phi = 2 * np.pi * _SPIRAL_TURNS * r + np.pi * y
    x = r[:, None] * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    return x + noise * rng.normal(size=x.shape), y


@dataclass(eq=False)
class Playground:
    """Small MLPs trained on a 2-D problem: their decision boundaries and loss curves.

    Attributes:
        data: the :class:`~nntrain.data.Dataset`.
        sweep: the :class:`nntrain.SweepResult`; one member per (init, learning rate, seed).
        x1: the grid's first coordinates, ``(G,)``.
        x2: the grid's second coordinates, ``(G,)``.
        probability: ``(K, G, G)``, member :math:`k`'s probability of class 1 at the point
            ``(x1[j], x2[i])`` in ``probability[k, i, j]`` (the layout of ``plt.contourf``).
        settings: ``depth``, ``width``, ``activation``, ``optimizer``, ``epochs``,
            ``batch_size``.
    """

    data: Dataset
    sweep: object
    x1: np.ndarray
    x2: np.ndarray
    probability: np.ndarray
    settings: dict

    @property
    def table(self) -> pd.DataFrame:
        """One row per member: ``init``, ``learning_rate``, ``seed``, final losses and accuracies."""
        return self.sweep.table

    @property
    def history(self) -> pd.DataFrame:
        """The loss curves, one row per member and epoch: ``loss``, ``val_loss``, accuracies."""
        return self.sweep.history

    def boundary(self) -> pd.DataFrame:
        """The decision-boundary grid as a tidy table: ``member``, ``x1``, ``x2``, ``probability``."""
        k, g2, g1 = self.probability.shape
        return pd.DataFrame({
            "member": np.repeat(np.arange(k), g2 * g1),
            "x1": np.tile(self.x1, k * g2),
            "x2": np.tile(np.repeat(self.x2, g1), k),
            "probability": self.probability.reshape(-1),
        })

    def plot(self, members: Sequence[int] | None = None, columns: int = 4,
             loss: bool = True, size: float = 2.6) -> plt.Figure:
        """Decision boundaries of ``members`` (default all) and, last, their loss curves.

        Each boundary panel is :meth:`draw`'s, titled in the colour of the member's loss
        curves.

        Args:
            members: member indices to draw.
            columns: panels per row.
            loss: add a panel with the training (solid) and validation (dashed) loss.
            size: the side of one panel, in inches.

        Returns:
            The matplotlib figure.
        """
        members = list(range(len(self.table))) if members is None else list(members)
        if not members or not all(_is_int(m) and 0 <= m < len(self.table) for m in members):
            raise ValueError(f"`members` must be indices in [0, {len(self.table)}). "
                             f"Received: members={members!r}")
        panels = len(members) + bool(loss)
        columns = min(columns, panels)
        rows = -(-panels // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
        for i, (ax, m) in enumerate(zip(axes.flat, members)):
            self.draw(ax, m, colour=_colour(i))
        if loss:
            self._draw_loss(axes.flat[len(members)], members)
        for ax in list(axes.flat)[panels:]:
            ax.axis("off")
        return fig

    def draw(self, ax, member: int = 0, title: str | None = None, colour: str = "black") -> None:
        """Draw member ``member``'s decision boundary on the matplotlib axes ``ax``.

        The shading is the probability of class 1 (blue 0, white 0.5, vermillion 1), the
        black line its 0.5 contour (the decision boundary), the dots the training points
        in their class colours.

        Args:
            ax: the axes.
            member: the member's index.
            title: the first line of the title (default: its initializer and learning
                rate); the second is its test accuracy.
            colour: the colour of the title.
        """
        if not _is_int(member) or not 0 <= member < len(self.table):
            raise ValueError(f"`member` must be an index in [0, {len(self.table)}). Received: member={member!r}")
        ax.contourf(self.x1, self.x2, self.probability[member], levels=np.linspace(0, 1, 11),
                    cmap=_CMAP, alpha=0.6, vmin=0, vmax=1)
        ax.contour(self.x1, self.x2, self.probability[member], levels=[0.5], colors="black",
                   linewidths=1.0)
        colours = np.asarray(_CLASS_COLOURS)[self.data.y_train]
        ax.scatter(*self.data.x_train.T, c=colours, s=10, edgecolors="white", linewidths=0.5)
        row = self.table.iloc[member]
        title = f"{row['init']}, η={row['learning_rate']:g}" if title is None else title
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
        ax.set_title(f"{title}\ntest accuracy {row['test_accuracy']:.2f}", fontsize=9, color=colour)

    def _draw_loss(self, ax, members: list[int]) -> None:
        for i, m in enumerate(members):
            curve = self.history[self.history["member"] == m]
            ax.plot(curve["epoch"], curve["loss"], color=_colour(i), linewidth=1.2)
            ax.plot(curve["epoch"], curve["val_loss"], color=_colour(i), linestyle="--", linewidth=1.2)
        ax.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log")
        ax.set_title("training (solid), validation (dashed);\ncolours as the panel titles", fontsize=9)


def _colour(i: int) -> str:
    """The i-th colour of the course's (Okabe-Ito) cycle, without its yellow (unreadable as text)."""
    cycle = [to_hex(c) for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    cycle = [c for c in cycle if c.upper().lstrip("#") != _YELLOW]
    return cycle[i % len(cycle)]


def train(data: Dataset, depth: int = 2, width: int = 8, activation: str = "tanh",
          learning_rates: Sequence[float] = (0.03,), inits: Sequence[str] = ("xavier_uniform",),
          seeds: Sequence[int] = (0,), optimizer: str = "sgd", epochs: int = 100,
          batch_size: int = 10, resolution: int = 60) -> Playground:
    r"""Train MLPs on a 2-D problem, every init x learning rate x seed in one sweep.

    The network is :func:`nntrain.models.deep_mlp` with ``depth`` hidden layers of
    ``width`` units and a two-way softmax; TensorFlow Playground's defaults are tanh, SGD
    with :math:`\eta = 0.03` and batches of 10. After training, every member's
    probability of class 1 is computed on a ``resolution`` x ``resolution`` grid that
    covers the data (with a 10% margin).

    Args:
        data: a 2-D problem from :func:`dataset` (any two-class Dataset with 2 features).
        depth: hidden layers, at least 1.
        width: units per hidden layer, at least 1.
        activation: a Keras activation name (``tanh``, ``relu``, ``sigmoid``, ``linear``).
        learning_rates: the learning rates to train with.
        inits: the initializers to train with (names).
        seeds: the seeds to train with.
        optimizer: a name of :mod:`nntrain.optimizers`.
        epochs: passes over the training split.
        batch_size: examples per step.
        resolution: grid points per axis, at least 2.

    Returns:
        A :class:`Playground`.

    Example:
        >>> pg = train(dataset("spiral"), depth=3, width=16, activation="relu",
        ...            learning_rates=[0.01], optimizer="adam", epochs=200)
        >>> pg.probability.shape
        (1, 60, 60)
    """
    if not isinstance(data, Dataset) or data.input_shape != (2,) or data.num_classes != 2:
        _checks.fail("data", "a two-class Dataset with 2 features (see nntrain.playground.dataset)",
                     data, shown=_checks.shown(data))
    _check_settings(depths=[depth], widths=[width], activations=[activation],
                    learning_rates=learning_rates, inits=inits, seeds=seeds, optimizer=optimizer,
                    epochs=epochs, batch_size=batch_size, resolution=resolution, singular=True)
    result = _sweeps.sweep("deep_mlp", data, inits=list(inits), learning_rates=list(learning_rates),
                           seeds=list(seeds), optimizer=optimizer, epochs=epochs,
                           batch_size=batch_size, verbose=0,
                           model_kwargs={"depth": depth, "width": width, "activation": activation})
    x1, x2 = _grid(data, resolution)
    points = np.stack(np.meshgrid(x1, x2), axis=-1).reshape(-1, 2)
    probability = _search.predict(result, points)[..., 1].reshape(-1, len(x2), len(x1))
    settings = {"depth": depth, "width": width, "activation": activation, "optimizer": optimizer,
                "epochs": epochs, "batch_size": batch_size}
    return Playground(data=data, sweep=result, x1=x1, x2=x2, probability=probability,
                      settings=settings)


def _check_settings(*, depths, widths, activations, learning_rates, inits, seeds, optimizer, epochs,
                    batch_size, resolution, singular: bool = False) -> None:
    """The package's ValueError for the first bad setting of :func:`train` or :func:`precompute`,
    before any network is built (``singular``: ``train``'s one depth, width and activation)."""
    from . import initializers as _initializers
    from . import optimizers as _optimizers
    from .models import _check_activation

    positive_int = lambda v: _is_int(v) and v >= 1  # noqa: E731
    for name, values in (("depth", depths), ("width", widths)):
        if singular:
            _checks.integer(name, values[0], minimum=1)
        else:
            _checks.sequence(name + "s", values, positive_int, accepted="a non-empty list of positive integers")
    if singular:
        _check_activation(activations[0])
    else:
        for activation in _checks.sequence("activations", activations, accepted="a non-empty list of activations"):
            try:
                _check_activation(activation)
            except ValueError:
                _checks.fail("activations", "a non-empty list of Keras activation names such as "
                             "'relu', 'tanh', 'linear'", activations)
    _checks.sequence("learning_rates", learning_rates, lambda v: _checks.is_real(v) and v > 0,
                     accepted="a non-empty list of positive numbers")
    names = _initializers.available()
    _checks.sequence("inits", inits, lambda v: _initializers._lookup(v) is not None,
                     accepted=f"a non-empty list of initializer names from {names}")
    _checks.sequence("seeds", seeds, lambda v: _is_int(v) and v >= 0,
                     accepted="a non-empty list of non-negative integers")
    _checks.choice("optimizer", optimizer, _optimizers.available())
    _checks.integer("epochs", epochs, minimum=1)
    _checks.integer("batch_size", batch_size, minimum=1)
    _checks.integer("resolution", resolution, minimum=2)


def _grid(data: Dataset, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([data.x_train, data.x_val, data.x_test])
    low, high = x.min(0), x.max(0)
    pad = _MARGIN * (high - low)
    return tuple(np.linspace(low[i] - pad[i], high[i] + pad[i], resolution, dtype=np.float32)
                 for i in range(2))


def precompute(names: Sequence[str] = tuple(DATASETS), depths: Sequence[int] = (1, 2, 3),
               widths: Sequence[int] = (2, 8), activations: Sequence[str] = ("tanh", "relu", "linear"),
               learning_rates: Sequence[float] = (0.003, 0.03, 0.3),
               inits: Sequence[str] = ("xavier_uniform", "zeros"), seed: int = 0,
               optimizer: str = "sgd", epochs: int = 100, batch_size: int = 10,
               resolution: int = 30, n: int = 400) -> dict[str, pd.DataFrame]:
    """Every setting of an interactive playground, as the tidy tables an explorer filters.

    One :func:`train` (one sweep) per problem, depth, width and activation; initializers
    and learning rates are members of it.

    Args:
        names: the problems (see :func:`dataset`).
        depths: hidden layers to offer.
        widths: units per layer to offer.
        activations: activations to offer.
        learning_rates: learning rates to offer.
        inits: initializers to offer.
        seed: the seed of the data and of the networks.
        optimizer: the optimizer of every network.
        epochs: passes over the training split.
        batch_size: examples per step.
        resolution: boundary grid points per axis.
        n: examples per problem.

    Returns:
        ``{"boundaries": ..., "losses": ..., "scores": ..., "points": ...}``: every table
        keyed by ``dataset``, ``depth``, ``width``, ``activation`` (and, but for
        ``points``, ``init`` and ``learning_rate``); ``boundaries`` has ``x1``, ``x2``,
        ``probability``; ``losses`` has ``epoch``, ``loss``, ``val_loss``; ``scores`` has the
        final ``val_loss``, ``val_accuracy``, ``test_loss``, ``test_accuracy``,
        ``diverged``; ``points`` has ``x1``, ``x2``, ``label``, ``split``.
    """
    names = _checks.sequence("names", names, lambda v: isinstance(v, str) and v in DATASETS,
                             accepted=f"a non-empty list of names from {list(DATASETS)}")
    _checks.seed("seed", seed)
    _check_settings(depths=depths, widths=widths, activations=activations,
                    learning_rates=learning_rates, inits=inits, seeds=[seed], optimizer=optimizer,
                    epochs=epochs, batch_size=batch_size, resolution=resolution)
    _checks.integer("n", n, minimum=1)
    tables: dict[str, list] = {"boundaries": [], "losses": [], "scores": [], "points": []}
    for name in names:
        data = dataset(name, n=n, seed=seed)
        for split, (x, y) in data.splits().items():
            tables["points"].append(pd.DataFrame({"dataset": name, "x1": x[:, 0], "x2": x[:, 1],
                                                  "label": y, "split": split}))
        for depth, width, activation in itertools.product(depths, widths, activations):
            pg = train(data, depth, width, activation, learning_rates, inits, [seed], optimizer,
                       epochs, batch_size, resolution)
            keys = {"dataset": name, "depth": depth, "width": width, "activation": activation}
            members = pg.table[["member", "init", "learning_rate"]]
            tables["boundaries"].append(members.merge(pg.boundary(), on="member").assign(**keys))
            tables["losses"].append(members.merge(pg.history[["member", "epoch", "loss", "val_loss"]],
                                                  on="member").assign(**keys))
            tables["scores"].append(pg.table[["member", "init", "learning_rate", "val_loss",
                                              "val_accuracy", "test_loss", "test_accuracy",
                                              "diverged"]].assign(**keys))
    order = ["dataset", "depth", "width", "activation", "init", "learning_rate"]
    out = {}
    for key, frames in tables.items():
        frame = pd.concat(frames, ignore_index=True).drop(columns="member", errors="ignore")
        front = [c for c in order if c in frame.columns]
        out[key] = frame[front + [c for c in frame.columns if c not in front]]
    return out
