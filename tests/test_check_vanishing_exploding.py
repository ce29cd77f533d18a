"""The vanishing-and-exploding chapter's checkers accept the solutions and reject typical wrong
answers; its gallery trains four runs that show the four diagnoses."""

import numpy as np
import pytest

import nntrain as nt
from nntrain import check
from nntrain.check import vanishing_exploding as ve

ANSWER = {"A": "learning rate too high", "B": "dead ReLUs", "C": "NaN loss", "D": "saturation"}


def test_gallery_answer_is_accepted_in_any_case_and_spacing():
    assert check.exercise("vanishing_exploding.gallery", ANSWER)
    assert check.exercise("vanishing_exploding.gallery", {k: f" {v.upper()} " for k, v in ANSWER.items()})
    assert set(ANSWER.values()) == set(ve.GALLERY_CHOICES)


def test_gallery_wrong_answers_get_a_hint_about_the_first_wrong_run():
    swapped = check.exercise("vanishing_exploding.gallery", dict(ANSWER, A="dead ReLUs", B="learning rate too high"))
    assert not swapped and "2 of 4 right" in str(swapped) and "run A" in str(swapped)
    one = check.exercise("vanishing_exploding.gallery", dict(ANSWER, D="NaN loss"))
    assert not one and "3 of 4 right" in str(one) and "run D" in str(one) and "step 0" in str(one)
    for bad in ["saturation", {"A": "NaN loss"}, ["A", "B", "C", "D"]]:
        feedback = check.exercise("vanishing_exploding.gallery", bad)
        assert not feedback and "dict" in str(feedback)


def test_clip_norm_and_clip_value():
    assert check.exercise("vanishing_exploding.clip_norm", [1.5, -2, 6, 0, 0, 0])
    by_value = check.exercise("vanishing_exploding.clip_norm", [3, -4, 6.5, 0, 0, 0])
    assert not by_value and "clipping by value" in str(by_value)
    assert not check.exercise("vanishing_exploding.clip_norm", [3, -4, 12, 0, 0, 0])
    assert not check.exercise("vanishing_exploding.clip_norm", [1.5, -2, 6])
    assert check.exercise("vanishing_exploding.clip_value", np.array([2.0, -2.0, 2.0, 0.0, 0.0, 0.0]))
    assert not check.exercise("vanishing_exploding.clip_value", [1.5, -2, 6, 0, 0, 0])


def test_rnn_steps():
    assert check.exercise("vanishing_exploding.rnn_steps", 44)
    short = check.exercise("vanishing_exploding.rnn_steps", 43)
    assert not short and "round up" in str(short)
    assert not check.exercise("vanishing_exploding.rnn_steps", 100)
    assert not check.exercise("vanishing_exploding.rnn_steps", "44 steps")


@pytest.fixture(scope="module")
def runs():
    nt.setup(profile="smoke")
    return ve.gallery(nt.load("digits", profile="smoke"), steps=12)


def test_gallery_runs_show_their_diagnoses(runs):
    assert list(runs) == ["A", "B", "C", "D"]
    frames = {label: monitor.frames() for label, monitor in runs.items()}
    hidden = {label: f["activations"].query("layer != 'output'") for label, f in frames.items()}
    # C: the loss stops being finite within the first steps
    assert not np.isfinite(frames["C"]["loss"]["loss"]).all()
    assert np.isfinite(frames["A"]["loss"]["loss"]).all() and np.isfinite(frames["D"]["loss"]["loss"]).all()
    # D: saturated from the start; A: not at the start
    saturated = hidden["D"].query("step == 0")["saturated"]
    assert saturated.mean() > 0.6 and saturated.min() > 0.4, saturated  # measured 0.48-0.73
    assert hidden["A"].query("step == 0")["saturated"].max() < 0.5
    # B: ReLUs dead by the end, more than in any other run
    dead_b = hidden["B"].query("step == step.max()")["dead"]
    assert dead_b.mean() > 0.3
    # every run was trained for at least 12 steps unless it diverged
    assert all(len(f["loss"]) >= 12 for label, f in frames.items() if label != "C")


def test_gallery_bad_input():
    with pytest.raises(ValueError, match=r"`data` must be a classification Dataset.*Received: data="):
        ve.gallery(nt.load("california_housing", profile="smoke"))
    with pytest.raises(ValueError, match=r"`steps` must be a positive integer\. Received: steps=0"):
        ve.gallery(nt.load("digits", profile="smoke"), steps=0)
