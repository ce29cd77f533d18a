"""Checks for the lab "The initialization case study, reproduced and improved"."""

from __future__ import annotations

from ._core import Feedback, close, equal, register

# The case study's six initializers, by their nntrain names (see nntrain.published).
_SIX = {"zeros", "random_normal", "xavier_uniform", "he_normal", "lecun_normal", "orthogonal"}


@register("case_study.leak")
def _leak(answer: object) -> Feedback:
    """Which choice of the case study lets the test set influence the model? (a letter)"""
    return equal(answer, "b", hint=(
        "Look for the choice that makes the test split decide something during training: "
        "which data does the early-stopping callback watch?"))


@register("case_study.inits")
def _inits(answer: object) -> Feedback:
    """The six initializers of the case study, as a list of nntrain names."""
    try:
        names = {str(a).lower() for a in answer}
    except TypeError:
        return Feedback(False, "Give a list of initializer names, e.g. ['zeros', ...].")
    missing, extra = sorted(_SIX - names), sorted(names - _SIX)
    if not missing and not extra:
        return Feedback(True, "Well done.")
    return Feedback(False, f"Missing {missing}; not in the case study {extra}. The table of "
                           "nt.published.case_study() lists them in its `init` column.")


@register("case_study.chance")
def _chance(answer: object) -> Feedback:
    """The accuracy of a classifier that predicts one class for every MNIST digit."""
    return close(answer, 0.1, rtol=0.15, hint=(
        "A constant prediction is right exactly for the examples of that one class; MNIST's "
        "ten classes are about equally frequent."))
