"""Issue 20 §10: an import from the GUI speaks the officer's language.

Every problem of the file (errors and warnings) in one scrollable table with sheet, row, column
letter, the column's title as written in the file — never a field key — and the message; no
command-line flag anywhere; the error file written beside the imported file and opened from the
dialog by keyboard.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import VILLAGE
from openpyxl import load_workbook
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QDialog

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.exchange import default_report_path, export
from desmig_desktop.ui import data_menu

COLUMNS = ("kind", "source", "row", "letter", "header", "message")  # the dialog's table, in order

KEYS = sorted({k for spec in ENTITIES.values() for k in spec.keys if "_" in k}, key=len, reverse=True)
FLAG = re.compile(r"(^|\s)--[a-z]")


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[QUrl]:
    urls: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url) or True)
    return urls


def hostile_workbook(db: Any, path: Path) -> None:
    """A masked export (every NIK and KK refused) with more kinds of problems typed into it."""
    generate_demo(db, 4, villages=[VILLAGE], seed=5)
    export(db, "xlsx", path, mask=True)
    wb = load_workbook(path)
    ws = wb["households"]
    heads = [c.value for c in ws[1]]
    ws.cell(2, heads.index(next(h for h in heads if h.endswith("[visited_on]"))) + 1, "kemarin")
    ws.cell(3, heads.index(next(h for h in heads if h.endswith("[rt]"))) + 1, 12345)
    ws.cell(1, len(heads) + 1, "Keterangan")  # an unknown column with something in it
    ws.cell(2, len(heads) + 1, "pindah")
    members = wb["members"]
    mheads = [c.value for c in members[1]]
    members.cell(2, mheads.index(next(h for h in mheads if h.endswith("[sex]"))) + 1, "X")
    notes = wb.create_sheet("Catatan")  # an extra sheet: a warning
    notes.append(["Kunjungan ulang minggu depan"])
    wb.save(path)


def open_import_by_keyboard(qtbot: Any, window: Any, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Berkas → Impor data… by its mnemonics (Alt+B, I); the file chooser answers ``path``."""
    monkeypatch.setattr(data_menu, "file_dialog", lambda *a, **k: str(path))
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is window.file_menu)
    with qtbot.waitSignal(window.ctx.tasks.finished, timeout=30_000) as finished:
        qtbot.keyClick(window.file_menu, Qt.Key.Key_I)
    window._finished = finished.args[0]


def dialog_texts(dialog: Any) -> list[str]:
    table = dialog.table
    return [dialog.summary.text(), *(table.item(r, c).text() for r in range(table.rowCount())
                                     for c in range(table.columnCount()))]


def test_a_refused_import_lists_every_problem_in_the_officers_words(qtbot: Any, window: Any, db: Any, tmp_path: Path,
                                                                     opened: list[QUrl],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data-desa.xlsx"
    hostile_workbook(db, path)
    open_import_by_keyboard(qtbot, window, path, monkeypatch)
    assert window._finished == "failed"
    dialog = window.findChild(QDialog, "import_report")
    assert dialog is not None and dialog.isVisible()
    report = default_report_path(path)
    with open(report, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))[1:]
    table = dialog.table
    assert table.rowCount() == len(lines) > 10  # the full list, not the first five
    kinds = {table.item(r, COLUMNS.index("kind")).text() for r in range(table.rowCount())}
    assert kinds == {"Kesalahan", "Peringatan"}
    wb = load_workbook(path, read_only=True)
    for r in range(table.rowCount()):
        cell = {name: table.item(r, c).text() for c, name in enumerate(COLUMNS)}
        assert cell["message"], cell
        if cell["letter"]:  # a cell of the file: its sheet, row and the column's title as written there
            assert cell["source"] in wb.sheetnames and int(cell["row"]) >= 1
            heading = str(wb[cell["source"]][f"{cell['letter']}1"].value)
            assert cell["header"] and heading.startswith(cell["header"]), (cell, heading)
    texts = dialog_texts(dialog)
    for text in texts:
        assert not FLAG.search(text), text  # no command-line flags
        for key in KEYS:
            assert not re.search(rf"\b{key}\b", text), (key, text)  # titles, never field keys
    from desmig_desktop.services.exchange import mask_option_label

    assert any(mask_option_label() in t for t in texts)  # how to get full NIKs, in the app's words
    assert "tidak ada data yang disimpan" in dialog.summary.text()
    # The keyboard reaches the error file: Tab leaves the table for "Buka daftar kesalahan", Space opens it.
    dialog.windowHandle().requestActivate()
    qtbot.waitUntil(dialog.isActiveWindow)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.open_button
    qtbot.keyClick(dialog.open_button, Qt.Key.Key_Space)
    assert opened == [QUrl.fromLocalFile(str(report))]


def test_warnings_of_a_successful_import_are_shown_too(qtbot: Any, window: Any, db: Any, tmp_path: Path,
                                                       opened: list[QUrl], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lengkap.xlsx"
    generate_demo(db, 2, villages=[VILLAGE], seed=6)
    export(db, "xlsx", path, mask=False)
    wb = load_workbook(path)
    wb.create_sheet("Catatan").append(["Pak RT minta salinan"])
    wb.save(path)
    open_import_by_keyboard(qtbot, window, path, monkeypatch)
    assert window._finished == "done"
    dialog = window.findChild(QDialog, "import_report")
    assert dialog is not None and "data diimpor" in dialog.summary.text()
    rows = [(dialog.table.item(r, COLUMNS.index("kind")).text(), dialog.table.item(r, COLUMNS.index("source")).text())
            for r in range(dialog.table.rowCount())]
    assert ("Peringatan", "Catatan") in rows and {kind for kind, _source in rows} == {"Peringatan"}
    assert default_report_path(path).exists()
