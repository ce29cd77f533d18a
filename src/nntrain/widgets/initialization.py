r"""Explorer 3: initialization in depth, the picture of Glorot & Bengio (2010).

Choose an initializer, an activation and a depth; the figure shows, for a few hidden
layers from the first to the last, the histogram of the layer's activations
:math:`a_l = \phi(W_l a_{l-1} + b_l)` on a batch of real MNIST images, and the histogram of
:math:`\log_{10}|g|` for the gradient :math:`g` of the loss with respect to the layer's
weights :math:`W_l`, at initialization. With a good initializer for the activation
(Glorot's for tanh, He's for ReLU) both histograms keep their shape through depth; with a
poor one the activations collapse or saturate and the gradients vanish or explode,
shifting by orders of magnitude from layer to layer.

The live face computes a new combination when asked (a forward and a backward pass of a
:func:`nntrain.models.deep_mlp`, with a progress bar) and caches it; the static twin holds
every combination of the explorer's grid, as binned counts, not raw samples.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import ipywidgets
import keras
import matplotlib.figure
import numpy as np
import pandas as pd

from .. import _checks
from .. import diagnostics, models
from ..data import Dataset
from ._base import Explorer
from ._static import csv_data

__all__ = ["InitializationExplorer", "explore_initialization"]

# Histogram bins per layer: enough for a shape, few enough for a light page.
_BINS = 30
# Hidden layers shown per configuration, spread from the first to the last.
_SHOWN = 5
# Fixed x ranges of the activation histograms, by activation (ReLU's tail is cut at 4).
_ACTIVATION_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, 4.0)}
# Fixed range of log10 |gradient|: from vanished (1e-12) to large (10).
_GRADIENT_RANGE = (-12.0, 1.0)


def shown_layers(depth: int, count: int = _SHOWN) -> list[int]:
    """Up to ``count`` hidden layers (numbered from 1) spread evenly from the first to the last."""
    return sorted({int(round(v)) for v in np.linspace(1, depth, min(count, depth))})


class InitializationExplorer(Explorer):
    """Per-layer histograms of activations and weight gradients at initialization.

    Attributes:
        data: ``histograms``: one row per (init, activation, depth, kind, layer, bin) with
            ``center`` and ``height`` (the bin's count over the layer's largest count);
            ``stats``: one row per (init, activation, depth, layer) with ``activation_std``
            and ``gradient_std``. Both grow as the live face computes new combinations.
    """

    key = "init"
    title = "Initialization in depth: activations and weight gradients per layer"

    def __init__(self, data: Dataset, inits: list[str], activations: list[str],
                 depths: list[int], width: int, examples: int):
        super().__init__()
        self.inits, self.activations, self.depths = inits, activations, depths
        self.width = width
        self.x = np.asarray(data.x_train[:examples], dtype="float32")
        self.y = np.asarray(data.y_train[:examples])
        self.source = data.source
        self._cache: dict[tuple[str, str, int], tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._hist: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # (config, kind, layer) -> heights, edges
        figure = matplotlib.figure.Figure(figsize=(9.0, 3.4), dpi=90, layout="constrained")
        self._axes = figure.subplots(1, 2)
        self._shown_activation: str | None = None
        controls = {
            "init": ipywidgets.Dropdown(options=inits, description="init"),
            "activation": ipywidgets.Dropdown(options=activations, description="activation"),
            "depth": ipywidgets.SelectionSlider(options=depths, value=depths[len(depths) // 2],
                                                description="depth"),
        }
        self._build(controls, figure)

    # ------------------------------------------------------------------ data

    @property
    def data(self) -> dict[str, pd.DataFrame]:
        if not self._cache:
            return {"histograms": pd.DataFrame(), "stats": pd.DataFrame()}
        histograms, stats = zip(*self._cache.values())
        return {"histograms": pd.concat(histograms, ignore_index=True),
                "stats": pd.concat(stats, ignore_index=True)}

    @data.setter
    def data(self, value) -> None:  # the base class sets an empty dict; the cache is the data
        pass

    def compute(self, init: str, activation: str, depth: int, progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Histograms and per-layer statistics of one configuration (cached).

        Builds ``nt.models.deep_mlp(depth, width, activation, init, seed=0)``, runs the
        batch forward (the hidden layers' outputs) and backward
        (:func:`nntrain.diagnostics.gradients`, the mean cross-entropy's gradient).
        """
        key = (init, activation, int(depth))
        if key in self._cache:
            return self._cache[key]
        model = models.deep_mlp(depth, self.width, activation=activation, init=init,
                                input_shape=self.x.shape[1:], num_classes=int(self.y.max()) + 1, seed=0)
        layers = shown_layers(depth)
        probe = keras.Model(model.input, [model.get_layer(f"hidden_{l}").output for l in layers])
        outputs = probe(self.x, training=False)
        outputs = [keras.ops.convert_to_numpy(o) for o in (outputs if isinstance(outputs, list) else [outputs])]
        if progress is not None:
            progress.value = 0.5
        grads = diagnostics.gradients(model, self.x, self.y, loss="sparse_categorical_crossentropy")
        rows, stats = [], []
        act_edges = np.linspace(*_ACTIVATION_RANGE.get(activation, (-3.0, 3.0)), _BINS + 1)
        grad_edges = np.linspace(*_GRADIENT_RANGE, _BINS + 1)
        for layer, a in zip(layers, outputs):
            g = grads[f"hidden_{layer}/kernel"]
            for kind, values, edges in (("activation", a[a != 0], act_edges),
                                        ("gradient", np.log10(np.abs(g[g != 0])), grad_edges)):
                counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
                self._hist[key + (kind, layer)] = (counts / max(counts.max(), 1), edges)
                rows.append(pd.DataFrame({"kind": kind, "layer": layer,
                                          "center": (edges[:-1] + edges[1:]) / 2,
                                          "height": counts / max(counts.max(), 1)}))
            stats.append({"layer": layer, "activation_std": float(a.std()),
                          "gradient_std": float(g.std()), "zero_activations": float(np.mean(a == 0))})
        labels = {"init": init, "activation": activation, "depth": int(depth)}
        result = (pd.concat(rows, ignore_index=True).assign(**labels),
                  pd.DataFrame(stats).assign(**labels))
        self._cache[key] = result
        return result

    # ------------------------------------------------------------------ live face

    def _draw(self, values: dict) -> None:
        init, activation, depth = values["init"], values["activation"], values["depth"]
        if (init, activation, depth) not in self._cache:
            with self.busy(f"computing {init} / {activation} / depth {depth}…") as bar:
                self.compute(init, activation, depth, progress=bar)
        ax_act, ax_grad = self._axes
        if activation != self._shown_activation:  # the x ranges change with the activation
            self._restage()
            for ax in self._axes:
                ax.clear()
                ax.set_ylim(0, 1.05)
                ax.set_ylabel("count / largest count")
            ax_act.set_xlim(*_ACTIVATION_RANGE.get(activation, (-3.0, 3.0)))
            ax_act.set_xlabel(f"nonzero activations $a_l$ ({activation})")
            ax_grad.set_xlim(*_GRADIENT_RANGE)
            ax_grad.set_xlabel(r"$\log_{10} |\partial L / \partial W_l|$ (nonzero entries)")
            colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, _SHOWN))
            self._stairs = {kind: [ax.stairs([0.0], [0.0, 1.0], color=c, linewidth=1.5) for c in colors]
                            for ax, kind in zip(self._axes, ("activation", "gradient"))}
            legend = ax_grad.legend(handles=self._stairs["gradient"],
                                    labels=[f"layer {i}" for i in range(_SHOWN)], loc="upper left", fontsize=8)
            title = ax_act.set_title(" ")
            self._animate(*self._stairs["activation"], *self._stairs["gradient"], legend, title)
            self._shown_activation = activation
        *_, legend, title = self._animated
        layers = shown_layers(depth)
        for kind, stairs in self._stairs.items():
            for index, artist in enumerate(stairs):
                artist.set_visible(index < len(layers))
                if index < len(layers):
                    artist.set_data(*self._hist[(init, activation, depth, kind, layers[index])])
        for index, text in enumerate(legend.get_texts()):
            text.set_text(f"layer {layers[index]}" if index < len(layers) else "")
        for index, handle in enumerate(legend.legend_handles):
            handle.set_visible(index < len(layers))
        title.set_text(f"{init}, {activation}, depth {depth}: activations")

    # ------------------------------------------------------------------ static twin

    def static_spec(self) -> dict:
        import altair as alt  # the book extra: only static twins need it
        combos = [(i, a, d) for i in self.inits for a in self.activations for d in self.depths]
        for number, (i, a, d) in enumerate(combos):
            self.compute(i, a, d)
        frame = self.data["histograms"]
        frame = frame.assign(i=frame["init"].map(self.inits.index),
                             a=frame["activation"].map(self.activations.index),
                             k=(frame["kind"] == "gradient").astype(int))
        init = alt.param(name="init", value=0, bind=alt.binding_select(
            options=list(range(len(self.inits))), labels=self.inits, name="init "))
        act = alt.param(name="activation", value=0, bind=alt.binding_select(
            options=list(range(len(self.activations))), labels=self.activations, name="activation "))
        depth = alt.param(name="depth", value=self.depths[len(self.depths) // 2],
                          bind=alt.binding_select(options=self.depths, name="depth "))
        base = alt.Chart(csv_data(frame[["i", "a", "depth", "k", "layer", "center", "height"]], digits=3))
        base = base.transform_filter("datum.i == init && datum.a == activation && datum.depth == depth")
        color = alt.Color("layer:O", scale=alt.Scale(scheme="viridis"), title="layer")
        panels = []
        for kind, title in ((0, "nonzero activations a_l"), (1, "log₁₀ |∂L/∂W_l| (nonzero entries)")):
            x = alt.X("center:Q", title=title)
            panels.append(base.transform_filter(f"datum.k == {kind}").mark_line(
                interpolate="step", strokeWidth=1.5).encode(
                x=x, y=alt.Y("height:Q", title="count / largest count", scale=alt.Scale(domain=[0, 1.05])),
                color=color).properties(width=260, height=220))
        spec = alt.hconcat(*panels).add_params(init, act, depth).to_dict()
        spec["title"] = {"anchor": "start", "text": {
            "expr": f"{json.dumps(self.inits)}[init] + ', ' + {json.dumps(self.activations)}[activation]"
                    " + ', depth ' + depth"}}
        return spec


def explore_initialization(
    data: Dataset,
    inits: Sequence[str] = ("xavier_normal", "he_normal", "random_normal"),
    activations: Sequence[str] = ("tanh", "relu", "sigmoid"),
    depths: Sequence[int] = (2, 5, 10),
    width: int = 64,
    examples: int = 256,
) -> InitializationExplorer:
    """Explore how the initializer and the activation shape activations and gradients in depth.

    Args:
        data: a classification :class:`nntrain.Dataset` (e.g. ``nt.load("mnist")``); the
            first ``examples`` training images are the batch.
        inits: initializer names (see :func:`nntrain.initializers.available` and Keras's).
        activations: from ``"tanh"``, ``"relu"``, ``"sigmoid"``.
        depths: the depths to offer (hidden layers), increasing.
        width: units per hidden layer.
        examples: images in the batch.

    Returns:
        An :class:`InitializationExplorer`.

    References:
        Glorot, X. & Bengio, Y. (2010). Understanding the difficulty of training deep
        feedforward neural networks. *AISTATS*. https://proceedings.mlr.press/v9/glorot10a.html
    """
    if not isinstance(data, Dataset) or data.num_classes is None:
        raise ValueError(f"`data` must be a classification nntrain Dataset (nt.load('mnist')). "
                         f"Received: data={type(data).__name__}")
    from .. import initializers as _initializers

    for name, values, known in (("inits", inits, _initializers._lookup),
                                ("activations", activations, _ACTIVATION_RANGE.get)):
        names = _initializers.available() if name == "inits" else list(_ACTIVATION_RANGE)
        accepted = f"a non-empty list of distinct names from {names}"
        members = _checks.sequence(name, values, lambda v: isinstance(v, str) and known(v) is not None,
                                   accepted=accepted)
        if len(set(members)) != len(members):
            _checks.fail(name, accepted, values)
    accepted = "increasing integers from 1 to 100"
    members = _checks.sequence("depths", depths, lambda d: _checks.is_int(d) and 1 <= d <= 100, accepted=accepted)
    if members != sorted(set(members)):
        _checks.fail("depths", accepted, depths)
    for name, value in (("width", width), ("examples", examples)):
        _checks.integer(name, value, minimum=1)
    return InitializationExplorer(data, list(inits), list(activations), [int(d) for d in depths],
                                  int(width), int(examples))
