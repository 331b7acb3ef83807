"""Drafts (issue 20 §11): a chooser by keyboard, drafts of households saved anyway dropped, and the
draft written on every change (400 ms after the last keystroke, at once on leaving a field)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from gui_helpers import VILLAGE, fill, show_active
from PySide6.QtCore import Qt

from desmig_desktop.services import drafts
from desmig_desktop.services.households import HouseholdGraph, load_household, save_household
from desmig_desktop.ui.editor import HouseholdEditor
from desmig_desktop.ui.form_draft import DRAFT_DELAY_MS
from desmig_desktop.ui.main_window import MainWindow

NAMES = ("Wati Satu", "Wati Dua", "Wati Tiga")


def restart(qtbot: Any, ctx: Any, old: Any) -> Any:
    old.close()  # unsaved forms are kept as drafts
    again = MainWindow(ctx, autosave_ms=60_000)
    qtbot.addWidget(again)
    show_active(qtbot, again)
    return again


def test_the_chooser_opens_discards_and_keeps_drafts_by_keyboard(qtbot: Any, ctx: Any, window: Any,
                                                                  answers: Any) -> None:
    for name in NAMES:
        fill(qtbot, window.new_household().form, {"head_name": name})
    again = restart(qtbot, ctx, window)
    chooser = again.offer_drafts()
    assert chooser is not None and again.editors() == []  # nothing opened before the officer chooses
    lines = [chooser.list.item(n).text() for n in range(chooser.list.count())]
    assert len(lines) == 3 and all(any(name in line for line in lines) for name in NAMES)
    qtbot.waitUntil(chooser.list.hasFocus)
    qtbot.keyClick(chooser.list, Qt.Key.Key_Down)
    chosen = chooser.selected()[0]
    qtbot.keyClick(chooser.list, Qt.Key.Key_Return)  # opens the chosen one only
    assert [e.household_id for e in again.editors()] == [chosen.key] and chooser.list.count() == 2
    second = chooser.selected()[0]
    qtbot.keyClick(chooser.list, Qt.Key.Key_Delete)  # thrown away, after one question
    assert "Buang 1 isian" in answers.questions[-1]
    assert {d.key for d in drafts.load_drafts(ctx.db)} == {d.key for d in chooser.drafts()} | {chosen.key}
    assert second.key not in {d.key for d in drafts.load_drafts(ctx.db)}
    qtbot.keyClick(chooser.list, Qt.Key.Key_Escape)  # the last one: kept for later
    qtbot.waitUntil(lambda: not chooser.isVisible())
    assert len(again.editors()) == 1 and len(drafts.load_drafts(ctx.db)) == 2


def _stored_graph(db: Any) -> HouseholdGraph:
    graph = HouseholdGraph({"village_code": VILLAGE, "head_name": "Sri Tersimpan", "visited_on": "2025-03-04",
                            "consent": True, "rt": "7"},
                           [{"name": "Sri Tersimpan", "sex": "P", "relationship": "kepala",
                             "migration_status": "bukan"},
                            {"name": "Anak", "sex": "L", "relationship": "anak", "migration_status": "bukan"}])
    return load_household(db, save_household(db, graph).household_id)


# Each: what the officer did in the form, then what reached the database before the app died.
# (the draft holds the form; ``kept`` is whether it still holds something unsaved)
def _saved(db: Any, e: HouseholdEditor) -> None:
    save_household(db, e.graph(), confirm_warnings=True)


def _nothing_saved(db: Any, e: HouseholdEditor) -> None:
    pass


def _other_field_saved(db: Any, e: HouseholdEditor) -> None:
    graph = load_household(db, e.household_id)
    graph.household["hamlet"] = "Lain"
    save_household(db, graph, confirm_warnings=True)


CASES: list[tuple[str, bool, Callable[[Any, HouseholdEditor], None], bool]] = [
    # (case, new household?, edit in the form, kept?)
    ("new household, saved", True, _saved, False),
    ("edited field, saved", False, _saved, False),
    ("edited field, not saved", False, _nothing_saved, True),
    ("edited field, another field saved", False, _other_field_saved, True),
]


@pytest.mark.parametrize(("case", "new", "then", "kept"), CASES, ids=[c[0] for c in CASES])
def test_a_draft_of_a_household_saved_anyway_is_dropped_at_the_next_start(
        qtbot: Any, ctx: Any, window: Any, case: str, new: bool, then: Callable[[Any, HouseholdEditor], None],
        kept: bool) -> None:
    if new:
        editor = window.new_household()
        fill(qtbot, editor.form, {"head_name": "Baru Sekali", "consent": True, "rt": "3"})
    else:
        editor = window.open_household(_stored_graph(ctx.db).household["id"])
        fill(qtbot, editor.form, {"rt": "8"})
    editor.draft.write()
    then(ctx.db, editor)  # e.g. the save committed, then the app was killed before it forgot the draft
    editor.dirty = False  # (the window closes without writing it again)
    again = restart(qtbot, ctx, window)
    chooser = again.offer_drafts()
    assert (chooser is not None) is kept
    assert [d.key for d in drafts.load_drafts(ctx.db)] == ([editor.household_id] if kept else [])


def test_removing_a_member_is_unsaved_until_saved(qtbot: Any, ctx: Any, window: Any, answers: Any) -> None:
    editor = window.open_household(_stored_graph(ctx.db).household["id"])
    members = editor.members.members
    members.select_row(1)
    members.table.setFocus()
    qtbot.keyClick(members.table, Qt.Key.Key_Delete)
    assert len(editor.records.members) == 1
    editor.draft.write()
    [draft] = drafts.load_drafts(ctx.db)
    assert drafts.drop_saved(ctx.db) == [draft]  # the member is still stored: the removal is unsaved
    save_household(ctx.db, editor.graph(), confirm_warnings=True)
    assert drafts.drop_saved(ctx.db) == [] and drafts.load_drafts(ctx.db) == []


def test_the_draft_follows_each_change_400_ms_after_the_last_key(qtbot: Any, ctx: Any, monkeypatch: Any) -> None:
    assert DRAFT_DELAY_MS == 400
    window = MainWindow(ctx)  # the app's own delay
    qtbot.addWidget(window)
    show_active(qtbot, window)
    writes: list[float] = []
    real = drafts.save_draft
    monkeypatch.setattr(drafts, "save_draft", lambda *a, **k: (writes.append(time.monotonic()), real(*a, **k)))
    editor = window.new_household()
    head = editor.form.editors["head_name"].edit
    head.setFocus()
    qtbot.keyClicks(head, "Siti Rahma")  # typed in one go: no write per keystroke
    typed = time.monotonic()
    assert writes == []
    qtbot.waitUntil(lambda: any(d.data["household"].get("head_name") == "Siti Rahma"
                                for d in drafts.load_drafts(ctx.db)), timeout=2000)
    assert len(writes) == 1 and writes[0] - typed >= 0.35
    rt = editor.form.editors["rt"].edit
    rt.setFocus()
    qtbot.keyClicks(rt, "12")
    qtbot.keyClick(rt, Qt.Key.Key_Tab)  # leaving the field writes at once: a crash now loses nothing typed
    [draft] = drafts.load_drafts(ctx.db)
    assert draft.data["household"]["rt"] == "12" and len(writes) == 2
