"""Lines a test wants at the end of the run (the seed it drew, how many cases a fuzzer ran).

The suite runs in worker processes (pytest-xdist, ``scripts/test.sh``). A worker's stdout never
reaches the terminal, and a list a test appends to lives in the worker, so neither ``print`` under
``capsys.disabled()`` nor a module-level list shows anything there. A line recorded here travels
with the test's report (``user_properties``, which xdist sends to the controller) and is written
in the terminal summary by whichever process draws it, with or without workers.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

KEY = "run_summary"


@pytest.fixture
def run_summary(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``run_summary(line)``: show ``line`` under "run summary" at the end of the run."""

    def add(line: str) -> None:
        request.node.user_properties.append((KEY, line))

    return add


def summary_lines(reports: list[pytest.TestReport]) -> list[str]:
    """Each recorded line once, in test order (a test's reports all carry its properties)."""
    seen: dict[tuple[str, str], None] = {}
    for report in sorted(reports, key=lambda r: r.nodeid):
        for key, value in report.user_properties:
            if key == KEY:
                seen.setdefault((report.nodeid, str(value)), None)
    return [line for _nodeid, line in seen]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = [r for kind in terminalreporter.stats.values() for r in kind if isinstance(r, pytest.TestReport)]
    lines = summary_lines(reports)
    if lines:
        terminalreporter.section("run summary")
        for line in lines:
            terminalreporter.write_line(line)
