"""Indonesian number formatting, one definition (``domain.numbers``) for every screen and page.

The table pins what the five copies it replaced wrote for hostile inputs (zero, negatives, no
value, fractions, text, huge amounts), except where an abbreviation rounded past its unit or
wrote four significant digits (``Rp 1000 jt``, ``Rp 10,00 jt``): those rows name the old text.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desmig_desktop.domain.numbers import figure, figure_short, grouped, rupiah

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value, count, money", [
    (None, "–", "–"),
    (0, "0", "Rp 0"),
    (7, "7", "Rp 7"),
    (999, "999", "Rp 999"),
    (1000, "1.000", "Rp 1.000"),
    (-1, "-1", "Rp -1"),
    (-1_234_567, "-1.234.567", "Rp -1.234.567"),
    (1234.9, "1.234", "Rp 1.234"),  # a fraction is cut off, never rounded up
    (-0.5, "0", "Rp 0"),
    ("12", "12", "Rp 12"),  # a figure read back from text
    (True, "1", "Rp 1"),
    (10**18, "1.000.000.000.000.000.000", "Rp 1.000.000.000.000.000.000"),
])
def test_figures(value: Any, count: str, money: str) -> None:
    assert figure(value) == count
    assert figure(value, money=True) == money
    assert figure_short(value) == count  # a count is never abbreviated


@pytest.mark.parametrize("value, shown", [
    (None, "–"), (0, "Rp 0"), (-5_000_000, "Rp -5.000.000"), (999_999, "Rp 999.999"),
    (999_999.5, "Rp 999.999"),  # cut to a whole rupiah first: still under a juta
    (1_000_000, "Rp 1,00 jt"), (1_004_999, "Rp 1,00 jt"), (1_005_000, "Rp 1,00 jt"), (5_300_000, "Rp 5,30 jt"),
    (5_300_000.7, "Rp 5,30 jt"), (9_994_999, "Rp 9,99 jt"), (9_995_000, "Rp 9,99 jt"),
    (9_999_999, "Rp 10,0 jt"),  # was "Rp 10,00 jt"
    (10_000_000, "Rp 10,0 jt"), (99_949_999, "Rp 99,9 jt"),
    (99_950_000, "Rp 100 jt"),  # was "Rp 100,0 jt"
    (99_999_999, "Rp 100 jt"),  # was "Rp 100,0 jt"
    (250_000_000, "Rp 250 jt"), (999_499_999, "Rp 999 jt"),
    (999_500_000, "Rp 1,00 M"),  # was "Rp 1000 jt"
    (999_999_999, "Rp 1,00 M"),  # was "Rp 1000 jt"
    (1_000_000_000, "Rp 1,00 M"), (1_793_100_000, "Rp 1,79 M"),
    (999_999_999_999, "Rp 1,00 T"),  # was "Rp 1000 M"
    (2_000_000_000_000, "Rp 2,00 T"), (10**15, "Rp 1000 T"), (10**18, "Rp 1000000 T"),
])
def test_short_rupiah(value: Any, shown: str) -> None:
    assert figure_short(value, money=True) == shown


@pytest.mark.parametrize("value", [0, 1, 999, 1000, -999_999, 123_456_789, 10**15])
def test_grouping_round_trips_and_rupiah_adds_its_sign(value: int) -> None:
    assert int(grouped(value).replace(".", "")) == value
    assert re.fullmatch(r"-?\d{1,3}(\.\d{3})*", grouped(value))
    assert rupiah(value) == "Rp " + grouped(value)


# Amounts anywhere, and amounts just under a power of ten, where rounding carries into a new digit.
_AMOUNTS = st.integers(min_value=1_000_000, max_value=999_499_999_999_999) | st.builds(
    lambda power, below: 10**power - below, st.integers(min_value=7, max_value=14), st.integers(1, 10**6 // 2))


@given(_AMOUNTS)  # from 999,5 T on: "1000 T", no larger unit
def test_an_abbreviation_has_three_significant_digits_and_stays_near_the_amount(value: int) -> None:
    rp, number, unit = figure_short(value, money=True).split()
    assert rp == "Rp" and len(number.replace(",", "")) == 3 and number[0] != "0"
    size = {"jt": 10**6, "M": 10**9, "T": 10**12}[unit]
    assert abs(float(number.replace(",", ".")) * size - value) <= 0.005 * value


# Modules of other parts of the app that still group digits themselves, to move to
# domain.numbers (their owners change them; the list only shrinks).
PENDING: set[str] = set()


def _groups_digits(node: ast.AST) -> bool:
    """``f"{x:,}".replace(",", ".")``: digits grouped by hand."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"
            and isinstance(node.func.value, ast.JoinedStr)
            and any(isinstance(v, ast.FormattedValue) and isinstance(v.format_spec, ast.JoinedStr)
                    and "," in ast.unparse(v.format_spec) for v in node.func.value.values)
            and [ast.unparse(a) for a in node.args] == ["','", "'.'"])


def test_only_domain_numbers_groups_digits() -> None:
    found = set()
    for package in ("desmig_desktop", "desmig_server"):
        for path in (ROOT / package).rglob("*.py"):
            if any(_groups_digits(node) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))):
                found.add(path.relative_to(ROOT).as_posix())
    assert found - PENDING == {"desmig_desktop/domain/numbers.py"}
