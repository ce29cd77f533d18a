r"""Finding and scheduling the learning rate.

* :func:`range_test` / :class:`LRRangeTest`: the learning-rate range test of Smith (2017),
  which grows the rate exponentially per mini-batch, records the smoothed loss, stops at
  divergence and :func:`suggest`\ s a rate (:func:`plot` draws it);
* :func:`sharpness`: the largest curvature :math:`\lambda_{\max}` of a network's loss, the
  quantity behind the stability threshold :math:`\eta < 2/\lambda_{\max}`;
* :class:`ScheduledSGD`: SGD with a per-member schedule, so that one :func:`nntrain.sweep`
  compares learning-rate schedules;
* :func:`train_in_phases`: a run whose batch size and learning rate change at chosen epochs
  (growing the batch instead of decaying the rate, Smith et al. 2018).

Example:
    >>> import nntrain as nt
    >>> data = nt.load("mnist")
    >>> frame = nt.lr_finder.range_test(nt.models.mlp(), data, "sgd")
    >>> frame.attrs["suggestion"]
"""

from .phases import train_in_phases
from .range_test import LRRangeTest, plot, range_test, suggest
from .scheduled import ScheduledSGD
from .sharpness import sharpness

__all__ = [
    "LRRangeTest",
    "ScheduledSGD",
    "plot",
    "range_test",
    "sharpness",
    "suggest",
    "train_in_phases",
]
