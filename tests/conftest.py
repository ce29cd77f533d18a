"""Shared fixtures of the package tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # the repository


@pytest.fixture
def no_data_dir(monkeypatch):
    """Run a test as if ``$NNTRAIN_DATA_DIR`` were not set."""
    monkeypatch.delenv("NNTRAIN_DATA_DIR", raising=False)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty ``$NNTRAIN_DATA_DIR`` the test may fill."""
    monkeypatch.setenv("NNTRAIN_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def shared_datasets() -> Path:
    """The folder of real data files named by ``$NNTRAIN_DATA_DIR`` (CI sets it); else skip."""
    folder = os.environ.get("NNTRAIN_DATA_DIR")
    if not folder or not (Path(folder) / "california_housing.csv.gz").is_file():
        pytest.skip("the real California housing file is not in $NNTRAIN_DATA_DIR")
    return Path(folder)


def pytest_terminal_summary(terminalreporter):
    """Print the ``summary`` property a test recorded (the API fuzz's figures): pytest-xdist
    sends properties back from its workers, where a print would be lost."""
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed"):
        for name, value in getattr(report, "user_properties", ()):
            if name == "summary" and report.when == "call":
                terminalreporter.write_line(f"{report.nodeid}:\n{value}")
