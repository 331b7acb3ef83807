"""The officer dashboard: drill-down figures equal ``build_report``, charts, exports, village PDF, refresh."""

from __future__ import annotations

import csv
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import VILLAGE, fill
from PySide6.QtCore import Qt

from desmig_desktop.domain.report_spec import SUMMARY_KEYS, TABLE_KEYS
from desmig_desktop.errors import KnownError
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.services.reports import build_report
from desmig_desktop.store import settings
from desmig_desktop.ui.dashboard import page as page_module
from desmig_desktop.ui.dashboard.model import ReportTableModel

HAND_VILLAGE = VILLAGE  # 32.01.05.2001 Cijayanti, Babakan Madang, Kabupaten Bogor, Jawa Barat
DEMO_VILLAGES = ["32.01.05.2002", "32.01.06.2001", "33.01.01.2001"]
# Figures of HAND_VILLAGE, counted by hand from the two households below: Siti came back (her
# placement's remittance is not a current one) and her tailoring business is closed.
HAND = {"households": 2, "members": 5, "pmi_active": 2, "pmi_returned": 1, "pmi_prospective": 1,
        "households_with_business": 2, "businesses": 3, "businesses_closed": 1, "export_ready": 2, "exporting": 1,
        "remittance_total": 7_000_000, "remittance_median": 3_500_000, "remittance_total_all_placements": 13_500_000,
        "provinces": 1, "regencies": 1, "districts": 1, "villages": 1}


def hand_households() -> list[HouseholdGraph]:
    visit = {"village_code": HAND_VILLAGE, "visited_on": "2025-05-02", "consent": True}
    siti = HouseholdGraph(
        {**visit, "head_name": "Siti Aminah"},
        [{"id": "m-siti", "name": "Siti Aminah", "sex": "P", "relationship": "kepala", "migration_status": "pmi_purna"},
         {"id": "m-andi", "name": "Andi", "sex": "L", "relationship": "anak", "migration_status": "bukan"}],
        [{"id": "p-siti", "member_id": "m-siti", "country": "HK", "job": "prt", "monthly_remittance": 6_500_000}],
        [{"id": "b-keripik", "name": "Keripik Siti", "kbli_category": "C", "capital": 40_000_000, "status": "aktif",
          "export_ready": True, "exporting": False},
         {"id": "b-jahit", "name": "Jahit Siti", "kbli_category": "S", "status": "tutup"}])
    budi = HouseholdGraph(
        {**visit, "head_name": "Budi Santoso"},
        [{"id": "m-budi", "name": "Budi Santoso", "sex": "L", "relationship": "kepala", "migration_status": "pmi_aktif"},
         {"id": "m-rina", "name": "Rina", "sex": "P", "relationship": "suami_istri", "migration_status": "calon_pmi"},
         {"id": "m-dewi", "name": "Dewi", "sex": "P", "relationship": "anak", "migration_status": "pmi_aktif"}],
        [{"id": "p-budi", "member_id": "m-budi", "country": "MY", "job": "perkebunan", "monthly_remittance": 4_000_000},
         {"id": "p-dewi", "member_id": "m-dewi", "country": "TW", "job": "caregiver", "monthly_remittance": 3_000_000}],
        [{"id": "b-sawah", "name": "Sawah", "kbli_category": "A", "annual_turnover": 500_000_000, "status": "aktif"},
         {"id": "b-toko", "name": "Toko Budi", "kbli_category": "G", "capital": 2_000_000_000, "status": "aktif",
          "export_ready": True, "exporting": True}])
    return [siti, budi]


@pytest.fixture
def dataset(db: Any) -> Any:
    for graph in hand_households():
        save_household(db, graph, confirm_warnings=True)
    # The officer records only in their villages (the wizard chose HAND_VILLAGE); the demo
    # villages are data from before that choice, as on a laptop whose villages were reassigned.
    chosen = settings.get(db, "villages")
    settings.put(db, "villages", [])
    generate_demo(db, 40, villages=DEMO_VILLAGES, seed=11)
    settings.put(db, "villages", chosen)
    return db


@pytest.fixture
def dashboard(qtbot: Any, ctx: Any, dataset: Any) -> Any:
    page = page_module.DashboardPage(ctx, prefix="")
    qtbot.addWidget(page)
    page.resize(1300, 700)
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        page.show()
    return page


def shown_rows(page: Any) -> list[dict[str, Any]]:
    return [page.model.row_data(r) for r in range(page.model.rowCount())]


def activate(qtbot: Any, page: Any, code: str, how: str) -> None:
    """Drill into ``code`` by double-click or Enter, waiting for the new figures."""
    index = page.proxy.mapFromSource(page.model.index(page.model.row_of(code), 1))
    page.table.setCurrentIndex(index)
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        if how == "double-click":  # as a mouse does it: press and release, then the double-click
            where = page.table.visualRect(index).center()
            qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
            qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
        else:
            qtbot.keyClick(page.table, Qt.Key.Key_Return)


