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
of parameters grows.

References:
    Rumelhart, Hinton and Williams (1986), Learning representations by back-propagating
    errors, https://doi.org/10.1038/323533a0; Goodfellow, Bengio and Courville (2016),
    Deep Learning, section 11.5, https://www.deeplearningbook.org; Karpathy et al., CS231n
    notes on gradient checks, https://cs231n.github.io/neural-networks-3/#gradcheck

The package is one file per part: ``numerical.py`` (finite differences and the check),
``network.py`` (the network), ``cost.py`` (the measurement), ``autodiff.py`` (JAX in
float64, for the checks that compare with automatic differentiation).
"""

from .autodiff import jax_float64
from .cost import cost_comparison
from .network import ACTIVATIONS, TwoLayerNet
from .numerical import gradient_check, numerical_gradient, relative_error

__all__ = [
    "ACTIVATIONS",
    "TwoLayerNet",
    "cost_comparison",
    "gradient_check",
    "jax_float64",
    "numerical_gradient",
    "relative_error",
]
