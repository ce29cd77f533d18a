"""``sweep``: a grid of initializers, learning rates and seeds, trained as one model."""

from __future__ import annotations

import inspect
import itertools
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np
import pandas as pd

from .. import models as _models
from .. import optimizers as _optimizers
from ..data import Dataset, batch_order
from ..profiles import Profile, get_profile, interactive
from .engine import make_engine
from .stacking import member_weights, stack
from .result import SweepResult
from .. import _checks
from ..diagnostics import LOSS_RATIO
from ..diagnostics._core import check_loss_ratio
from .._checks import is_int as _is_int

__all__ = ["batch_order", "sweep"]  # batch_order lives in nntrain.data

InitLike = str | keras.initializers.Initializer

# The builders of nntrain.models a sweep accepts by name.
BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "mlp": _models.mlp,
    "cnn": _models.cnn,
    "regression": _models.regression,
    "deep_mlp": _models.deep_mlp,
}
# The optimizers that take one value per member for every hyperparameter.
_MEMBER_OPTIMIZERS = tuple(getattr(_optimizers, n) for n in
                           ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"))
# Examples in the probe batch of the gradient norms (as nntrain.diagnostics suggests).
_PROBE_SIZE = 128


def sweep(
    model: str | Callable[..., keras.Model],
    data: Dataset,
    inits: Sequence[InitLike] = ("he_normal",),
    learning_rates: Sequence[float] | None = None,
    seeds: Sequence[int] = (0,),
    optimizer: str | type | keras.optimizers.Optimizer = "adam",
    hyperparameters: Mapping[str, Sequence[float]] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    patience: int | None = None,
    model_kwargs: Mapping[str, object] | None = None,
    gradient_norms: bool = False,
    loss_ratio: float | None = LOSS_RATIO,
    shuffle_seed: int = 0,
    jit_compile: bool = True,
    verbose: str | int = "auto",
    profile: str | Profile | None = None,
) -> SweepResult:
    r"""Train every combination of initializer, learning rate and seed at once.

    The grid ``inits x learning_rates x hyperparameters x seeds`` gives :math:`K`
    *members*. Each is built alone with ``model(init=..., seed=...)``, so it starts from
    exactly the weights it would have alone; then all are stacked into one Keras model
    (:func:`nntrain.sweeps.layers.stack`) and trained together on the same mini-batches
    (:func:`batch_order`) by one optimizer whose hyperparameters are per-member vectors.
    The objective is the sum of the members' mean losses, so each member's gradient is
    exactly its own (:mod:`nntrain.sweeps.engine`):

    .. math::

        L = \sum_{k=1}^{K} L_k(\theta_k), \qquad \nabla_{\theta_k} L = \nabla_{\theta_k} L_k

    Per member: a member that diverges, by the rule :func:`nntrain.train` applies
    (:class:`~nntrain.diagnostics.DivergenceGuard`: its loss or a gradient is not finite, or
    its running epoch loss exceeds ``loss_ratio`` times its first batch's loss), is frozen
    and its step recorded while the others train on; with ``patience``,
    each member stops after ``patience`` epochs without a lower validation loss and
    ends with its best weights (``restore_best_weights``, as :func:`nntrain.train`
    does); the sweep ends when every member has stopped. Test metrics are measured once,
    at the end, on the weights each member ends with (diverged members included: their
    last finite or best weights).

    Args:
        model: a builder of :mod:`nntrain.models` (``mlp``, ``cnn``, ``regression``,
            ``deep_mlp``) or its name, or any builder taking ``init=`` and ``seed=``;
            ``input_shape`` and ``num_classes`` come from ``data``.
        data: a :class:`~nntrain.data.Dataset`.
        inits: initializer names or ``keras.initializers.Initializer`` instances.
        learning_rates: learning rates; ``None`` takes the optimizer's own.
        seeds: the models' seeds (their weights and dropout masks); several seeds give
            the spread of every result. The order of the batches is ``shuffle_seed``'s,
            shared by all members.
        optimizer: an optimizer of :mod:`nntrain.optimizers`: a name (``"adam"``), a class,
            or an instance whose other settings are kept.
        hyperparameters: more optimizer hyperparameters to sweep, ``{"beta_1": [0.8, 0.9]}``.
        epochs: maximum epochs; ``None`` takes the run profile's.
        batch_size: mini-batch size; ``None`` takes the profile's.
        patience: per-member early stopping on the validation loss, restoring the best
            weights; ``None`` trains every member for all ``epochs``.
        model_kwargs: more arguments for the builder, e.g. ``{"depth": 20, "width": 64}``.
        gradient_norms: record each member's per-layer kernel gradient norms on a fixed
            probe batch (the first 128 training examples) before training and after every
            epoch, like :class:`nntrain.diagnostics.GradientNorms`.
        loss_ratio: the growth bound of the divergence rule, a number above 1 (default
            ``nntrain.diagnostics.LOSS_RATIO``, 4); ``None`` flags non-finite values only.
        shuffle_seed: the seed of the batch order.
        jit_compile: compile each epoch with XLA under TensorFlow (JAX always compiles).
        verbose: ``"auto"`` (a progress bar over epochs where someone watches, nothing
            under pytest or CI), ``0`` or ``1``.
        profile: the run profile of the defaults; ``None`` reads ``$NNTRAIN_PROFILE``.

    Returns:
        A :class:`SweepResult`.

    Example:
        >>> data = nt.data.load("mnist")
        >>> result = nt.sweep("mlp", data, inits=["xavier_uniform", "he_normal"],
        ...                   learning_rates=[1e-3, 1e-2], seeds=[0, 1, 2], epochs=5)
        >>> result.summary(["val_accuracy"])
    """
    start = time.perf_counter()
    if not isinstance(data, Dataset):
        raise ValueError(f"`data` must be an nntrain Dataset (see nntrain.data.load). Received: data={data!r}")
    cfg = get_profile(profile)
    epochs = cfg.epochs if epochs is None else _checks.integer("epochs", epochs, minimum=1)
    batch_size = cfg.batch_size if batch_size is None else _checks.integer("batch_size", batch_size, minimum=1)
    if patience is not None:
        _checks.integer("patience", patience, minimum=1)
    _checks.integer("shuffle_seed", shuffle_seed, minimum=0)
    loss_ratio = check_loss_ratio(loss_ratio)
    gradient_norms = _checks.boolean("gradient_norms", gradient_norms)
    jit_compile = _checks.boolean("jit_compile", jit_compile)
    verbose = _checks.resolve_verbose(verbose, (0, 1), interactive)
    name, builder = _builder(model)
    inits = _non_empty("inits", inits)
    for init in inits:
        if not isinstance(init, (str, keras.initializers.Initializer)):
            raise ValueError("`inits` must hold initializer names or keras.initializers.Initializer "
                             f"instances. Received: inits={inits!r}")
    seeds = _non_empty("seeds", seeds)
    if not all(_is_int(s) and s >= 0 for s in seeds):
        raise ValueError(f"`seeds` must hold non-negative integers. Received: seeds={seeds!r}")
    opt_class, opt_config = _optimizer_base(optimizer)
    if learning_rates is None:
        learning_rates = [opt_config.get("learning_rate", opt_class().get_config()["learning_rate"])]
    learning_rates = _checks.sequence(
        "learning_rates", learning_rates, lambda v: _checks.is_real(v) and math.isfinite(v) and v > 0,
        accepted="a non-empty list of positive, finite numbers")
    extra = _hyperparameters(hyperparameters, opt_class)

    # the grid, one row per member: inits x learning rates x extra x seeds
    axes = {"init": list(range(len(inits))), "learning_rate": learning_rates, **extra, "seed": seeds}
    table = pd.DataFrame(list(itertools.product(*axes.values())), columns=list(axes))
    init_index = table["init"].to_numpy()
    table["init"] = [_init_label(inits[i]) for i in init_index]
    table.insert(0, "member", np.arange(len(table)))
    k = len(table)
    vectors = {h: table[h].to_numpy(np.float64) for h in ["learning_rate", *extra]}
    try:
        opt = opt_class.from_config({**opt_config, **{h: v.tolist() for h, v in vectors.items()}})
    except ValueError as error:
        raise ValueError(f"The optimizer rejected the swept values: {error}") from None

    # members built alone (once per initializer and seed), then stacked
    shape_kwargs = _shape_kwargs(builder, data)
    kwargs = {**(model_kwargs or {}), **shape_kwargs}
    alone: dict[tuple[int, int], keras.Model] = {}
    members = []
    for i, seed in zip(init_index, table["seed"]):
        key = (int(i), int(seed))
        if key not in alone:
            alone[key] = builder(init=inits[i], seed=int(seed), **kwargs)
        members.append(alone[key])
    stacked = stack(members, name=re.sub(r"[^A-Za-z0-9_.-]", "", f"{name}_sweep").lstrip("_."))
    del alone, members

    probe = None
    if gradient_norms:
        n_probe = min(_PROBE_SIZE, len(data.x_train))
        probe = (data.x_train[:n_probe], data.y_train[:n_probe])
    engine = make_engine(stacked, opt, data.task,
                         (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test),
                         batch_size, jit_compile=jit_compile, probe=probe, loss_ratio=loss_ratio)
    metric = "accuracy" if data.task == "classification" else "mean_absolute_error"
    timings = {"build_s": time.perf_counter() - start}
    run = _train(engine, data, epochs, patience, shuffle_seed, verbose, metric, timings)

    tick = time.perf_counter()
    use_best = np.isfinite(run["best_val"]) & (patience is not None)
    engine.finish(use_best)
    test = engine.evaluate(data.x_test, data.y_test)
    timings["test_s"] = time.perf_counter() - tick

    hyper = [c for c in table.columns if c != "member"]
    table, history = _tables(table, run, use_best, test, metric)
    grad_frame = None
    if probe is not None:
        grad_frame = _norm_frame(run["norms"], engine.norm_names, engine.norm_index,
                                 table[["member", *hyper]])
    config = {
        "model": name, "shape_kwargs": shape_kwargs,
        "model_kwargs": {k: f"array of shape {np.shape(v)}" if isinstance(v, np.ndarray) else v
                         for k, v in (model_kwargs or {}).items()},
        "optimizer": opt_class.__name__,
        "optimizer_config": {c: v for c, v in opt.get_config().items() if c not in vectors},
        "hyperparameters": hyper, "epochs": epochs, "batch_size": batch_size,
        "patience": patience, "loss_ratio": loss_ratio, "shuffle_seed": shuffle_seed, "metric": metric,
        "data": data.name, "data_source": data.source, "task": data.task,
        "backend": keras.backend.backend(), "members": k,
    }
    return SweepResult(table=table, history=history, gradient_norms=grad_frame,
                       weights=member_weights(stacked), config=config,
                       wall_time_s=time.perf_counter() - start, timings=timings)


def _train(engine, data: Dataset, epochs: int, patience: int | None, shuffle_seed: int,
           verbose: int, metric: str, timings: dict) -> dict:
    """The host's loop over epochs: per-member early stopping, history rows, progress."""
    k = engine.members
    small = {"alive": np.ones(k, bool), "diverged_step": np.full(k, -1, np.int32),
             "step": 0, "first_loss": np.full(k, np.nan, np.float32),
             "best_val": np.full(k, np.inf, np.float32)}
    training = np.ones(k, bool)  # not stopped early
    wait = np.zeros(k, int)  # epochs without a lower validation loss
    stopped_epoch = np.full(k, -1)
    epochs_run = np.zeros(k, int)
    rows, norms = [], []
    if engine.probe is not None:
        norms.append((0, 0, engine.gradient_norms()))
    timings["epoch_s"] = []
    live = ["training", "best_val_loss"]  # shown as they are, not as running means
    progress = (keras.utils.Progbar(epochs, verbose=verbose, stateful_metrics=live, unit_name="epoch")
                if verbose else None)
    for epoch in range(1, epochs + 1):
        active = small["alive"] & training
        if not active.any():
            break
        tick = time.perf_counter()
        out = engine.epoch(batch_order(len(data.x_train), epoch, shuffle_seed), training, small)
        timings["epoch_s"].append(time.perf_counter() - tick)
        small = {n: out[n] for n in small}
        epochs_run += active
        rows.append(pd.DataFrame({
            "member": np.flatnonzero(active), "epoch": epoch,
            "loss": out["loss"][active], metric: out["metric"][active],
            "val_loss": out["val_loss"][active], f"val_{metric}": out["val_metric"][active]}))
        if engine.probe is not None:
            norms.append((int(small["step"]), epoch, engine.gradient_norms()))
        wait = np.where(out["improved"], 0, np.where(active, wait + 1, wait))
        if patience is not None:
            stop = active & small["alive"] & (wait >= patience)
            stopped_epoch[stop] = epoch
            training &= ~stop
        training &= small["alive"]
        if progress is not None:
            val = out["val_loss"][active]
            best = float(np.min(val[np.isfinite(val)])) if np.isfinite(val).any() else float("nan")
            progress.update(epoch, values=[("training", int((small["alive"] & training).sum())),
                                           ("best_val_loss", best)])
    history = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["member", "epoch", "loss", metric, "val_loss", f"val_{metric}"])
    return {**small, "history": history, "norms": norms, "epochs_run": epochs_run,
            "stopped_epoch": stopped_epoch}


