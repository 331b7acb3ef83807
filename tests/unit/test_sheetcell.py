"""The one definition of spreadsheet text: escaped so it never runs, restored exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desmig_desktop.domain import sheetcell

# Text that starts with what a spreadsheet acts on, and ordinary text.
texts = st.one_of(st.text(), st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "''", "#"]).flatmap(
    lambda start: st.text().map(lambda rest: start + rest)))


@given(texts)
def test_csv_text_never_starts_a_formula_and_restores_exactly(text: str) -> None:
    written = sheetcell.csv_text(text)
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert sheetcell.restore(written) == text


@given(texts)
def test_xlsx_text_restores_exactly(text: str) -> None:
    assert sheetcell.restore(sheetcell.xlsx_text(text)) == text


@pytest.mark.parametrize("value", [12, -6.5, None, True])
def test_numbers_are_not_text(value: object) -> None:
    assert sheetcell.csv_text(value) == value and sheetcell.restore(value) == value


@pytest.mark.parametrize("value, error", [
    ("#VALUE!", True), ("#REF!", True), ("#N/A", True), ("#DIV/0!", True), ("#NAME?", True), ("#NULL!", True),
    ("#NUM!", True), (" #n/a ", True), ("Err:509", True), ("Err:502", True), ("#SPILL!", True),
    ("#1 Budi", False), ("Err: 509", False), ("N/A", False), ("Budi #REF!", False), ("", False), (7, False),
])
def test_error_values(value: object, error: bool) -> None:
    assert sheetcell.is_error_value(value) is error
