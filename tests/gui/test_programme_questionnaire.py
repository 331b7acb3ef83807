"""The programme window follows the questionnaire version the database is on (issues 15 and 16
§3), as the household form does: after a sync applied a version that adds questions to programme
records, a record opened then shows and saves them (a child list's too), the list shows a new
answer by its label; a form open since before keeps its widgets and what was typed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from gui_helpers import fill, press_ctrl
from PySide6.QtCore import Qt

from desmig_desktop.domain.questionnaire import bundled_document
from desmig_desktop.store import questionnaire_store as qs
from desmig_desktop.ui.programme import ProgrammeWindow
from tests.gui.test_programme_gui import family, goto, live, programme  # noqa: F401 (fixtures)

HEARD_FROM = {"key": "heard_from", "label": {"id": "Tahu layanan dari", "en": "Heard of the service from"},
              "kind": "choice", "choices": [
                  {"value": "radio", "label": {"id": "Radio desa", "en": "Village radio"}},
                  {"value": "tetangga", "label": {"id": "Tetangga", "en": "Neighbour"}}]}
SHARES = {"key": "shares", "label": {"id": "Jumlah saham", "en": "Shares held"}, "kind": "int",
          "minimum": 0, "maximum": 1000}
NEW_SERVICE_TYPE = {"value": "pelatihan_bahasa", "label": {"id": "Kursus bahasa", "en": "Language course"}}


def programme_version(version: int = 2) -> dict[str, Any]:
    """A version HQ could publish: a question for services, one for cooperative members, an answer for services."""
    doc = copy.deepcopy(bundled_document())
    doc["version"] = version
    for entity in doc["entities"]:
        if entity["name"] == "services":
            entity["fields"].append(copy.deepcopy(HEARD_FROM))
            next(f for f in entity["fields"] if f["key"] == "service_type")["choices"].append(
                copy.deepcopy(NEW_SERVICE_TYPE))
        elif entity["name"] == "cooperative_members":
            entity["fields"].append(copy.deepcopy(SHARES))
    return doc


SERVICE = {"served_on": "02/11/2026", "service_type": "informasi", "status": "selesai"}


def _save(qtbot: Any, win: ProgrammeWindow, page: Any) -> None:
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert not page.editor.dirty, page.editor.status.text()


def test_a_programme_form_opened_after_a_new_version_shows_and_saves_its_questions(
        qtbot: Any, programme: ProgrammeWindow, db: Any, family: Any) -> None:
    win = programme
    mother, _child, grandmother = (m["id"] for m in family.members)
    page = goto(qtbot, win, 2)
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    assert "heard_from" not in page.editor.form.editors  # version 1: not asked
    qtbot.keyClick(win.focusWidget(), Qt.Key.Key_Escape)
    assert not page.editing()

    qs.apply_document(db, programme_version())  # what a sync does when HQ published the version
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    assert page.editing() and page.editor.isAncestorOf(win.focusWidget())
    fill(qtbot, page.editor.form, {**SERVICE, "member_id": mother, "service_type": "pelatihan_bahasa",
                                   "heard_from": "radio"})
    _save(qtbot, win, page)
    saved = live(db, "services")
    assert [(r["service_type"], r["heard_from"]) for r in saved] == [("pelatihan_bahasa", "radio")]
    column = page.model.columns.index("service_type")
    assert page.model.index(0, column).data() == "Kursus bahasa"  # the list shows the new answer's label
    ops = db.execute("SELECT questionnaire_version FROM sync_outbox WHERE entity = 'services'").fetchall()
    assert {v for (v,) in ops} == {2}

    page = goto(qtbot, win, 5)  # a child list's new question: a cooperative member's shares
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    fill(qtbot, page.editor.form, {"name": "KUB Sejahtera", "group_kind": "kelompok", "legal_status": "belum",
                                   "status": "aktif"})
    members = page.editor.sections["cooperative_members"]
    members.add()
    assert "shares" in members.form.editors
    fill(qtbot, members.form, {"member_id": grandmother, "role": "ketua", "shares": "12"})
    _save(qtbot, win, page)
    assert [(r["member_id"], r["shares"]) for r in live(db, "cooperative_members")] == [(grandmother, 12)]


@pytest.mark.parametrize("dirty", [True, False])
def test_a_programme_form_open_across_the_new_version_keeps_what_was_typed(
        qtbot: Any, programme: ProgrammeWindow, db: Any, family: Any, dirty: bool) -> None:
    win = programme
    mother = family.members[0]["id"]
    page = goto(qtbot, win, 2)
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    if dirty:
        fill(qtbot, page.editor.form, {**SERVICE, "member_id": mother})
    editor = page.editor
    qs.apply_document(db, programme_version())  # a sync in the background applies the version
    assert page.editor is editor and "heard_from" not in editor.form.editors  # the open form keeps its widgets
    if not dirty:
        fill(qtbot, page.editor.form, {**SERVICE, "member_id": mother})  # typed after the version arrived
    _save(qtbot, win, page)
    assert page.editor is editor  # the record saved stays shown in the form it was typed in
    saved = live(db, "services")
    assert [(r["member_id"], r["service_type"], r["heard_from"]) for r in saved] == [(mother, "informasi", None)]
    press_ctrl(qtbot, win, Qt.Key.Key_N)  # the next record opened gets the new questions
    assert page.editor is not editor and "heard_from" in page.editor.form.editors
    assert page.editor.isAncestorOf(win.focusWidget())
