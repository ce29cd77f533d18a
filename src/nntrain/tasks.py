r"""Synthetic tasks with a known answer: defined benchmarks, not stand-ins for real data.

A synthetic *benchmark* is a task defined by its generator, with a known best possible
error, built to test one ability of a model. The adding problem tests whether a recurrent
network can carry information across many time steps: it is the classic test of vanishing
gradients through time. Its data sets are :class:`~nntrain.data.Dataset` objects like the
real ones, so :func:`nntrain.train` takes them as they are; their ``source`` names the task
and the seed (it does not start with ``"synthetic"``: a defined task is not a stand-in for
a real data set, and claims about it are claims about the task).

Example:
    >>> data = adding_problem(timesteps=50, sizes=(1000, 200, 200), seed=0)
    >>> data.x_train.shape, data.task
    ((1000, 50, 2), 'regression')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .data import Dataset
from .profiles import Profile, get_profile
from . import _checks
from ._checks import is_int as _is_int

__all__ = ["ADDING_BASELINE_MSE", "adding_problem", "adding_sequences"]

# The mean squared error of the best constant prediction for the adding problem: the target
# is the sum of two independent U(0, 1) values, whose variance is 2 * (1/12) = 1/6.
ADDING_BASELINE_MSE = 1.0 / 6.0
# Split sizes for a profile that keeps everything (``full``): the adding problem is
# generated, so "everything" has to be a number.
_FULL_SIZES = (20_000, 2_000, 2_000)


def adding_sequences(num: int, timesteps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw ``num`` sequences of the adding problem.

    Each sequence has ``timesteps`` steps of two features: a value :math:`v_t \sim U(0, 1)`
    and a marker :math:`m_t \in \{0, 1\}`. Exactly two steps are marked, one drawn
    uniformly from the first half of the sequence and one from the second half, and the
    target is the sum of the two marked values:

    .. math::

        y = \sum_{t=1}^{T} m_t v_t, \qquad
        \mathbb{E}\big[(y - \mathbb{E} y)^2\big] = \tfrac{1}{6}

    This is the variant of Le et al. (2015) of the adding problem of Hochreiter &
    Schmidhuber (1997): the first marked value can lie up to :math:`T` steps before the
    end, so a model must carry it across the whole sequence.

    Args:
        num: number of sequences, at least 1.
        timesteps: :math:`T`, the sequence length, at least 2.
        rng: a NumPy random generator.

    Returns:
        ``(x, y)``: ``x`` of shape ``(num, timesteps, 2)`` (value, marker) and ``y`` of
        shape ``(num,)``, both ``float32``.

    Example:
        >>> x, y = adding_sequences(3, 10, np.random.default_rng(0))
        >>> x[..., 1].sum(axis=1)
        array([2., 2., 2.], dtype=float32)

    References:
        Hochreiter & Schmidhuber, 1997, https://doi.org/10.1162/neco.1997.9.8.1735;
        Le, Jaitly & Hinton, 2015, https://arxiv.org/abs/1504.00941.
    """
    _checks.integer("num", num, minimum=1)
    _checks.integer("timesteps", timesteps, minimum=2)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"`rng` must be a numpy.random.Generator. Received: rng={rng!r}")
    half = timesteps // 2
    values = rng.uniform(size=(num, timesteps))
    markers = np.zeros((num, timesteps))
    rows = np.arange(num)
    markers[rows, rng.integers(0, half, num)] = 1.0
    markers[rows, rng.integers(half, timesteps, num)] = 1.0
    x = np.stack([values, markers], axis=-1).astype("float32")
    return x, (values * markers).sum(axis=1).astype("float32")


def adding_problem(
    timesteps: int = 50,
    sizes: Sequence[int] | None = None,
    seed: int = 0,
    profile: str | Profile | None = None,
) -> Dataset:
    """The adding problem as a :class:`~nntrain.data.Dataset` (a regression task).

    Every split is drawn independently from :func:`adding_sequences` with one generator
    seeded by ``seed``, so the same seed gives the same data. The best constant
    prediction (:math:`y = 1`) has the error :data:`ADDING_BASELINE_MSE` :math:`= 1/6`;
    a model that does better has learned to find and add the marked values.

    Args:
        timesteps: the sequence length :math:`T`, at least 2.
        sizes: ``(train, validation, test)`` numbers of sequences; ``None`` takes the run
            profile's ``n_train``, ``n_val`` and ``n_test`` (20,000, 2,000 and 2,000 for
            a profile that keeps everything).
        seed: the seed of the generator.
        profile: the profile for the default sizes; ``None`` reads ``$NNTRAIN_PROFILE``.

    Returns:
        A regression :class:`~nntrain.data.Dataset` named ``"adding_problem"`` with inputs
        of shape ``(timesteps, 2)``.

    Example:
        >>> data = adding_problem(timesteps=20, sizes=(500, 100, 100))
        >>> data.input_shape, data.num_classes
        ((20, 2), None)

    References:
        Hochreiter & Schmidhuber, 1997, https://doi.org/10.1162/neco.1997.9.8.1735;
        Le, Jaitly & Hinton, 2015, https://arxiv.org/abs/1504.00941.
    """
    _checks.integer("timesteps", timesteps, minimum=2)
    _checks.integer("seed", seed, minimum=0)
    cfg = get_profile(profile)  # checked even when sizes are given
    if sizes is None:
        sizes = tuple(s if s is not None else full
                      for s, full in zip((cfg.n_train, cfg.n_val, cfg.n_test), _FULL_SIZES))
    if (isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) != 3
            or not all(_is_int(s) and s >= 1 for s in sizes)):
        _checks.fail("sizes", "three positive integers (train, validation, test), or None for "
                     "the profile's", sizes)
    rng = np.random.default_rng(seed)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        adding_sequences(int(n), timesteps, rng) for n in sizes)
    return Dataset(
        "adding_problem", x_train, y_train, x_val, y_val, x_test, y_test,
        source=f"adding problem, T={timesteps} (Hochreiter & Schmidhuber 1997), generated with seed {seed}",
        num_classes=None,
        feature_names=("value", "marker"),
        notes=(f"The best constant prediction has MSE 1/6 = {ADDING_BASELINE_MSE:.4f}.",),
    )


