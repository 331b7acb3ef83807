"""The run summary (``tests/support/run_summary.py``): a line a test records reaches the end of
the run's output with and without worker processes, once per test. Without it, the seeds the
property and chaos tests draw would vanish in the parallel run ``scripts/test.sh`` makes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

TESTS = '''
import pytest

@pytest.mark.parametrize("n", range(6))
def test_records(run_summary, n):
    run_summary(f"seed line {n}")
    run_summary(f"seed line {n}")  # twice in one test: shown once

def test_fails_with_its_line(run_summary):
    run_summary("line of a failing test")
    assert False

def test_records_nothing():
    print("printed, not recorded")
'''


@pytest.mark.parametrize("workers", [[], ["-p", "xdist", "-n", "2"]], ids=["one process", "two workers"])
def test_recorded_lines_reach_the_end_of_the_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                 workers: list[str]) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(test_lines=TESTS)
    result = pytester.runpytest_subprocess("-p", "tests.support.run_summary", "-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=7, failed=1)
    lines = result.stdout.str().splitlines()
    start = next(i for i, line in enumerate(lines) if "run summary" in line and line.startswith("="))
    section = []
    for line in lines[start + 1:]:
        if line.startswith("="):
            break
        section.append(line)
    assert section == sorted([f"seed line {n}" for n in range(6)] + ["line of a failing test"]), lines[start:]