def _tables(table: pd.DataFrame, run: dict, use_best: np.ndarray, test, metric: str):
    """The per-member table and the tidy history, both with the hyperparameter columns."""
    k = len(table)
    hyper = [c for c in table.columns if c != "member"]
    history = table[["member", *hyper]].merge(run["history"], on="member", how="right")
    table["epochs_run"] = run["epochs_run"]
    table["best_epoch"] = pd.array(_best_epochs(history, k), dtype="Int64")
    stopped = run["stopped_epoch"]
    table["stopped_epoch"] = pd.array([int(e) if e > 0 else pd.NA for e in stopped], dtype="Int64")
    diverged = run["diverged_step"] >= 0
    table["diverged"] = diverged
    table["diverged_step"] = pd.array([int(s) if d else pd.NA for s, d in
                                       zip(run["diverged_step"], diverged)], dtype="Int64")
    # validation metrics of the weights each member ends with: its best or its last epoch
    final_epoch = np.where(use_best, table["best_epoch"].fillna(0).to_numpy(int), run["epochs_run"])
    final = history.set_index(["member", "epoch"]).reindex(list(zip(table["member"], final_epoch)))
    table["val_loss"] = final["val_loss"].to_numpy(float)
    table[f"val_{metric}"] = final[f"val_{metric}"].to_numpy(float)
    table["test_loss"], table[f"test_{metric}"] = test[0].astype(float), test[1].astype(float)
    return table, history


