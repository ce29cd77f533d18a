"""Explorers: ipywidgets in a kernel, with a static twin that still responds on the website.

Each explorer is one call from a notebook and is shown by leaving it as the cell's value:

=============================  ===========================================================
``explore_learning_rate()``    the learning rate on a 2-D loss surface (path and loss)
``explore_sweep(result)``      learning rate x initializer: curves of a sweep, over seeds
``explore_initialization(d)``  initializer x activation x depth: per-layer histograms
``explore_optimizers()``       optimizers side by side on a 2-D loss surface
``explore_playground()``       small MLPs on 2-D problems: decision boundary and loss
=============================  ===========================================================

Every explorer has two faces (:mod:`nntrain.widgets._base`): the live one, ipywidgets
controls over a matplotlib figure, in JupyterLab, Colab and Binder; and a static twin on
the course website, a Vega-Lite chart computed ahead from the same data whose controls
work in the reader's browser with no kernel and no network (:mod:`nntrain.widgets._static`).

Example:
    >>> import nntrain as nt
    >>> explorer = nt.widgets.explore_learning_rate()
    >>> explorer.set(surface="quadratic", learning_rate=10 ** -0.75).verdict("quadratic", 10 ** -0.75)
    'oscillates'
"""

from __future__ import annotations

from ._base import Explorer
from .initialization import InitializationExplorer, explore_initialization
from .learning_rate import LearningRateExplorer, explore_learning_rate
from .optimizers import OptimizerExplorer, explore_optimizers
from .playground import PlaygroundExplorer, explore_playground
from .sweep import SweepExplorer, explore_sweep

__all__ = [
    "Explorer",
    "InitializationExplorer",
    "LearningRateExplorer",
    "OptimizerExplorer",
    "PlaygroundExplorer",
    "SweepExplorer",
    "explore_initialization",
    "explore_learning_rate",
    "explore_optimizers",
    "explore_playground",
    "explore_sweep",
]
