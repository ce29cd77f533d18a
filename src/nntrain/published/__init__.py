"""Published results the course reproduces, as tidy tables, and the comparison with ours.

:func:`case_study` is the results table of the weight-initialization case study the course
starts from (six initializers x {MLP, CNN} x {MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100},
plus a regression network on California housing; Adam at 1e-3, batch 64, up to 50 epochs,
early stopping with patience 5, one seed). Its numbers are transcribed once, into
``case_study_2025.csv`` beside this file, so a lab never retypes them.

Two flaws of the original protocol matter when comparing: it early-stopped on the test
split (its "validation" accuracy *is* a test accuracy, chosen with the test set's help),
and it ran one seed per setting, so it cannot say whether two initializers differ.
:func:`compare` puts our numbers, measured on a separate validation split over several
seeds, beside the published ones and says whether each published value lies within our
seed spread.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from .. import _checks

__all__ = ["INITIALIZERS", "case_study", "compare"]

# The case study names its initializers in words; these are the nntrain (and Keras) names
# we take them to mean. The report does not print its initializer objects: "Random" is
# taken as Keras's RandomNormal (stddev 0.05), Xavier and He as Keras's Glorot and He
# defaults (uniform and normal respectively, as `keras.initializers` names them).
INITIALIZERS = {
    "Zero": "zeros",
    "Random": "random_normal",
    "Xavier": "xavier_uniform",
    "He": "he_normal",
    "Lecun": "lecun_normal",
    "Orthogonal": "orthogonal",
}

_DATASETS = {"MNIST": "mnist", "Fashion-MNIST": "fashion_mnist", "CIFAR-10": "cifar10",
             "CIFAR-100": "cifar100", "California Housing": "california_housing"}


def case_study() -> pd.DataFrame:
    """The case study's published results, one row per model x data set x initializer.

    Returns:
        A DataFrame with columns ``model`` (``mlp``, ``cnn``, ``regression``), ``dataset``
        (the ``nt.load`` name), ``init`` (the nntrain name, as in a ``SweepResult``, see :data:`INITIALIZERS`),
        ``label`` (the case study's word), ``val_accuracy``, ``test_accuracy``,
        ``test_loss``, ``mae`` (regression only, in units of $100,000 as ``nt.load``
        gives the target) and ``epochs``.

    Example:
        >>> table = case_study()
        >>> table.query("model == 'mlp' and dataset == 'mnist'")["test_accuracy"].max()
        0.981
    """
    with resources.files(__package__).joinpath("case_study_2025.csv").open() as f:
        raw = pd.read_csv(f, comment="#")
    table = pd.DataFrame({
        "model": raw["model"],
        "dataset": raw["dataset"].map(_DATASETS),
        "init": raw["initializer"].map(INITIALIZERS),
        "label": raw["initializer"],
        "val_accuracy": raw["val_accuracy"],
        "test_accuracy": raw["test_accuracy"],
        "test_loss": raw["test_loss"],
        # Dollars to the $100k units of nt.load("california_housing").
        "mae": raw["mae_dollars"] / 1e5,
        "epochs": raw["epochs"].astype(int),
    })
    if table[["dataset", "init"]].isna().any().any():
        raise RuntimeError("case_study_2025.csv names a data set or initializer without a mapping")
    return table


def compare(ours: pd.DataFrame, published: pd.DataFrame, metric: str = "test_accuracy",
            on: tuple[str, ...] = ("model", "dataset", "init"), every_published_row: bool = False,
            ) -> pd.DataFrame:
    """Our results over seeds beside the published ones.

    Args:
        ours: one row per run (several seeds per setting), with the columns ``on`` and
            ``metric`` (e.g. ``SweepResult.table`` with ``model`` and ``dataset`` added).
        published: the published table (:func:`case_study`), one row per setting.
        metric: the column to compare.
        on: the columns that identify a setting.
        every_published_row: keep the published settings we did not run, with our
            columns empty, so the whole published table shows beside ours.

    Returns:
        One row per setting present in both (or per published setting): ``published``, our ``mean``, ``std``, ``min``,
        ``max`` and ``seeds``, the ``difference`` (ours minus published) and
        ``within_spread`` (the published value lies within our [min, max] over seeds).
    """
    on = _checks.sequence("on", on, lambda c: isinstance(c, str), accepted="a list of column names",
                          min_len=0)
    for name, frame in (("ours", ours), ("published", published)):
        _checks.frame(name, frame)
    if not isinstance(metric, str) or (metric not in ours.columns and metric not in published.columns):
        _checks.fail("metric", "a column of `ours` and `published`", metric)
    for name, frame in (("ours", ours), ("published", published)):
        missing = [c for c in [*on, metric] if c not in frame.columns]
        if missing:
            _checks.fail(name, f"a DataFrame with the columns {[*on, metric]}", frame,
                         shown=f"<DataFrame without {missing}>")
    every_published_row = _checks.boolean("every_published_row", every_published_row)
    stats = (ours.groupby(on)[metric].agg(["mean", "std", "min", "max", "count"])
             .rename(columns={"count": "seeds"}).reset_index())
    reference = published[[*on, metric]].dropna(subset=[metric]).rename(columns={metric: "published"})
    if every_published_row:
        table = reference.merge(stats, on=on, how="left")
    else:
        table = stats.merge(reference, on=on)
    table["difference"] = table["mean"] - table["published"]
    table["within_spread"] = (table["published"] >= table["min"]) & (table["published"] <= table["max"])
    columns = [*on, "published", "mean", "std", "min", "max", "seeds", "difference", "within_spread"]
    return table[columns]
