"""The domain's rules read the date only through the ``today`` they are given.

The HQ validates a push with its own ``today`` (also in its push workers), the tests with a fixed
one; a rule that read the machine's clock instead would judge the same record differently on a
laptop whose clock is wrong, in a test run next year, or on HQ around midnight. The class of the
bug, both ways: no domain module calls the clock outside the few places that supply a default
``today`` (an AST scan), and the year rules follow ``today`` across a table of dates.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from desmig_desktop.domain.validation import validate

DOMAIN = Path(__file__).resolve().parents[2] / "desmig_desktop" / "domain"
CLOCK_CALLS = {"today", "now", "utcnow", "time", "monotonic", "perf_counter"}
CLOCK_OWNERS = {"date", "datetime", "dt.date", "dt.datetime", "time"}
# (module, function): the places that turn "no date given" into the machine's date or time.
DEFAULTS = {("validation.py", "validate"), ("household_checks.py", "household_issues"),
            ("ids.py", "utc_now"), ("report_period.py", "as_of")}


def _clock_calls(path: Path) -> list[tuple[str, int]]:
    """``(enclosing function, line)`` of every call of a clock in ``path``."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                    and child.func.attr in CLOCK_CALLS and ast.unparse(child.func.value) in CLOCK_OWNERS:
                found.append((name, child.lineno))
            visit(child, name)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_no_domain_rule_reads_the_clock() -> None:
    offenders = [f"{path.name}:{line} in {function}" for path in sorted(DOMAIN.glob("*.py"))
                 for function, line in _clock_calls(path) if (path.name, function) not in DEFAULTS]
    assert not offenders, f"read the clock instead of the `today` given: {offenders}"


def test_the_scan_finds_a_clock_call(tmp_path: Path) -> None:
    """Negative control: the scan sees the call the business rule used to make."""
    path = tmp_path / "record_rules.py"
    path.write_text("def _check_business(v, today):\n    return v > dt.date.today().year\n", encoding="utf-8")
    assert _clock_calls(path) == [("_check_business", 2)]


BUSINESS = {"household_id": "h", "name": "Keripik", "kbli_category": "C", "kbli_code": "10710", "status": "aktif"}
PROFILE = {"village_code": "32.01.05.2003", "status": "aktif"}


@pytest.mark.parametrize("today", [dt.date(2017, 1, 1), dt.date(2024, 12, 31), dt.date(2040, 6, 15),
                                   dt.date(2099, 7, 1)])
@pytest.mark.parametrize(("entity", "raw", "key"), [
    ("businesses", BUSINESS, "started_year"),
    ("village_profiles", PROFILE, "joined_year"),
])
def test_a_year_in_the_future_is_judged_by_the_today_given(entity: str, raw: dict[str, object], key: str,
                                                            today: dt.date) -> None:
    this_year = validate(entity, {**raw, key: today.year}, today=today)
    next_year = validate(entity, {**raw, key: today.year + 1}, today=today)
    assert [i.code for i in this_year.errors if i.field == key] == []
    assert [i.code for i in next_year.errors if i.field == key] == ["future"]
