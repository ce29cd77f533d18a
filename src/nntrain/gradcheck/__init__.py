"""Gradient checking with central differences, and a two-layer network written out in NumPy.

Backpropagation computes every partial derivative of a loss in one backward pass; a
*numerical* gradient estimates each one separately from two evaluations of the loss, by
central differences (:math:`e_i` is the :math:`i`-th unit vector, :math:`\\epsilon` the step):

.. math::

    \\frac{\\partial L}{\\partial \\theta_i} \\approx
    \\frac{L(\\theta + \\epsilon e_i) - L(\\theta - \\epsilon e_i)}{2 \\epsilon},
    \\qquad \\text{error } O(\\epsilon^2).

The estimate is slow (:math:`2P` loss evaluations for :math:`P` parameters) but independent
of the code being tested, which is what makes it a check: :func:`gradient_check` compares it
with an analytic gradient through the relative error of :func:`relative_error`.
:class:`TwoLayerNet` is the chapter's network with its backward pass written by hand, and
:func:`cost_comparison` measures what each way of computing the gradient costs as the number
of parameters grows. The same checks verify batch and layer normalization written out by
hand (:func:`batch_norm_forward`, :func:`batch_norm_backward` and their layer-normalization
twins), whose backward pass mixes the examples of a batch.

References:
    Rumelhart, Hinton and Williams (1986), Learning representations by back-propagating
    errors, https://doi.org/10.1038/323533a0; Ioffe and Szegedy (2015), Batch normalization,
    https://arxiv.org/abs/1502.03167; Ba, Kiros and Hinton (2016), Layer normalization,
    https://arxiv.org/abs/1607.06450; Goodfellow, Bengio and Courville (2016),
    Deep Learning, section 11.5, https://www.deeplearningbook.org; Karpathy et al., CS231n
    notes on gradient checks, https://cs231n.github.io/neural-networks-3/#gradcheck

The package is one file per part: ``numerical.py`` (finite differences and the check),
``network.py`` (the network), ``normalization.py`` (batch and layer normalization, forward,
backward and moving statistics), ``cost.py`` (the measurement), ``autodiff.py`` (JAX in
float64, for the checks that compare with automatic differentiation).
"""

from .autodiff import jax_float64
from .cost import cost_comparison
from .network import ACTIVATIONS, TwoLayerNet
from .normalization import (
    NormCache,
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_inference,
    layer_norm_backward,
    layer_norm_forward,
    update_moving_statistics,
)
from .numerical import gradient_check, numerical_gradient, relative_error

__all__ = [
    "ACTIVATIONS",
    "NormCache",
    "TwoLayerNet",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_inference",
    "cost_comparison",
    "gradient_check",
    "jax_float64",
    "layer_norm_backward",
    "layer_norm_forward",
    "numerical_gradient",
    "relative_error",
    "update_moving_statistics",
]
