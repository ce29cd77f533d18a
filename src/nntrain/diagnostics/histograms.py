"""Weight histograms written by Keras's TensorBoard callback, read back and drawn."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _checks

_COLUMNS = ["run", "tag", "step", "left", "right", "count"]


def read_histograms(log_dir) -> pd.DataFrame:
    """Read back the histograms that ``keras.callbacks.TensorBoard`` wrote.

    With ``histogram_freq=k``, Keras's TensorBoard callback writes a histogram of every
    weight every ``k`` epochs into the event files of ``log_dir/train``. This reads them
    with TensorBoard's own event reader (``EventAccumulator``); each histogram is a list
    of buckets ``[left, right)`` with the number of weights in each.

    Args:
        log_dir: the folder given to the TensorBoard callback.

    Returns:
        A frame with columns ``run`` (the subfolder, e.g. ``train``), ``tag`` (e.g.
        ``hidden_1/kernel/histogram``), ``step`` (the epoch, from 0), ``left``, ``right``
        and ``count``, one row per bucket.

    Example:
        >>> model.fit(x, y, validation_data=(xv, yv),
        ...           callbacks=[keras.callbacks.TensorBoard(log_dir, histogram_freq=1)])
        >>> read_histograms(log_dir).tag.unique()

    References:
        TensorBoard, https://www.tensorflow.org/tensorboard/get_started
    """
    try:
        from tensorboard.backend.event_processing import event_accumulator
        from tensorboard.util import tensor_util
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("read_histograms needs the `tensorboard` package, which Keras's "
                          "TensorBoard callback needs too: pip install tensorboard") from error
    if not isinstance(log_dir, (str, os.PathLike)):
        _checks.fail("log_dir", "a folder holding TensorBoard event files (a str or path)", log_dir)
    root = Path(log_dir)
    folders = sorted({p.parent for p in root.rglob("*tfevents*")}) if root.is_dir() else []
    if not folders:
        _checks.fail("log_dir", "a folder holding TensorBoard event files", str(log_dir))
    rows = []
    for folder in folders:
        events = event_accumulator.EventAccumulator(
            str(folder), size_guidance={event_accumulator.TENSORS: 0})  # 0: keep every event
        events.Reload()
        for tag in events.Tags()["tensors"]:
            if events.SummaryMetadata(tag).plugin_data.plugin_name != "histograms":
                continue
            for event in events.Tensors(tag):
                buckets = tensor_util.make_ndarray(event.tensor_proto).reshape(-1, 3)
                rows.extend({"run": folder.relative_to(root).as_posix(), "tag": tag,
                             "step": int(event.step), "left": float(left), "right": float(right),
                             "count": float(count)} for left, right, count in buckets)
    return pd.DataFrame(rows, columns=_COLUMNS)


def plot_histograms(histograms: pd.DataFrame, tag: str, ax=None, run: str = "train"):
    """Draw one tag's histograms over the steps, offset like TensorBoard's "offset" view.

    Args:
        histograms: a frame from :func:`read_histograms`.
        tag: the tag to draw, e.g. ``"hidden_1/kernel/histogram"``.
        ax: a matplotlib axes; ``None`` makes a new figure.
        run: the run (subfolder) to draw.

    Returns:
        The matplotlib axes: bucket centres across, one curve per step (for Keras's
        callback, the epoch counted from 0), later steps drawn lower and lighter.
    """
    import matplotlib.pyplot as plt

    _checks.frame("histograms", histograms, _COLUMNS, min_rows=1,
                  what="a frame from read_histograms")
    _checks.axes("ax", ax, none=True)
    runs = sorted(histograms["run"].unique())
    if run not in runs:
        _checks.fail("run", f"one of the runs of `histograms`, {runs}", run)
    chosen = histograms[(histograms["tag"] == tag) & (histograms["run"] == run)]
    if chosen.empty:
        _checks.fail("tag", f"one of {sorted(histograms.loc[histograms['run'] == run, 'tag'].unique())} in run {run!r}", tag)
    if ax is None:
        ax = plt.subplots()[1]
    steps = sorted(chosen["step"].unique())
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(steps)))
    height = chosen["count"].max()
    for i, (step, colour) in enumerate(zip(steps, colours)):
        one = chosen[chosen["step"] == step]
        offset = -i * 0.5 * height  # each later step half a histogram lower
        ax.plot((one["left"] + one["right"]) / 2, one["count"] + offset, color=colour,
                label=f"step {step}" if i in (0, len(steps) - 1) else None)
        ax.fill_between((one["left"] + one["right"]) / 2, offset, one["count"] + offset,
                        color=colour, alpha=0.25)
    ax.set(xlabel="weight value", yticks=[], title=tag.removesuffix("/histogram"))
    ax.legend()
    return ax

