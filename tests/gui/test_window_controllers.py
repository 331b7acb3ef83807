"""The main window's controllers: drafts offered back (an unreadable one skipped, not fatal) and
Ctrl+Z (the menu says what it undoes; a refused undo is shown and can be tried again)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from gui_helpers import VILLAGE

from desmig_desktop.errors import KnownError
from desmig_desktop.services import drafts
from desmig_desktop.services.households import HouseholdGraph, find_household, save_household

HOUSEHOLD = {"village_code": VILLAGE, "head_name": "Ani Rahayu", "visited_on": "2025-03-04", "consent": True}
HEAD = {"name": "Ani Rahayu", "sex": "P", "relationship": "kepala", "migration_status": "bukan"}


def stored(db: Any) -> str:
    return save_household(db, HouseholdGraph(dict(HOUSEHOLD), [dict(HEAD)]), confirm_warnings=True).household_id


@pytest.mark.parametrize("bad", [{}, {"household": {"id": "x"}, "loaded": [["nope", "x", 1, {}]]},
                                 {"household": {"id": "x"}, "members": 5}], ids=["empty", "loaded", "members"])
def test_an_unreadable_draft_is_skipped_and_the_others_open(qtbot: Any, window: Any, ctx: Any, bad: dict[str, Any],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    good = HouseholdGraph({"id": "h-good", **HOUSEHOLD})
    drafts.save_draft(ctx.db, "h-bad", bad)
    drafts.save_draft(ctx.db, "h-good", drafts.snapshot(good, is_new=True, title="Ani Rahayu"))
    with caplog.at_level(logging.WARNING):
        assert window.restore_drafts(drafts.load_drafts(ctx.db)) == 1
    assert [e.household_id for e in window.editors()] == ["h-good"] and window.editors()[0].is_new
    assert "h-bad" in caplog.text and "Ani" not in caplog.text


def test_the_undo_menu_names_the_step_and_a_refused_undo_can_be_tried_again(
        qtbot: Any, window: Any, db: Any, answers: Any, shown_errors: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    hid = stored(db)
    window.list_page.refresh(select_id=hid)
    assert not window.undo_action.isEnabled()
    assert window.delete_household(hid)
    assert window.undo_action.isEnabled() and "hapus Ani Rahayu" in window.undo_action.text()

    def locked(*_a: Any, **_k: Any) -> list[int]:
        raise KnownError("Basis data sedang dipakai aplikasi lain.")

    monkeypatch.setattr("desmig_desktop.services.undo.undo", locked)
    assert not window.undo_last()
    assert shown_errors == ["Basis data sedang dipakai aplikasi lain."]
    shown_errors.clear()
    assert window.undo_action.isEnabled() and find_household(db, hid)["deleted"]  # nothing changed, still offered
    monkeypatch.undo()
    assert window.undo_last()
    assert not find_household(db, hid)["deleted"] and not window.undo_action.isEnabled()
    assert window.list_page.current_household_id() == hid  # the list shows it again, selected