# ----------------------------------------------------------------------------- helpers


def _builder(model) -> tuple[str, Callable[..., keras.Model]]:
    if isinstance(model, str):
        if model not in BUILDERS:
            raise ValueError(f"`model` must be one of {list(BUILDERS)} or a builder function. "
                             f"Received: model={model!r}")
        return model, BUILDERS[model]
    if callable(model):
        try:
            parameters = inspect.signature(model).parameters
        except (TypeError, ValueError):
            parameters = {}
        if "init" in parameters and "seed" in parameters:
            name = getattr(model, "__name__", type(model).__name__)
            return name, model
    raise ValueError(f"`model` must be one of {list(BUILDERS)} or a builder function taking "
                     f"`init=` and `seed=`. Received: model={model!r}")


def _shape_kwargs(builder, data: Dataset) -> dict:
    parameters = inspect.signature(builder).parameters
    kwargs = {}
    if "input_shape" in parameters:
        kwargs["input_shape"] = tuple(int(d) for d in data.input_shape)
    if "num_classes" in parameters:
        kwargs["num_classes"] = data.num_classes
    return kwargs


def _optimizer_base(optimizer) -> tuple[type, dict]:
    if isinstance(optimizer, str) and optimizer.lower() in _optimizers.available():
        return type(_optimizers.get(optimizer)), {}
    if isinstance(optimizer, type) and issubclass(optimizer, _MEMBER_OPTIMIZERS):
        return optimizer, {}
    if isinstance(optimizer, _MEMBER_OPTIMIZERS):
        config = optimizer.get_config()
        if isinstance(config.get("learning_rate"), dict):
            raise ValueError("`optimizer` must have a constant learning rate in a sweep (the "
                             "rates are per-member vectors). Received: optimizer with learning_rate="
                             f"{config['learning_rate']!r}")
        return type(optimizer), config
    raise ValueError(f"`optimizer` must be a name in {_optimizers.available()}, or a class or "
                     f"instance of nntrain.optimizers. Received: optimizer={optimizer!r}")


