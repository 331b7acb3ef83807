"""The household list and the editor's record tables show the specs' list columns (``list_columns``),
in the order and with the headers they had when the columns were written by hand."""

from __future__ import annotations

from typing import Any

import pytest
from gui_helpers import OTHER_VILLAGE, VILLAGE, show_active
from PySide6.QtCore import Qt

from desmig_desktop.domain.fields import BUSINESSES, MEMBERS, PLACEMENTS, EntitySpec, list_columns
from desmig_desktop.domain.i18n import pick, set_language
from desmig_desktop.services.households import HouseholdGraph, load_household, save_household
from desmig_desktop.store import settings
from desmig_desktop.ui.editor import HouseholdEditor
from desmig_desktop.ui.models import HouseholdTableModel, RecordListModel

HEADERS = {"id": ["Nama kepala keluarga", "Desa/kelurahan", "No. KK", "Tanggal kunjungan", "Anggota", "Usaha"],
           "en": ["Head of household", "Village", "Family card no.", "Visit date", "Members", "Businesses"]}


def _headers(model: Any) -> list[str]:
    return [model.headerData(n, Qt.Orientation.Horizontal) for n in range(model.columnCount())]


def _save(db: Any, name: str, village: str, kk: str, visited: str) -> str:
    graph = HouseholdGraph({"village_code": village, "head_name": name, "kk_number": kk, "visited_on": visited,
                            "consent": True}, [], [], [])
    return save_household(db, graph, confirm_warnings=True).household_id


@pytest.mark.parametrize("language", ["id", "en"])
def test_household_list_headers_are_the_same(db: Any, language: str) -> None:
    set_language(language)
    try:
        assert _headers(HouseholdTableModel(db)) == HEADERS[language]
    finally:
        set_language("id")


def test_every_household_list_column_shows_and_sorts_by_its_value(db: Any) -> None:
    settings.put(db, "villages", [VILLAGE, OTHER_VILLAGE])
    # each column's order differs from the head names' (the order a key unknown to the query falls back to)
    _save(db, "Ani", OTHER_VILLAGE, "3201051234560002", "2025-05-04")
    _save(db, "Budi", VILLAGE, "3201051234560001", "2025-05-03")
    model = HouseholdTableModel(db)
    model.refresh()

    def column(n: int) -> list[str]:
        return [model.data(model.index(row, n)) for row in range(model.rowCount())]

    assert column(0) == ["Ani", "Budi"]
    assert column(2) == ["3201051234560002", "3201051234560001"]
    assert column(3) == ["04/05/2025", "03/05/2025"]
    assert column(4) == column(5) == ["0", "0"]
    names = column(1)
    assert names == ["Tambakreja", "Cijayanti"]  # the village's name, not its code
    for n, ordered in ((1, ["Cijayanti", "Tambakreja"]), (2, ["3201051234560001", "3201051234560002"]),
                       (3, ["03/05/2025", "04/05/2025"])):
        model.sort(n, Qt.SortOrder.AscendingOrder)
        assert column(n) == ordered, n
        model.sort(n, Qt.SortOrder.DescendingOrder)
        assert column(n) == ordered[::-1], n


@pytest.mark.parametrize("spec", [MEMBERS, PLACEMENTS, BUSINESSES], ids=lambda s: s.name)
def test_a_record_table_defaults_to_the_spec_list_columns(spec: EntitySpec) -> None:
    model = RecordListModel(spec, None, list)
    assert model.columns == list_columns(spec)
    assert _headers(model) == [pick(spec.field(k).label_id, spec.field(k).label_en) for k in list_columns(spec)]


def test_the_editor_tables_show_the_spec_list_columns(qtbot: Any, db: Any, paths: Any) -> None:
    editor = HouseholdEditor(db, load_household(db, _save(db, "Ani", VILLAGE, "", "2025-05-03")))
    qtbot.addWidget(editor)
    show_active(qtbot, editor)
    sections = editor.findChildren(RecordListModel)
    assert {m.spec.name: m.columns for m in sections} == {
        spec.name: list_columns(spec) for spec in (MEMBERS, PLACEMENTS, BUSINESSES)}
