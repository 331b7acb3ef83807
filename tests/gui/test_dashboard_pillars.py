"""The officer dashboard's programme figures (issue 15): the pillar cards show ``build_report``'s
totals for the period chosen by keyboard, the hand-counted ones for November 2026, and the
"Laporan bulanan…" button writes the monthly report through its dialog, driven by keyboard."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from desmig_desktop.domain.numbers import figure
from desmig_desktop.domain.report_period import EVERYTHING
from desmig_desktop.domain.report_spec import METRIC, PROGRAMME_SUMMARY_KEYS
from desmig_desktop.services.reports import build_report
from desmig_desktop.store import settings
from desmig_desktop.ui.dashboard import monthly
from desmig_desktop.ui.dashboard import page as page_module
from tests.reports import fixture, programme_fixture


@pytest.fixture
def page(qtbot: Any, ctx: Any, db: Any) -> Any:
    settings.put(db, "villages", [])  # the fixture spans four provinces; the officer then serves two villages
    fixture.load_desktop(db)
    programme_fixture.load_desktop(db)
    settings.put(db, "villages", [fixture.V1, fixture.V2])
    shown = page_module.DashboardPage(ctx, prefix="")
    qtbot.addWidget(shown)
    shown.resize(1300, 700)
    with qtbot.waitSignal(shown.report_shown, timeout=10_000):
        shown.show()
    return shown


def card_texts(page: Any) -> dict[str, str]:
    return {key: label.text() for key, label in page.pillar_cards.values.items()}


def expected_texts(totals: dict[str, Any]) -> dict[str, str]:
    return {key: figure(totals[key], METRIC[key].money) for key in PROGRAMME_SUMMARY_KEYS}


def test_pillar_cards_follow_the_period_chosen_by_keyboard(qtbot: Any, page: Any, db: Any) -> None:
    assert list(page.pillar_cards.values) == list(PROGRAMME_SUMMARY_KEYS)
    assert card_texts(page) == expected_texts(build_report(db, "province", "", EVERYTHING)["totals"])
    page.period_box.setFocus()
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        qtbot.keyClick(page.period_box, Qt.Key.Key_Down)  # "Bulan ini"
    assert page.period == page.periods[1]
    assert card_texts(page) == expected_texts(build_report(db, "province", "", page.periods[1])["totals"])
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        page.set_period(programme_fixture.PERIOD)
    assert card_texts(page) == expected_texts(programme_fixture.EXPECTED_TOTALS)
    assert card_texts(page)["service_records"] == "4" and card_texts(page)["children_of_pmi"] == "5"


def test_month_choices_start_with_the_previous_month() -> None:
    assert monthly.month_choices(dt.date(2027, 1, 15))[:3] == ["2026-12", "2027-01", "2026-11"]
    assert len(monthly.month_choices(dt.date(2026, 12, 5))) == 13


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")
def test_monthly_report_button_writes_the_chosen_month(qtbot: Any, page: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = monthly.month_choices(dt.date.today())
    out = tmp_path / "laporan"
    monkeypatch.setattr(page_module, "file_dialog", lambda *a, **k: str(out))
    steps: list[str] = []

    def answer() -> None:  # in the modal dialog: the next month down, PDF, Enter
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, monthly.MonthlyReportDialog)
        qtbot.keyClick(dialog.month_box, Qt.Key.Key_Down)
        steps.append(dialog.month)
        qtbot.keyClick(dialog.month_box, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)
    with qtbot.waitSignal(page.message, timeout=10_000) as said:
        page.monthly_button.setFocus()
        qtbot.keyClick(page.monthly_button, Qt.Key.Key_Space)
    assert steps == [chosen[1]]
    pdf = out.with_suffix(".pdf")
    assert str(pdf) in said.args[0]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Laporan Bulanan Petugas Desmigratif" in text and "Pondok Rajeg" in text and "Karadenan" in text


def test_monthly_report_refuses_another_ending(page: Any, tmp_path: Path, shown_errors: list[str]) -> None:
    assert page.write_monthly_report("2026-11", tmp_path / "laporan.docx") is False
    assert shown_errors == ["Nama berkas harus berakhiran .pdf atau .xlsx (bukan laporan.docx)."]
    assert not list(tmp_path.glob("laporan*"))
    shown_errors.clear()