def _hyperparameters(hyperparameters, opt_class) -> dict[str, list]:
    if hyperparameters is None:
        return {}
    if not isinstance(hyperparameters, Mapping):
        raise ValueError("`hyperparameters` must be a dict of optimizer hyperparameter names to "
                         f"lists of values. Received: hyperparameters={hyperparameters!r}")
    accepted = sorted(set(opt_class().get_config()) - {"name", "learning_rate"} - set(
        keras.optimizers.Optimizer(learning_rate=0.1).get_config()))
    out = {}
    for name, values in hyperparameters.items():
        if name not in accepted:
            raise ValueError(f"`hyperparameters` keys must be hyperparameters of "
                             f"{opt_class.__name__}: {accepted}. Received: hyperparameters key {name!r}")
        out[name] = _non_empty(f"hyperparameters[{name!r}]", values)
    return out


def _non_empty(name: str, values) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray) or len(values) == 0:
        raise ValueError(f"`{name}` must be a non-empty list. Received: {name}={values!r}")
    return list(values)


def _init_label(init: InitLike) -> str:
    return init if isinstance(init, str) else type(init).__name__


def _best_epochs(history: pd.DataFrame, k: int) -> list:
    """Per member, the first epoch with the lowest finite validation loss (else missing)."""
    best = [pd.NA] * k
    finite = history[np.isfinite(history["val_loss"].to_numpy(float))]
    if len(finite):
        idx = finite.groupby("member")["val_loss"].idxmin()
        for member, i in idx.items():
            best[int(member)] = int(finite.loc[i, "epoch"])
    return best


def _norm_frame(norms, names, index, members: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for step, epoch, values in norms:  # values: (layers, K)
        for row, i in enumerate(index):
            layer, variable = names[i].rsplit("/", 1)
            frames.append(pd.DataFrame({"member": members["member"], "step": step, "epoch": epoch,
                                        "layer": layer, "variable": variable,
                                        "norm": values[row].astype(float)}))
    frame = pd.concat(frames, ignore_index=True)
    return members.merge(frame, on="member", how="right")
