"""Report how long each notebook took under nbval, beside its profile's budget.

A report, not a test: the machines that run the suite are shared and noisy, so a slow
notebook is made visible here rather than failed.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

_durations: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    from nntrain.profiles import get_profile

    profile = get_profile()
    tr = terminalreporter
    workers = getattr(tr.config.option, "numprocesses", None) or 0
    side_by_side = (f"; {workers} ran side by side, each slower than alone by up to about a half"
                    if workers > 1 else "")
    tr.section(f"notebook durations (profile {profile.name}, budget {profile.budget_s:.0f} s each "
               f"alone{side_by_side})")
    for path, seconds in sorted(_durations.items(), key=lambda kv: -kv[1]):
        flag = "  OVER BUDGET" if seconds > profile.budget_s else ""
        tr.write_line(f"{seconds:7.1f} s  {Path(path).as_posix()}{flag}")
    tr.write_line(f"{sum(_durations.values()):7.1f} s  in all ({len(_durations)} notebooks)")
