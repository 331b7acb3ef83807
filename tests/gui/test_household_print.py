"""Issue 20 §8: the household's record as a PDF from the form (Ctrl+P), NIK masked unless chosen.

The PDF's text is read back with ``pdftotext`` (poppler-utils) as a reader of the paper would.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import VILLAGE
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QDialog

from desmig_desktop.services.households import HouseholdGraph, load_household, save_household

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")

# Five members (valid NIKs, one name with HTML in it), two placements, one business.
MEMBERS = [
    ("m1", "Siti Aminah", "3201055505850001", "P", "1985-05-15", "kepala", "pmi_purna"),
    ("m2", "Budi <b>Santoso</b> & Co", "3201051204800002", "L", "1980-04-12", "suami_istri", "pmi_aktif"),
    ("m3", "Dewi Lestari", "3201056101050003", "P", "2005-01-21", "anak", "calon_pmi"),
    ("m4", "Andi Pratama", "3201050303100004", "L", "2010-03-03", "anak", "bukan"),
    ("m5", "Sri Wahyuni", "3201054707550005", "P", "1955-07-07", "orang_tua", "bukan"),
]
KK = "3201051234560007"


def five_member_household() -> HouseholdGraph:
    return HouseholdGraph(
        {"village_code": VILLAGE, "head_name": "Siti Aminah", "kk_number": KK, "address": "Jl. Melati 7",
         "hamlet": "Dusun Krajan", "rt": "004", "rw": "002", "visited_on": "2025-05-02", "consent": True},
        [{"id": mid, "name": name, "nik": nik, "sex": sex, "birth_date": born, "relationship": rel,
          "migration_status": status, "birth_place": "Bogor", "phone": f"08123456789{n}"}
         for n, (mid, name, nik, sex, born, rel, status) in enumerate(MEMBERS)],
        [{"id": "p1", "member_id": "m1", "country": "HK", "job": "prt", "scheme": "p3mi", "agency_name": "PT Maju",
          "departed_on": "2010-02-01", "returned_on": "2016-03-01", "monthly_remittance": 6_500_000},
         {"id": "p2", "member_id": "m2", "country": "MY", "job": "perkebunan", "departed_on": "2019-06-01",
          "monthly_remittance": 4_000_000}],
        [{"id": "b1", "name": "Keripik Siti", "owner_member_id": "m1", "kbli_category": "C", "capital": 40_000_000,
          "annual_turnover": 120_000_000, "status": "aktif", "export_ready": True}])


@pytest.fixture
def household(db: Any) -> str:
    return save_household(db, five_member_household(), confirm_warnings=True).household_id


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[QUrl]:
    urls: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url) or True)
    return urls


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pages(text: str) -> int:
    return text.rstrip("\f").count("\f") + 1


def print_by_keyboard(qtbot: Any, window: Any, household_id: str, out: Path, *, unmask: bool = False) -> str:
    """Ctrl+P in the open form, the path typed, the mask option toggled by Tab+Space if asked, Enter."""
    editor = window.open_household(household_id)
    focus = QApplication.focusWidget() or editor
    qtbot.keyClick(focus, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    dialog: Any = window.findChild(QDialog, "print_dialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.mask_box.isChecked()  # masked unless the officer chooses otherwise
    dialog.windowHandle().requestActivate()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.path.setFocus()
    qtbot.keyClick(dialog.path, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.path, str(out))
    if unmask:
        qtbot.keyClick(dialog.path, Qt.Key.Key_Tab)  # "Pilih…"
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # the mask option
        assert QApplication.focusWidget() is dialog.mask_box
        qtbot.keyClick(dialog.mask_box, Qt.Key.Key_Space)
        assert not dialog.mask_box.isChecked()
    qtbot.keyClick(dialog.mask_box if unmask else dialog.path, Qt.Key.Key_Return)
    qtbot.waitUntil(out.exists, timeout=10_000)
    return pdf_text(out)


def test_ctrl_p_prints_the_household_with_nik_and_kk_masked(qtbot: Any, window: Any, household: str, db: Any,
                                                            tmp_path: Path, opened: list[QUrl]) -> None:
    out = tmp_path / "rumah-tangga.pdf"
    text = print_by_keyboard(qtbot, window, household, out)
    flat = " ".join(text.split())
    for _mid, name, nik, *_rest in MEMBERS:
        assert nik not in text  # never the full number
        assert f"{nik[:4]}********{nik[-4:]}" in text
        assert " ".join(name.split()) in flat  # the name as typed, HTML shown as text
    assert KK not in text and f"{KK[:4]}********{KK[-4:]}" in text
    for n in range(len(MEMBERS)):
        assert f"08123456789{n}" in text  # each phone number whole, on one line
    for expected in ("Data Rumah Tangga PMI", "Cijayanti", "Jl. Melati 7", "Dusun Krajan", "Hong Kong", "Malaysia",
                     "PT Maju", "Rp 6.500.000", "Keripik Siti", "C — Industri pengolahan", "Anggota rumah tangga (5 orang)",
                     "Siti Petugas", "disamarkan"):
        assert expected in flat, expected
    assert pages(text) <= 2
    assert opened == [QUrl.fromLocalFile(str(out))]  # offered for printing
    assert load_household(db, household).members[0]["nik"] == MEMBERS[0][2]  # the stored record is untouched


def test_full_nik_only_when_the_officer_unticks_the_mask(qtbot: Any, window: Any, household: str,
                                                          tmp_path: Path, opened: list[QUrl]) -> None:
    text = print_by_keyboard(qtbot, window, household, tmp_path / "lengkap.pdf", unmask=True)
    for _mid, _name, nik, *_rest in MEMBERS:
        assert nik in text
    assert KK in text and "NIK dan No. KK lengkap" in " ".join(text.split())


def test_unsaved_changes_are_saved_before_printing(qtbot: Any, window: Any, household: str, answers: Any,
                                                    tmp_path: Path, opened: list[QUrl], db: Any) -> None:
    editor = window.open_household(household)
    address = editor.form.editors["address"].focus_widget
    address.setFocus()
    qtbot.keyClick(address, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(address, "Jl. Kenanga 12")
    assert editor.dirty
    qtbot.keyClick(address, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert any("Simpan dulu" in q for q in answers.questions)
    if editor.dirty:  # the save waits for the household's warnings to be confirmed: no print yet
        assert window.findChild(QDialog, "print_dialog") is None
        qtbot.keyClick(editor.issues.confirm_button, Qt.Key.Key_Space)
    assert not editor.dirty
    out = tmp_path / "baru.pdf"
    text = print_by_keyboard(qtbot, window, household, out)
    assert "Jl. Kenanga 12" in text and load_household(db, household).household["address"] == "Jl. Kenanga 12"


def test_no_print_when_the_officer_declines_to_save(qtbot: Any, window: Any, household: str, answers: Any) -> None:
    editor = window.open_household(household)
    editor.form.editors["address"].focus_widget.setFocus()
    qtbot.keyClicks(editor.form.editors["address"].focus_widget, " lagi")
    answers.next = [False]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert window.findChild(QDialog, "print_dialog") is None and editor.dirty


@pytest.mark.parametrize("mask", [True, False])
def test_printable_household_masks_every_identity_number_only_when_asked(db: Any, household: str, mask: bool) -> None:
    from desmig_desktop.services.printing import printable_household

    printable = printable_household(db, household, mask=mask)
    numbers = [printable.graph.household["kk_number"], *(m["nik"] for m in printable.graph.members)]
    assert all(("********" in n) is mask for n in numbers)
    assert (printable.village, printable.regency) == ("Cijayanti", "Kabupaten Bogor")


def test_the_questions_hq_published_are_printed_with_their_answers(qtbot: Any, window: Any, db: Any,
                                                                   tmp_path: Path, opened: list[QUrl]) -> None:
    """The print follows the database's active questionnaire version, as the forms do: after a
    sync applied version 2, its new household and business questions are printed with the
    answers saved under them (version 1's questions stay, in their places)."""
    from desmig_desktop.store import questionnaire_store as qs
    from tests.sync.qversions import NEW_BUSINESS_FIELD, NEW_HOUSEHOLD_FIELD, v2_document

    qs.apply_document(db, v2_document())  # what a sync does when HQ published version 2
    graph = five_member_household()
    graph.household["training"] = "menjahit"
    graph.businesses[0].update(online_share=35, capital_source="koperasi")
    household_id = save_household(db, graph, confirm_warnings=True).household_id
    flat = " ".join(print_by_keyboard(qtbot, window, household_id, tmp_path / "v2.pdf").split())
    for expected in (NEW_HOUSEHOLD_FIELD["label"]["id"], "Menjahit", NEW_BUSINESS_FIELD["label"]["id"],
                     "Pinjaman koperasi", "Jl. Melati 7", "Keripik Siti", "Anggota rumah tangga (5 orang)"):
        assert expected in flat, expected
