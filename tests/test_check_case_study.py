"""The case-study lab's checkers accept the solutions and reject typical wrong answers."""

from nntrain import check


def test_leak():
    assert check.exercise("case_study.leak", "B")
    assert not check.exercise("case_study.leak", "a")


def test_inits():
    six = ["zeros", "random_normal", "xavier_uniform", "he_normal", "lecun_normal", "orthogonal"]
    assert check.exercise("case_study.inits", six)
    feedback = check.exercise("case_study.inits", six[:-1] + ["sparse"])
    assert not feedback and "['orthogonal']" in str(feedback) and "['sparse']" in str(feedback)
    assert not check.exercise("case_study.inits", 3)


def test_chance():
    assert check.exercise("case_study.chance", 0.1135)
    assert not check.exercise("case_study.chance", 0.5)
