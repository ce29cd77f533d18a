"""Train a whole grid of models at once: :func:`sweep` and its :class:`SweepResult`.

Comparing initializers and learning rates means training many small models. A sweep
builds every member of the grid alone (so each starts exactly where it would alone),
stacks them into one Keras model whose weights carry a leading member axis
(:mod:`nntrain.sweeps.layers`), and trains them together on the same mini-batches with a
compiled loop that visits the host once per epoch (:mod:`nntrain.sweeps.engine`).

Example:
    >>> import nntrain as nt
    >>> data = nt.data.load("mnist")
    >>> result = nt.sweep("mlp", data, inits=["xavier_uniform", "he_normal"],
    ...                   learning_rates=[1e-3, 3e-3], seeds=[0, 1, 2], epochs=5)
    >>> result.best("val_accuracy")
"""

from .grid import BUILDERS, batch_order, sweep
from .stacking import member_weights, set_member_weights, stack
from .result import SweepResult

__all__ = [
    "BUILDERS",
    "SweepResult",
    "batch_order",
    "member_weights",
    "set_member_weights",
    "stack",
    "sweep",
]