def test_table_model_passes_the_model_tester(qtmodeltester: Any, dataset: Any) -> None:
    model = ReportTableModel()
    model.set_report(build_report(dataset, "village", ""))
    assert model.rowCount() == 4 and model.columnCount() == 2 + len(model.keys)
    qtmodeltester.check(model)
    model.set_report(None)
    qtmodeltester.check(model)


def test_drill_down_equals_build_report_at_every_level(qtbot: Any, dashboard: Any, dataset: Any) -> None:
    page = dashboard
    path = [("", "province", None), ("32", "regency", "double-click"), ("32.01", "district", "enter"),
            ("32.01.05", "village", "double-click")]
    for prefix, level, how in path:
        if how is not None:
            activate(qtbot, page, prefix, how)
        expected = build_report(dataset, level, prefix)
        assert (page.prefix, page.level) == (prefix, level)
        assert shown_rows(page) == expected["rows"]
        assert page.report is not None and page.report["totals"] == expected["totals"]
        for key, label in page.cards.values.items():
            assert label.text() == page_module.figures.format_figure(key, expected["totals"][key])
        areas = [f"{expected['totals'][k]} {word}" for k, word in
                 (("provinces", "provinsi"), ("regencies", "kabupaten/kota"), ("districts", "kecamatan"),
                  ("villages", "desa/kelurahan"))][len(prefix.split(".")) if prefix else 0:]
        assert page.coverage.text() == " · ".join(areas) and page.coverage.isVisible() == bool(areas)
    assert "Babakan Madang" in page.breadcrumb.text() and "Kabupaten Bogor" in page.breadcrumb.text()
    hand = page.model.row_data(page.model.row_of(HAND_VILLAGE))
    assert {k: hand[k] for k in HAND} == HAND
    assert hand["businesses_by_kbli"]["A"] == hand["businesses_by_kbli"]["C"] == hand["businesses_by_kbli"]["G"] == 1
    assert page.model.data(page.model.index(page.model.row_of(HAND_VILLAGE), 2 + page.model.keys.index(
        "remittance_total"))) == "Rp 7,00 jt"  # abbreviated on screen; the tooltip and exports are exact
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        qtbot.keyClick(page.table, Qt.Key.Key_Backspace)  # back up: the district we came from is selected
    assert (page.prefix, page.level) == ("32.01", "district") and page.selected_code() == "32.01.05"


def test_level_filter_and_name_filter(qtbot: Any, dashboard: Any, dataset: Any) -> None:
    page = dashboard
    assert [page.level_box.itemData(i) for i in range(page.level_box.count())] == [
        "province", "regency", "district", "village"]
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        page.set_level("village")  # every village in the country, flat
    assert shown_rows(page) == build_report(dataset, "village", "")["rows"]
    page.search.setText("cijay")
    assert page.proxy.rowCount() == 1 and page.proxy.index(0, 1).data() == "Cijayanti"


