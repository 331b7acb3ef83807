"""The cascading region picker narrows province → village and filters by typed text."""

from __future__ import annotations

from typing import Any

from gui_helpers import VILLAGE, show_active
from PySide6.QtCore import Qt

from desmig_desktop.store import regions as region_store
from desmig_desktop.ui.region_picker import RegionPicker


def make_picker(qtbot: Any, db: Any) -> RegionPicker:
    picker = RegionPicker(db)
    qtbot.addWidget(picker)
    show_active(qtbot, picker)
    return picker


def type_and_enter(qtbot: Any, edit: Any, text: str) -> list[str]:
    edit.setFocus()
    qtbot.keyClicks(edit, text)
    names = [r.name for r in edit.model.regions()]
    popup = edit.completer_.popup()
    qtbot.keyClick(popup if popup.isVisible() else edit, Qt.Key.Key_Return)  # where a real keyboard sends it
    return names


def test_narrows_from_province_to_village_by_typing(qtbot: Any, db: Any) -> None:
    picker = make_picker(qtbot, db)
    province, regency, district, village = picker.levels
    assert not regency.isEnabled() and not village.isEnabled()
    assert type_and_enter(qtbot, province, "jawa") == ["Jawa Barat", "Jawa Tengah", "Jawa Timur"]
    assert province.region.code == "32" and regency.isEnabled() and regency.hasFocus()
    assert type_and_enter(qtbot, regency, "bogor") == ["Kabupaten Bogor", "Kota Bogor"]
    assert regency.region.code == "32.01"
    assert type_and_enter(qtbot, district, "madang") == ["Babakan Madang"]
    assert type_and_enter(qtbot, village, "cijay") == ["Cijayanti"]
    assert picker.code() == VILLAGE


def test_each_level_lists_only_children_of_the_level_above(qtbot: Any, db: Any) -> None:
    picker = make_picker(qtbot, db)
    picker.set_code(VILLAGE)
    regencies = picker.levels[1].filter("")
    assert regencies and all(r.parent_code == "32" for r in regencies)
    villages = picker.levels[3].filter("")
    assert villages == region_store.children(db, "32.01.05")
    assert len(villages) < 50  # a district's villages, never the 83,762 of the country


def test_arrow_down_shows_all_choices_and_enter_takes_the_highlighted(qtbot: Any, db: Any) -> None:
    picker = make_picker(qtbot, db)
    province = picker.levels[0]
    province.setFocus()
    qtbot.keyClick(province, Qt.Key.Key_Down)
    assert province.model.rowCount() == 38
    popup = province.completer_.popup()
    assert popup.isVisible()
    popup.setCurrentIndex(popup.model().index(2, 0))
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert province.region is not None and province.region.name == province.model.region(2).name


def test_changing_an_upper_level_clears_the_lower_ones(qtbot: Any, db: Any) -> None:
    picker = make_picker(qtbot, db)
    picker.set_code(VILLAGE)
    assert picker.code() == VILLAGE
    changes: list[None] = []
    picker.changed.connect(lambda: changes.append(None))
    type_and_enter(qtbot, picker.levels[1], "")  # keep
    picker.levels[0].selectAll()
    type_and_enter(qtbot, picker.levels[0], "bali")
    assert picker.levels[0].region.code == "51"
    assert picker.code() is None and picker.levels[1].text() == "" and not picker.levels[2].isEnabled()
    assert changes


def test_typing_a_full_code_selects_the_whole_chain(qtbot: Any, db: Any) -> None:
    picker = make_picker(qtbot, db)
    picker.levels[0].setFocus()
    qtbot.keyClicks(picker.levels[0], VILLAGE)
    assert picker.code() == VILLAGE
    assert [e.text() for e in picker.levels] == ["Jawa Barat", "Kabupaten Bogor", "Babakan Madang", "Cijayanti"]


def test_leaving_a_level_with_a_single_match_takes_it(qtbot: Any, db: Any) -> None:
    picker = make_picker(qtbot, db)
    picker.levels[0].setFocus()
    qtbot.keyClicks(picker.levels[0], "gorontalo")
    assert picker.levels[0].region is None
    popup = picker.levels[0].completer_.popup()
    assert popup.isVisible()
    qtbot.keyClick(popup, Qt.Key.Key_Tab)  # the keyboard goes to the open list, as on a real screen
    assert picker.levels[0].region is not None and picker.levels[0].region.name == "Gorontalo"


def test_store_queries_are_bounded(db: Any) -> None:
    assert [r.name for r in region_store.children(db, None, "sulawesi")][:2] == ["Sulawesi Barat", "Sulawesi Selatan"]
    assert region_store.children(db, "32", "100%") == []  # LIKE wildcards are escaped
    found = {v.code: v for v in region_store.find_villages(db, "cijay")}
    assert found[VILLAGE].regency == "Kabupaten Bogor" and all(v.name.startswith("Cijay") for v in found.values())
    assert len(region_store.find_villages(db, "s", limit=30)) == 30
    assert region_store.village_label(db, VILLAGE) == "Cijayanti, Babakan Madang, Kabupaten Bogor"
    assert region_store.lineage(db, "99.99") == []
