"""The window's rules without the window: Ctrl+Z of the last save or delete (``services.undo``) and
what a form's draft holds and when it is written (``services.drafts``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlite_utils import Database

from desmig_desktop.errors import KnownError
from desmig_desktop.services import drafts, households
from desmig_desktop.services.households import HouseholdGraph, delete_household, find_household, load_household, save_household
from desmig_desktop.services.undo import UndoHistory

VILLAGE = "32.01.05.2003"
HOUSEHOLD = {"village_code": VILLAGE, "head_name": "Sri Lestari", "visited_on": "2025-03-04", "consent": True,
             "rt": "001"}
HEAD = {"name": "Sri Lestari", "sex": "P", "relationship": "kepala", "migration_status": "bukan"}


def stored(db: Database) -> str:
    return save_household(db, HouseholdGraph(dict(HOUSEHOLD), [dict(HEAD)]), confirm_warnings=True).household_id


def _create(db: Database, history: UndoHistory) -> str:
    result = save_household(db, HouseholdGraph(dict(HOUSEHOLD), [dict(HEAD)]), confirm_warnings=True)
    history.record("simpan", result.household_id, result.undo)
    return result.household_id


def _edit(db: Database, history: UndoHistory) -> str:
    hid = stored(db)
    graph = load_household(db, hid)
    graph.household["rt"] = "009"
    history.record("simpan", hid, save_household(db, graph, confirm_warnings=True).undo)
    return hid


def _delete(db: Database, history: UndoHistory) -> str:
    hid = stored(db)
    history.record("hapus", hid, delete_household(db, hid))
    return hid


# (what the officer did, whether the household is there after Ctrl+Z, its RT then)
STEPS: list[tuple[Callable[[Database, UndoHistory], str], bool, str | None]] = [
    (_create, False, None),  # undoing the first save of a household removes it
    (_edit, True, "001"),
    (_delete, True, "001"),
]


@pytest.mark.parametrize(("step", "live", "rt"), STEPS, ids=["create", "edit", "delete"])
def test_ctrl_z_undoes_the_last_step_once(db: Database, step: Callable[[Database, UndoHistory], str],
                                          live: bool, rt: str | None) -> None:
    history = UndoHistory(db)
    assert history.undo() is None  # nothing done yet: nothing to undo
    hid = step(db, history)
    undone = history.undo()
    assert undone is not None and undone.step.household_id == hid and undone.live is live
    row = find_household(db, hid)
    assert row is not None and bool(row["deleted"]) is not live
    if live:
        assert row["rt"] == rt
    assert history.last is None and history.undo() is None  # one level: a second Ctrl+Z does nothing


def test_only_the_last_step_is_undone(db: Database) -> None:
    history = UndoHistory(db)
    first = _edit(db, history)
    second = _delete(db, history)
    undone = history.undo()
    assert undone is not None and undone.step.household_id == second
    assert load_household(db, first).household["rt"] == "009"  # the earlier save stays


def test_a_refused_undo_keeps_the_step_for_another_try(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    history = UndoHistory(db)
    hid = _edit(db, history)
    real = households.undo

    def locked(*_a: Any, **_k: Any) -> list[int]:
        raise KnownError("Basis data sedang dipakai.")

    monkeypatch.setattr("desmig_desktop.services.undo.undo", locked)
    with pytest.raises(KnownError):
        history.undo()
    assert history.last is not None and load_household(db, hid).household["rt"] == "009"
    monkeypatch.setattr("desmig_desktop.services.undo.undo", real)
    assert history.undo() is not None and load_household(db, hid).household["rt"] == "001"


# -- drafts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("saved_first", [False, True], ids=["never saved", "stored"])
def test_a_draft_gives_back_the_form_it_was_written_from(db: Database, saved_first: bool) -> None:
    if saved_first:
        graph = load_household(db, stored(db))
        graph.household["rt"] = "005"
    else:
        graph = HouseholdGraph({"id": "h-new", **HOUSEHOLD}, [{"id": "m-new", **HEAD}])
    data = drafts.snapshot(graph, is_new=not saved_first, title="Sri Lestari")
    drafts.save_draft(db, str(graph.household["id"]), data)
    [draft] = drafts.load_drafts(db)
    back, is_new = drafts.restored(db, draft.data)
    assert is_new is not saved_first
    assert (back.household, back.members, back.loaded) == (graph.household, graph.members, graph.loaded)


def test_a_draft_of_a_household_not_in_the_database_is_restored_as_new(db: Database) -> None:
    """Saved once, but the database no longer has it (an older backup was restored since)."""
    graph = HouseholdGraph({"id": "h-gone", **HOUSEHOLD}, [{"id": "m-gone", **HEAD}])
    assert drafts.restored(db, drafts.snapshot(graph, is_new=False, title="x"))[1] is True


def test_the_draft_writer_spares_rewrites_and_retries_after_a_failure(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    writes: list[str] = []
    real = drafts.save_draft
    fail = [True]

    def save(db_: Database, key: str, data: dict[str, Any]) -> None:
        if fail[0]:
            fail[0] = False
            raise OSError("disk full")
        writes.append(key)
        real(db_, key, data)

    monkeypatch.setattr(drafts, "save_draft", save)
    writer = drafts.DraftWriter(db)
    with caplog.at_level(logging.WARNING):
        assert writer.write("k", {"household": {"head_name": "Sri"}}) is False  # the disk refused: logged
    assert "OSError" in caplog.text and "Sri" not in caplog.text  # never the personal data
    assert writer.write("k", {"household": {"head_name": "Sri"}}) is True  # the same content: tried again
    assert writer.write("k", {"household": {"head_name": "Sri"}}) is False  # written already: spared
    assert writer.write("k", {"household": {"head_name": "Sri Lestari"}}) is True
    writer.discard("k")
    assert drafts.load_drafts(db) == []
    assert writer.write("k", {"household": {"head_name": "Sri Lestari"}}) is True  # discarded: written again
    assert writes == ["k", "k", "k"]


def test_a_draft_of_a_new_form_stays_new_though_its_save_went_through(db: Database) -> None:
    """The app was killed between a new household's save and forgetting its draft: the form it
    gives back is still the new one (what the officer was doing), whatever the database holds."""
    graph = load_household(db, stored(db))
    assert drafts.restored(db, drafts.snapshot(graph, is_new=True, title="x"))[1] is True