def test_report_is_computed_off_the_gui_thread(qtbot: Any, dashboard: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []

    def recording(db: Any, level: str, prefix: str, period: Any) -> Any:
        threads.append(threading.current_thread().name)
        return build_report(db, level, prefix, period)

    monkeypatch.setattr(page_module, "build_report", recording)
    with qtbot.waitSignal(dashboard.report_shown, timeout=10_000):
        dashboard.reload()
    assert threads and all(name != threading.main_thread().name for name in threads)


def test_a_failed_report_is_shown_and_the_page_recovers(qtbot: Any, dashboard: Any, ctx: Any, shown_errors: list[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(db: Any, level: str, prefix: str, period: Any) -> Any:
        raise KnownError("Basis data sedang dikunci.")

    monkeypatch.setattr(page_module, "build_report", failing)
    with qtbot.waitSignal(ctx.tasks.finished, timeout=10_000):
        dashboard.reload()
    assert shown_errors == ["Basis data sedang dikunci."]
    shown_errors.clear()
    monkeypatch.setattr(page_module, "build_report", build_report)
    with qtbot.waitSignal(dashboard.report_shown, timeout=10_000):
        dashboard.reload()  # not stuck waiting for the failed job


def test_charts_show_the_village_figures(qtbot: Any, dashboard: Any) -> None:
    page = dashboard
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        page.navigate(HAND_VILLAGE)
    assert page.model.rowCount() == 1 and page.village_code() == HAND_VILLAGE
    assert page.charts.sectors.values() == [("A — Pertanian", 1.0), ("C — Industri pengolahan", 1.0),
                                            ("G — Perdagangan besar", 1.0)]
    assert page.charts.countries.values() == [("Hong Kong", 1.0), ("Malaysia", 1.0), ("Taiwan", 1.0)]
    assert page.charts.status.values() == [("PMI aktif", 2.0), ("PMI purna", 1.0), ("Calon PMI", 1.0),
                                           ("Bukan PMI", 1.0)]
    assert "<b>2</b> (40%)" in page.charts.status.legend.text()


def test_shown_table_exports_to_xlsx_and_csv(qtbot: Any, dashboard: Any, ctx: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    page = dashboard
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        page.navigate("32.01.05")
    out = tmp_path / "desa.xlsx"
    with qtbot.waitSignal(ctx.tasks.finished, timeout=10_000) as done:
        assert page.export_to("xlsx", out)
    assert done.args == ["done"]
    sheet = load_workbook(out).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert "Babakan Madang" in rows[0][0]
    assert rows[1][:4] == ["Kode", "Desa/kelurahan", "Rumah tangga", "Anggota rumah tangga"]
    keys = page.model.keys
    by_code = {r[0]: r for r in rows[2:-1]}
    hand = by_code[HAND_VILLAGE]
    assert hand[1] == "Cijayanti"
    assert {k: hand[2 + n] for n, k in enumerate(keys) if k in HAND} == {k: HAND[k] for k in keys if k in HAND}
    assert rows[-1][1] == "Jumlah" and rows[-1][2] == page.report["totals"]["households"]
    assert sheet.cell(row=3, column=2 + keys.index("remittance_total") + 1).number_format == '"Rp" #,##0'

    csv_out = tmp_path / "desa.csv"
    with qtbot.waitSignal(ctx.tasks.finished, timeout=10_000):
        assert page.export_to("csv", csv_out)
    with open(csv_out, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == rows[1] and table[-1][1] == "Jumlah"
    assert [r[0] for r in table[1:-1]] == [r[0] for r in rows[2:-1]]


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True, timeout=30).stdout
    pypdf = pytest.importorskip("pypdf", reason="needs pdftotext (Debian poppler-utils) or pypdf")
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages)


def test_village_summary_pdf_has_the_name_and_totals(qtbot: Any, dashboard: Any, tmp_path: Path) -> None:
    page = dashboard
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        page.navigate("32.01.05")
    assert page.village_code() is None and not page.pdf_button.isEnabled()  # nothing chosen yet
    page.table.setCurrentIndex(page.proxy.mapFromSource(page.model.index(page.model.row_of(HAND_VILLAGE), 0)))
    assert page.village_code() == HAND_VILLAGE and page.pdf_button.isEnabled()
    out = tmp_path / "ringkasan.pdf"
    with qtbot.waitSignal(page.message):
        assert page.write_village_pdf(HAND_VILLAGE, out)
    assert out.read_bytes().startswith(b"%PDF") and not list(tmp_path.glob("*.part*"))
    text = " ".join(_pdf_text(out).split())
    assert "Ringkasan Data PMI Desa Cijayanti" in text and HAND_VILLAGE in text
    assert "Babakan Madang" in text and "Kabupaten Bogor" in text and "Siti Petugas" in text
    for label, value in [("Rumah tangga", "2"), ("Anggota rumah tangga", "5"), ("PMI aktif", "2"),
                         ("PMI purna", "1"), ("Calon PMI", "1"), ("Unit usaha aktif", "3"), ("Unit usaha tutup", "1"),
                         ("Usaha aktif layak ekspor", "2"), ("Remitansi per bulan saat ini (jumlah)", "Rp 7.000.000"),
                         ("Remitansi per bulan saat ini (median)", "Rp 3.500.000")]:
        assert f"{label} {value}" in text, label
    assert "Hong Kong" in text and "Industri pengolahan" in text


def test_figures_refresh_after_a_save_and_after_a_sync(qtbot: Any, window: Any, dataset: Any) -> None:
    page = window.dashboard
    window.tabs.setCurrentWidget(page)
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        page.navigate(HAND_VILLAGE)
    assert page.report["totals"]["households"] == 2
    window.tabs.setCurrentWidget(window.list_page)
    editor = window.new_household()
    fill(qtbot, editor.form, {"village_code": HAND_VILLAGE, "head_name": "Wati", "consent": True})
    assert editor.save(confirm_warnings=True)
    window.tabs.setCurrentWidget(page)  # stale while hidden: recomputed when shown
    qtbot.waitUntil(lambda: page.report is not None and page.report["totals"]["households"] == 3, timeout=10_000)
    save_household(dataset, HouseholdGraph({"village_code": HAND_VILLAGE, "head_name": "Dari Server",
                                            "visited_on": "2025-05-03", "consent": True}), confirm_warnings=True)
    with qtbot.waitSignal(page.report_shown, timeout=10_000):
        window.on_data_changed()  # what the sync part calls after a pull
    assert page.report["totals"]["households"] == 4 and page.cards.values["households"].text() == "4"


@pytest.mark.parametrize("amount, shown", [(None, "–"), (999_999, "Rp 999.999"), (5_300_000, "Rp 5,30 jt"),
                                           (250_000_000, "Rp 250 jt"), (1_793_100_000, "Rp 1,79 M"),
                                           (2_000_000_000_000, "Rp 2,00 T")])
def test_large_amounts_are_abbreviated_in_the_table(amount: int | None, shown: str) -> None:
    assert page_module.figures.format_figure_short("remittance_total", amount) == shown
    assert page_module.figures.format_figure_short("households", 1_234_567) == "1.234.567"


def test_the_cards_and_the_table_show_the_spec_selections(dashboard: Any) -> None:
    """The cards are the web dashboard's tiles, the table its table (``report_spec``, declared once)."""
    assert list(dashboard.cards.values) == list(SUMMARY_KEYS)
    assert page_module.figures.columns(dashboard.report) == TABLE_KEYS
