"""The claims ledger (nntrain.ledger) and the run's seed (NNTRAIN_SEED, cfg.seed)."""

from __future__ import annotations

import json

import pytest

import nntrain as nt
from nntrain import ledger
from nntrain.profiles import default_seed

IPython = pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

CLAIM_CELL = """# Claim: x is small, and the ratio lies in its band.
x = 0.05
assert x < 0.37, x
assert 0.01 < x < 0.1
for i in range(3):
    assert i <= 2
np.testing.assert_allclose(1.0, 1.0 + 1e-9)"""
FALSE_CELL = "# Claim: x is large.\nassert x > 1, ('too small', x)"


@pytest.fixture
def shell(tmp_path):
    """An IPython shell recording its asserts into tmp_path/ledger; undone afterwards."""
    ip = InteractiveShell.instance()
    transformers, hook = list(ip.ast_transformers), ip.user_ns.pop("__nntrain_claim__", None)
    path = ledger.record_asserts(tmp_path / "ledger", shell=ip)
    ip.run_cell("import numpy as np")
    yield ip, path
    ip.ast_transformers[:] = transformers
    for callback in list(ip.events.callbacks["pre_run_cell"]):
        if getattr(callback, "__self__", None).__class__.__name__ == "_CellTransformer":
            ip.events.unregister("pre_run_cell", callback)
    ip.user_ns.pop("__nntrain_claim__", None)
    if hook is not None:
        ip.user_ns["__nntrain_claim__"] = hook


def _notebook(tmp_path, *sources):
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {"tags": ["remove-cell"]},
              "execution_count": None, "outputs": [], "source": s} for i, s in enumerate(sources)]
    path = tmp_path / "claims.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_asserts_are_recorded_with_their_operands_and_margins(shell, tmp_path):
    ip, path = shell
    assert ip.run_cell(CLAIM_CELL).success
    records = [json.loads(line) for line in path.read_text().splitlines()][1:]
    first = records[0]
    assert first["source"] == "x < 0.37" and first["values"] == [0.05, 0.37] and first["ok"]
    assert first["margin"] == pytest.approx((0.37 - 0.05) / 0.37)
    chained = records[1]
    assert chained["ops"] == ["<", "<"] and chained["margin"] == pytest.approx(0.5)  # (0.1 - 0.05) / 0.1
    assert [r["values"] for r in records[2:5]] == [[0, 2], [1, 2], [2, 2]]
    assert records[5]["source"].startswith("np.testing.assert_allclose") and records[5]["ok"]


def test_a_false_claim_still_fails_with_its_message(shell):
    ip, path = shell
    ip.run_cell("x = 0.05")
    result = ip.run_cell(FALSE_CELL)
    assert isinstance(result.error_in_exec, AssertionError)
    assert result.error_in_exec.args == (("too small", 0.05),)
    result = ip.run_cell("np.testing.assert_allclose(1.0, 2.0)")
    assert isinstance(result.error_in_exec, AssertionError)
    failed = [json.loads(line) for line in path.read_text().splitlines()][-2:]
    assert [r["ok"] for r in failed] == [False, False] and failed[0]["margin"] < 0
    assert "Not equal to tolerance" in failed[1]["error"]


def test_collect_finds_the_notebook_cell_and_the_claim_in_words(shell, tmp_path):
    ip, path = shell
    ip.run_cell(CLAIM_CELL)
    ip.run_cell(FALSE_CELL)
    notebook = _notebook(tmp_path, CLAIM_CELL, FALSE_CELL)
    table = ledger.claims(ledger.collect(path.parent, [notebook]))
    assert table["cell"].tolist() == [0, 0, 0, 0, 1]
    assert table.loc[0, "claim"] == "Claim: x is small, and the ratio lies in its band."
    loop = table[table["check"] == "i <= 2"].iloc[0]
    assert loop["times"] == 3 and loop["margin"] == 0.0 and loop["got"] == "2 <= 2"  # the worst case
    assert table["ok"].tolist() == [True, True, True, True, False]


def test_summarize_marks_failures_and_checks_a_run_never_reached(shell, tmp_path):
    ip, path = shell
    ip.run_cell(CLAIM_CELL)
    ip.run_cell(FALSE_CELL)
    other = tmp_path / "other"
    other.mkdir()
    lines = path.read_text().splitlines()
    (other / "1.jsonl").write_text("\n".join(lines[:3]) + "\n")  # the run header and two checks
    notebook = _notebook(tmp_path, CLAIM_CELL, FALSE_CELL)
    table = ledger.summarize({"a": path.parent, "b": other}, [notebook]).set_index("check")
    assert table.loc["x < 0.37", "ok"] and table.loc["x < 0.37", "runs passed"] == "2/2"
    assert table.loc["i <= 2", "b"] == "not reached" and not table.loc["i <= 2", "ok"]
    assert not table.loc["x > 1", "ok"] and table.loc["x > 1", "margin"] < 0


def test_no_ledger_without_the_variable(monkeypatch):
    monkeypatch.delenv(ledger.LEDGER_VAR, raising=False)
    assert ledger.record_asserts(shell=InteractiveShell.instance()) is None
    with pytest.raises(ValueError, match="folder"):
        ledger.collect("/nonexistent-ledger", [])


def test_setup_reads_the_seed_from_the_environment(monkeypatch):
    monkeypatch.setenv("NNTRAIN_SEED", "2")
    cfg = nt.setup(profile="smoke")
    assert cfg.seed == 2 and default_seed() == 2 and cfg.seed_list() == [2, 3] and cfg.seed_list(3) == [2, 3, 4]
    assert nt.setup(seed=5, profile="smoke").seed == 5   # an explicit seed wins
    monkeypatch.delenv("NNTRAIN_SEED")
    assert nt.setup(profile="smoke").seed == 0


@pytest.mark.parametrize("raw", ["-1", "one", "1.5"])
def test_a_bad_seed_variable_is_named(monkeypatch, raw):
    monkeypatch.setenv("NNTRAIN_SEED", raw)
    with pytest.raises(ValueError, match=rf"NNTRAIN_SEED={raw!r}".replace(".", r"\.")):
        nt.setup(profile="smoke")


def test_seed_list_checks_its_argument():
    with pytest.raises(ValueError, match="Received: n=0"):
        nt.get_profile("smoke").seed_list(0)
