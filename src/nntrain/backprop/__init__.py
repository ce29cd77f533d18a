"""A scalar reverse-mode autodiff engine, small enough to read in one sitting.

Every arithmetic operation on :class:`Scalar` values records a node of a computational
graph: its inputs and ONE closure that returns the *local* gradients
:math:`\\partial\\, \\text{out} / \\partial\\, \\text{input}_k` of that operation.
:meth:`Scalar.backward` then applies the chain rule once, in one loop over the nodes in
reverse topological order,

.. math::

    \\bar v_k \\mathrel{+}= \\frac{\\partial v}{\\partial v_k} \\, \\bar v
    \\qquad \\text{for every node } v \\text{ and each of its inputs } v_k,

where :math:`\\bar v = \\partial y / \\partial v` is the ``grad`` of node :math:`v`. The
``+=`` is what makes two paths that meet at a node add up (the multivariate chain rule).

Example:
    >>> a, b = Scalar(2.0, "a"), Scalar(1.0, "b")
    >>> y = (a + b) * (b + 1)
    >>> y.backward()
    >>> y.value, a.grad, b.grad
    (6.0, 2.0, 5.0)

References:
    Rumelhart, Hinton and Williams (1986), Learning representations by back-propagating
    errors, https://doi.org/10.1038/323533a0; Baydin et al. (2018),
    Automatic Differentiation in Machine Learning: a Survey, https://arxiv.org/abs/1502.05767;
    Karpathy (2020), micrograd, https://github.com/karpathy/micrograd

The engine is in ``scalar.py``; ``graph.py`` turns a graph into a table or a figure.
"""

from .graph import draw, trace
from .scalar import Scalar

__all__ = ["Scalar", "draw", "trace"]
