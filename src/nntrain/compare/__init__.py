r"""Compare optimizers fairly, and probe what they do with the gradients they are given.

Which optimizer is "best" is a question with a trap in it: every optimizer has its own
scale of learning rate (Adam's usual rate is a hundred times smaller than SGD's), so
comparing them at one shared rate, or at each library's default, mostly measures how well
that rate happens to suit each of them. Schmidt et al. (2021) compare optimizers the fair
way: tune each one's learning rate on its own, repeat every setting over several seeds,
and report the spread. Two modules:

* :mod:`~nntrain.compare.tuning`: :func:`tune_each` (one :func:`nntrain.sweep` per
  optimizer over its own learning-rate grid and several seeds, summarized by a
  :class:`Comparison`) and :func:`surface_race` (each optimizer at its best rate on a 2-D
  surface of :mod:`nntrain.surfaces`);
* :mod:`~nntrain.compare.probes`: :func:`gradient_alignment` (how well mini-batch gradients
  point along the full gradient), :func:`updates` (the steps an optimizer takes for a given
  stream of gradients) and :func:`train_steps` (a model trained on given batches, in order,
  with a compiled step, to compare two optimizers weight for weight).

Example:
    >>> import nntrain as nt
    >>> from nntrain import compare
    >>> data = nt.load("california_housing")
    >>> result = compare.tune_each("regression", data, ["sgd", "adam"],
    ...                            learning_rates=[1e-3, 1e-2, 1e-1], seeds=[0, 1])
    >>> result.best()[["learning_rate", "val_loss_mean", "test_loss_mean"]]

References:
    Schmidt, R. M., Schneider, F. & Hennig, P. (2021). Descending through a crowded valley:
    benchmarking deep learning optimizers. *ICML*. https://arxiv.org/abs/2007.01547
"""

from .probes import gradient_alignment, train_steps, updates
from .tuning import Comparison, surface_race, tune_each

__all__ = [
    "Comparison",
    "gradient_alignment",
    "surface_race",
    "train_steps",
    "tune_each",
    "updates",
]
