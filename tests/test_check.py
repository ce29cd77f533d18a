"""Tests of nntrain.check: right answers pass, wrong ones get the hint, bad names raise."""

import numpy as np
import pytest

from nntrain import check


@check.register("test.sum")
def _sum(answer):
    return check.close(answer, [1.0, 2.0], hint="add the two paths")


def test_a_right_answer_is_correct_and_truthy():
    feedback = check.exercise("test.sum", np.array([1.0, 2.0 + 1e-7]))
    assert feedback and feedback.correct
    assert str(feedback).startswith("✔")


@pytest.mark.parametrize("answer, words", [
    ([1.0, 2.5], "add the two paths"),
    ([1.0], "shape (1,)"),
    ("two", "not str"),
    ([np.nan, 2.0], "NaN"),
])
def test_a_wrong_answer_gets_a_hint(answer, words):
    feedback = check.exercise("test.sum", answer)
    assert not feedback
    assert words in str(feedback)
    assert "add the two paths" in str(feedback)
    assert "#D55E00" in feedback._repr_html_()


def test_equal_ignores_case_and_spacing():
    assert check.equal(" He  Normal", "he normal", hint="h")
    assert not check.equal("xavier", "he normal", hint="h")
    assert not check.equal(object(), 3, hint="h")


def test_unknown_exercises_and_bad_names_raise():
    with pytest.raises(ValueError, match=r"`name` must be one of .*Received: name='nope.x'"):
        check.exercise("nope.x", 1)
    with pytest.raises(ValueError, match=r"Received: name='plain'"):
        check.register("plain")
    assert "test.sum" in check.available()


def test_every_exercise_a_notebook_checks_is_registered_and_every_registered_one_is_used():
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    call = re.compile(r"""\bexercise\(\s*["']([\w.-]+)["']""")
    used = {}
    for path in sorted([*root.glob("chapters/*.ipynb"), *root.glob("labs/*.ipynb")]):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                for name in call.findall("".join(cell["source"])):
                    used.setdefault(name, path.name)
    registered = {name for name in check.available() if not name.startswith(("test.", "demo."))}
    assert used, "no notebook calls nt.check.exercise: the pattern above is out of date"
    unknown = {name: nb for name, nb in used.items() if name not in registered}
    assert not unknown, f"notebooks check exercises that no module registers: {unknown}"
    unused = sorted(registered - set(used))
    assert not unused, f"registered exercises that no notebook checks: {unused}"
