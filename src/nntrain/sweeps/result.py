"""The record of a sweep: :class:`SweepResult`, tidy tables saved as npz + json."""

from __future__ import annotations

import itertools
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from .._files import atomic_write

__all__ = ["SweepResult"]

_FRAMES = ("table", "history", "gradient_norms")
_ARRAYS, _META = "arrays.npz", "result.json"


@dataclass(eq=False)
class SweepResult:
    """Everything a sweep measured, one row per member or per (member, epoch).

    Attributes:
        table: one row per member: ``member``, the hyperparameters (``init``,
            ``learning_rate``, any other swept optimizer hyperparameter, ``seed``),
            ``epochs_run``, ``best_epoch`` (lowest validation loss), ``stopped_epoch``
            (early stopping, else missing), ``diverged``, ``diverged_step`` (the optimizer
            step, from 1, at which the divergence rule stopped it: a loss or gradient not
            finite, or the running epoch loss past ``loss_ratio`` times the first; else
            missing), then
            ``val_*`` and ``test_*`` metrics of the weights the member ends with (its best
            weights when early stopping is on).
        history: one row per member and epoch it trained: the hyperparameters, ``epoch``
            (from 1) and Keras's logs ``loss``, ``accuracy`` (or ``mean_absolute_error``),
            ``val_loss``, ``val_accuracy``.
        gradient_norms: with ``gradient_norms=True``, one row per member, epoch (0 is
            before training) and kernel: ``step``, ``epoch``, ``layer``, ``variable``,
            ``norm``, measured on a fixed probe batch as
            :class:`nntrain.diagnostics.GradientNorms` does; else ``None``.
        weights: the members' final weights, ``{"layer/variable": (K, ...)}`` in the layout
            of the layers built alone.
        config: how the sweep ran (model, optimizer, epochs, batch size, patience, data
            source, backend, ...).
        wall_time_s: seconds from the first model built to the last test evaluation.
        timings: where the time went: ``build_s`` (building and stacking the members),
            ``epoch_s`` (one entry per epoch; the first includes compiling) and ``test_s``.
    """

    table: pd.DataFrame
    history: pd.DataFrame
    gradient_norms: pd.DataFrame | None = None
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    wall_time_s: float = float("nan")
    timings: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ views

    @property
    def hyperparameters(self) -> list[str]:
        """The columns that define a member: ``init``, ``learning_rate``, ..., ``seed``."""
        return list(self.config.get("hyperparameters", ["init", "learning_rate", "seed"]))

    @property
    def settings(self) -> list[str]:
        """The hyperparameters without ``seed``: the columns that define a configuration."""
        return [h for h in self.hyperparameters if h != "seed"]

    def _metrics(self, frame: pd.DataFrame) -> list[str]:
        taken = {"member", "epoch", "step", *self.hyperparameters}
        return [c for c in frame.columns
                if c not in taken and pd.api.types.is_numeric_dtype(frame[c])]

    def summary(self, metrics: list[str] | None = None) -> pd.DataFrame:
        """Mean and spread over seeds of each configuration's results.

        Args:
            metrics: columns of :attr:`table` to summarize; default every validation
                and test metric and ``best_epoch``.

        Returns:
            One row per configuration (the hyperparameters but ``seed``) with, for each
            metric ``m``, ``m_mean`` and ``m_std`` (sample standard deviation over seeds,
            ``NaN`` for one seed), plus ``seeds`` (members) and ``diverged`` (how many).

        Example:
            >>> result.summary(["val_accuracy"]).sort_values("val_accuracy_mean")
        """
        if metrics is None:
            metrics = ["best_epoch"] + [c for c in self.table.columns
                                        if c.startswith(("val_", "test_"))]
        missing = [m for m in metrics if m not in self.table.columns]
        if missing:
            raise ValueError(f"`metrics` must be columns of the table {list(self.table.columns)}. "
                             f"Received: metrics={metrics!r}")
        grouped = self.table.groupby(self.settings, sort=False, dropna=False)
        values = self.table[metrics].astype("float64").groupby(
            [self.table[s] for s in self.settings], sort=False, dropna=False)
        out = values.agg(["mean", "std"])
        out.columns = [f"{m}_{stat}" for m, stat in out.columns]
        out["seeds"] = grouped.size()
        out["diverged"] = grouped["diverged"].sum().astype(int)
        return out.reset_index()

    def curves(self, metric: str = "val_loss") -> pd.DataFrame:
        """Mean and spread over seeds of ``metric`` at each epoch, per configuration.

        Args:
            metric: a column of :attr:`history` (``loss``, ``val_loss``, ``val_accuracy``, ...).

        Returns:
            A tidy frame: the configuration columns, ``epoch``, ``mean``, ``std``, ``seeds``.
        """
        if metric not in self.history.columns or metric in self.hyperparameters:
            raise ValueError(f"`metric` must be one of {self._metrics(self.history)}. "
                             f"Received: metric={metric!r}")
        grouped = self.history.groupby(self.settings + ["epoch"], sort=False, dropna=False)[metric]
        out = grouped.agg(["mean", "std", "count"]).rename(columns={"count": "seeds"})
        return out.reset_index()

    def best(self, metric: str = "val_loss") -> pd.Series:
        """The configuration with the best mean ``metric`` over its seeds.

        Lower is better for losses and errors, higher for anything else (accuracy).

        Args:
            metric: a column of :attr:`table`, e.g. ``"val_loss"``, ``"val_accuracy"``.

        Returns:
            The row of :meth:`summary` of that configuration.

        Example:
            >>> result.best("val_accuracy")[["init", "learning_rate"]]
        """
        if metric not in self.table.columns or metric in self.hyperparameters:
            raise ValueError(f"`metric` must be one of {self._metrics(self.table)}. "
                             f"Received: metric={metric!r}")
        summary = self.summary([metric])
        lower = any(word in metric for word in ("loss", "error", "epoch"))
        column = summary[f"{metric}_mean"]
        if column.isna().all():
            raise ValueError(f"No configuration has a finite {metric}. Received: metric={metric!r}")
        return summary.loc[column.idxmin() if lower else column.idxmax()]

    def member(self, index: int) -> pd.Series:
        """The :attr:`table` row of member ``index``."""
        return self.table.loc[self.table["member"] == index].iloc[0]

    def model(self, index: int) -> keras.Model:
        """Member ``index`` as a model built alone, holding its trained weights.

        Needs the builder to be one of :mod:`nntrain.models` and the initializer a name.
        """
        from .. import models

        name = self.config.get("model")
        builder = getattr(models, name, None) if isinstance(name, str) else None
        if builder is None or name not in ("mlp", "cnn", "regression", "deep_mlp"):
            raise ValueError(f"Only sweeps of nntrain.models builders can be rebuilt. "
                             f"Received: model={name!r}")
        row = self.member(index)
        kwargs = dict(self.config.get("model_kwargs", {}))
        kwargs.update(self.config.get("shape_kwargs", {}))
        model = builder(init=row["init"], seed=int(row["seed"]), **kwargs)
        by_layer = {layer.name: layer for layer in model.layers}
        for key, value in self.weights.items():
            layer, variable = key.rsplit("/", 1)
            target = next(v for v in by_layer[layer].weights if v.name == variable)
            target.assign(value[index])
        return model

    # ------------------------------------------------------------------ files

    def save(self, path: str | Path, weights: bool = True) -> Path:
        """Write the result to the folder ``path``: ``result.json`` (settings and column
        types) and an ``arrays-<n>.npz`` that it names (every column and weight). No pickle
        anywhere.

        The save is atomic: the arrays go to a new file, then ``result.json`` is replaced
        in one step (:func:`nntrain._files.atomic_write`), and only then is the previous
        arrays file removed. A save killed at any point leaves the previous result loadable.

        Args:
            path: a folder (created if needed).
            weights: also save :attr:`weights`.

        Returns:
            The folder.
        """
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        arrays, columns = {}, {}
        for name in _FRAMES:
            frame = getattr(self, name)
            if frame is None:
                continue
            columns[name] = []
            for column in frame.columns:
                kind, array = _encode(frame[column])
                columns[name].append([column, kind])
                arrays[f"{name}/{column}"] = array
        if weights:
            arrays.update({f"weights/{k}": v for k, v in self.weights.items()})
        previous = set(folder.glob("arrays*.npz"))
        name = next(f"arrays-{n}.npz" for n in itertools.count(1)
                    if not (folder / f"arrays-{n}.npz").exists())
        atomic_write(folder / name, lambda file: np.savez_compressed(file, **arrays))
        meta = {"columns": columns, "config": self.config, "wall_time_s": self.wall_time_s,
                "timings": self.timings, "arrays": name}
        atomic_write(folder / _META, json.dumps(meta, indent=1, default=_json_default))
        for stale in previous:  # the result now names the new file
            stale.unlink(missing_ok=True)
        return folder

    @classmethod
    def load(cls, path: str | Path) -> SweepResult:
        """Read a result written by :meth:`save`.

        Args:
            path: the folder given to :meth:`save`.

        Returns:
            The :class:`SweepResult`.
        """
        folder = Path(path)
        if not (folder / _META).is_file():
            raise ValueError(f"`path` must be a folder written by SweepResult.save, holding "
                             f"{_META}. Received: path={str(path)!r}")
        try:
            meta = json.loads((folder / _META).read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or not {"columns", "config", "wall_time_s"} <= set(meta):
                raise ValueError("it lacks the keys columns, config and wall_time_s")
        except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
            raise ValueError(f"{folder / _META} is damaged or not a SweepResult's ({error}); "
                             "save the result again.") from None
        arrays_file = folder / meta.get("arrays", _ARRAYS)  # earlier saves: arrays.npz
        frames = {}
        try:
            with np.load(arrays_file, allow_pickle=False) as arrays:
                for name, columns in meta["columns"].items():
                    frames[name] = pd.DataFrame({c: _decode(arrays[f"{name}/{c}"], kind)
                                                 for c, kind in columns})
                weights = {k.split("/", 1)[1]: arrays[k] for k in arrays.files if k.startswith("weights/")}
            table, history = frames["table"], frames["history"]
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{arrays_file} is missing, damaged or does not match {_META} "
                             f"({type(error).__name__}: {error}); save the result again.") from None
        return cls(table=table, history=history,
                   gradient_norms=frames.get("gradient_norms"), weights=weights,
                   config=meta["config"], wall_time_s=meta["wall_time_s"],
                   timings=meta.get("timings", {}))

    def __repr__(self) -> str:
        return (f"SweepResult({len(self.table)} members, hyperparameters={self.hyperparameters}, "
                f"epochs={self.config.get('epochs')}, wall_time_s={self.wall_time_s:.1f})")


def _encode(column: pd.Series) -> tuple[str, np.ndarray]:
    """A column as (kind, plain NumPy array) that npz stores without pickle."""
    if isinstance(column.dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(column):
        return "Int64", column.astype("float64").to_numpy()  # missing values as NaN
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return str(column.dtype), column.to_numpy()
    return "str", column.astype(str).to_numpy(dtype=str)


def _decode(array: np.ndarray, kind: str) -> pd.Series:
    if kind == "Int64":
        return pd.Series(array).astype("Int64")
    if kind == "str":
        return pd.Series(array.astype(object))
    return pd.Series(array.astype(kind))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
