"""Edits made on a copy (issue 13 §1b): a form, a draft, an exported file, an undo entry, the
conflicts inbox. Whatever a sync pulled in between, a save sends only the fields the officer
changed relative to the copy, with the copy's version as base, and never writes the copy's stale
values over the pulled ones.

The server half of the property runs the server's own merge (``plan_merge``) on the op the
laptop produced, against the record as HQ holds it after the remote change.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from sqlite_utils import Database

from desmig_desktop.domain.ids import new_id
from desmig_desktop.domain.wire import PulledRecord as ServerRecord
from desmig_desktop.services import exchange, sync_service
from desmig_desktop.services.household_copy import loaded_from_json, loaded_to_json
from desmig_desktop.services.households import HouseholdGraph, delete_household, load_household, save_household, undo
from desmig_desktop.store import records
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.sync_pull import apply_pull
from desmig_server.auth.principal import ROLE_RANK
from desmig_server.sync.merge import plan_merge

VILLAGE = "32.01.05.2003"
ME, OTHER = "device-me", "device-other"
_seq = itertools.count(1)

# Household fields the officer and the remote side change in these tests, with normalised values.
_TEXT = hs.text(alphabet="abcdefghij ", min_size=1, max_size=10).map(str.strip).filter(bool)
_DIGITS = hs.integers(1, 999).map(lambda n: f"{n:03d}")
VALUES = {"hamlet": hs.none() | _TEXT, "rt": hs.none() | _DIGITS, "rw": hs.none() | _DIGITS,
          "address": hs.none() | _TEXT, "head_name": _TEXT, "notes": hs.none() | _TEXT}
INITIAL = {"village_code": VILLAGE, "hamlet": "Kaler", "rt": "001", "rw": "003", "address": "Jl. Melati 5",
           "head_name": "Siti Aminah", "visited_on": "2026-01-02", "consent": True, "notes": None}


def changes_of(draw: Any) -> dict[str, Any]:
    keys = draw(hs.lists(hs.sampled_from(sorted(VALUES)), unique=True, max_size=len(VALUES)))
    return {k: draw(VALUES[k]) for k in keys}


@hs.composite
def interleavings(draw: Any) -> tuple[dict[str, Any], dict[str, Any], bool, str]:
    """(remote change, officer's edits, whether the pull comes after the load, remote role)."""
    return changes_of(draw), changes_of(draw), draw(hs.booleans()), draw(hs.sampled_from(sorted(ROLE_RANK)))


def pull(db: Database, hid: str, data: dict[str, Any], version: int) -> None:
    """HQ's copy of the household at ``version`` arrives by a pull."""
    apply_pull(db, VILLAGE, [ServerRecord("households", hid, {k: v for k, v in data.items() if v is not None},
                                          version, False, next(_seq))], next(_seq), st.last_acked(db))


def synced_household(db: Database, version: int = 5) -> str:
    hid = new_id()
    pull(db, hid, INITIAL, version)
    return hid


def last_op(db: Database) -> st.OutboxOp:
    return st.take_batch(db, 1_000_000)[-1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=interleavings())
def test_a_save_sends_only_the_officers_changes_on_the_version_it_loaded(db: Database, case: Any) -> None:
    remote, typed, pull_after_load, remote_role = case
    hid = synced_household(db)
    theirs = {**INITIAL, **remote}
    if not pull_after_load:
        pull(db, hid, theirs, 6)
    graph = load_household(db, hid)
    loaded_version, shown = graph.household["server_version"], dict(graph.household)
    if pull_after_load:
        pull(db, hid, theirs, 6)  # the correction arrives while the form is open
    graph.household.update(typed)
    ops_before = st.pending_count(db)
    save_household(db, graph, confirm_warnings=True)

    edits = {k: v for k, v in typed.items() if v != shown[k]}  # changed relative to what was shown
    assert st.pending_count(db) == ops_before + (1 if edits else 0)
    stored = records.get(db, "households", hid)
    assert stored is not None
    for key in VALUES:  # untouched fields keep the pulled value; changed ones are the officer's
        assert stored[key] == (edits[key] if key in edits else theirs[key]), key
    if not edits:
        return
    op = last_op(db)
    assert op.fields == edits
    assert op.base_version == loaded_version == (5 if pull_after_load else 6)

    # HQ: every field at version 5 by the device that created it, the remote change at 6.
    fmeta = {k: [5, "device-creator", "officer"] for k in INITIAL}
    fmeta.update({k: [6, OTHER, remote_role] for k, v in remote.items() if v != INITIAL[k]})
    plan = plan_merge(theirs, fmeta, op.fields, base_version=op.base_version, device_id=ME, role="officer",
                      same_value=lambda _k, a, b: a == b)
    unseen = {k for k, v in remote.items() if v != INITIAL[k]} if pull_after_load else set()
    both = {k for k in edits if k in unseen and edits[k] != theirs[k]}
    assert {c.field for c in plan.clashes} == both  # the same field changed on both sides: a conflict
    officer_wins = ROLE_RANK["officer"] >= ROLE_RANK[remote_role]
    assert all(c.incoming_won is officer_wins for c in plan.clashes)
    server_after = {**theirs, **plan.apply}
    for key in VALUES:
        if key not in edits or (key in both and not officer_wins):
            assert server_after[key] == theirs[key], key  # a remote value is never silently reverted
        else:
            assert server_after[key] == edits[key], key


# -- every path that edits from a copy -----------------------------------------------------------------
def _form(db: Database, hid: str) -> None:
    graph = load_household(db, hid)
    pull(db, hid, {**INITIAL, "rw": "011"}, 6)
    graph.household["notes"] = "dicatat"
    save_household(db, graph, confirm_warnings=True)


def _draft_restored_days_later(db: Database, hid: str) -> None:
    graph = load_household(db, hid)
    graph.household["notes"] = "dicatat"
    text = json.dumps({"household": graph.household, "loaded": loaded_to_json(graph.loaded)}, default=str)
    pull(db, hid, {**INITIAL, "rw": "011"}, 6)  # days pass; syncs run
    data = json.loads(text)
    save_household(db, HouseholdGraph(data["household"], loaded=loaded_from_json(data["loaded"])),
                   confirm_warnings=True)


def _import_of_an_earlier_export(db: Database, hid: str, tmp: Path) -> None:
    out = tmp / "ekspor.jsonl"
    exchange.export(db, "jsonl", out, mask=False)
    pull(db, hid, {**INITIAL, "rw": "011"}, 6)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        line["data"]["notes"] = "dicatat"  # the officer edits the file
    out.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    exchange.import_file(db, out)


def _import_of_an_earlier_xlsx_export(db: Database, hid: str, tmp: Path) -> None:
    from openpyxl import load_workbook

    out = tmp / "ekspor.xlsx"
    exchange.export(db, "xlsx", out, mask=False)
    pull(db, hid, {**INITIAL, "rw": "011"}, 6)
    book = load_workbook(out)
    sheet = book["households"]
    column = [c.value for c in sheet[1]].index("Catatan [notes]") + 1
    sheet.cell(row=2, column=column, value="dicatat")  # the officer edits the file in a spreadsheet
    book.save(out)
    exchange.import_file(db, out)


def _undo_of_a_save(db: Database, hid: str) -> None:
    graph = load_household(db, hid)
    graph.household["notes"] = "salah ketik"
    result = save_household(db, graph, confirm_warnings=True)
    pull(db, hid, {**INITIAL, "rw": "011", "notes": "salah ketik"}, 6)  # pushed, and HQ corrected RW
    undo(db, result.undo)


PATHS = {"form": _form, "draft": _draft_restored_days_later, "import": _import_of_an_earlier_export,
         "import-xlsx": _import_of_an_earlier_xlsx_export, "undo": _undo_of_a_save}
EXPECTED_NOTES = {"form": "dicatat", "draft": "dicatat", "import": "dicatat", "import-xlsx": "dicatat", "undo": None}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_copy_path_keeps_a_correction_pulled_after_the_copy_was_made(db: Database, tmp_path: Path,
                                                                          path: str) -> None:
    hid = synced_household(db)
    run = PATHS[path]
    run(db, hid, tmp_path) if path.startswith("import") else run(db, hid)
    stored = records.get(db, "households", hid)
    assert stored is not None and (stored["rw"], stored["notes"]) == ("011", EXPECTED_NOTES[path])
    op = last_op(db)
    assert op.fields == {"notes": EXPECTED_NOTES[path]}
    assert op.base_version == 5


def test_keep_mine_from_the_inbox_is_an_edit_on_the_winning_value_shown(db: Database) -> None:
    """The inbox showed HQ's winning head name; a later pull changed it again: keeping mine would
    overrule a value the officer never saw, so it is refused and the row shows the new winner."""
    hid = synced_household(db)
    db.execute("INSERT INTO sync_conflicts (kind, entity, record_id, field, mine, theirs, reason, op_seq, status,"
               " created_at) VALUES ('conflict', 'households', ?, 'head_name', ?, ?, NULL, NULL, 'open', 'now')",
               [hid, json.dumps("Siti A."), json.dumps("Siti Aminah")])
    conflict_id = sync_service.list_conflicts(db)[0].id
    pull(db, hid, {**INITIAL, "head_name": "Siti Aminah Binti Ali"}, 7)
    with pytest.raises(sync_service.KnownError):
        sync_service.keep_mine(db, conflict_id)
    assert sync_service.list_conflicts(db)[0].theirs == "Siti Aminah Binti Ali"
    assert st.pending_count(db) == 0
    sync_service.keep_mine(db, conflict_id)  # now decided on what holds
    op = last_op(db)
    assert (op.fields, op.base_version) == ({"head_name": "Siti A."}, 7)
    assert records.get(db, "households", hid)["head_name"] == "Siti A."


def test_resend_of_a_refused_change_keeps_the_base_it_was_captured_on(db: Database) -> None:
    hid = synced_household(db)
    graph = load_household(db, hid)
    graph.household["rt"] = "009"
    save_household(db, graph, confirm_warnings=True)
    op = last_op(db)
    st.apply_ack(db, op.op_seq, [st.OpOutcome(op.op_seq, "rejected", reason="uji")])
    pull(db, hid, {**INITIAL, "rw": "011"}, 8)
    conflict_id = sync_service.list_conflicts(db)[0].id
    sync_service.resend_rejected(db, conflict_id)
    again = last_op(db)
    assert (again.fields, again.base_version) == ({"rt": "009"}, 5)
    assert records.get(db, "households", hid)["rw"] == "011"


def test_an_ack_does_not_rebase_an_op_made_on_an_older_copy(db: Database) -> None:
    """A form opened at version 5 saves after a pull brought 6 and a fresh edit (base 6) was sent:
    that edit's ok at 7 must not lift the stale form's base to 7 — HQ's change at 6 would vanish
    from the merge."""
    hid = synced_household(db)
    stale = load_household(db, hid)
    pull(db, hid, {**INITIAL, "rw": "011"}, 6)
    fresh = load_household(db, hid)
    fresh.household["hamlet"] = "Kidul"
    save_household(db, fresh, confirm_warnings=True)
    sent = last_op(db)
    st.mark_sent(db, sent.op_seq)
    stale.household["rw"] = "005"
    save_household(db, stale, confirm_warnings=True)
    st.apply_ack(db, sent.op_seq, [st.OpOutcome(sent.op_seq, "ok", version=7)])
    waiting = last_op(db)
    assert (waiting.fields, waiting.base_version) == ({"rw": "005"}, 5)
    later = load_household(db, hid)  # a copy made after the ack is on the acked version
    later.household["notes"] = "n"
    save_household(db, later, confirm_warnings=True)
    assert [o.base_version for o in st.take_batch(db, 10)] == [5, 7]


def test_deleting_from_an_open_form_is_made_on_the_version_it_shows(db: Database) -> None:
    hid = synced_household(db)
    shown = load_household(db, hid)
    pull(db, hid, {**INITIAL, "rw": "011"}, 6)
    delete_household(db, hid, loaded=shown.loaded)
    op = last_op(db)
    assert (op.kind, op.base_version) == ("delete", 5)  # HQ sees the RW change it never showed: a conflict
    plain = synced_household(db)
    delete_household(db, plain)  # from the list: decided on the record as it is now
    assert last_op(db).base_version == 5


def test_a_member_edited_in_an_open_form_keeps_its_pulled_correction(db: Database) -> None:
    """The same rule for the household's children: a member's name corrected by a pull while the
    form was open stays; the member's op carries only the field the officer typed."""
    hid = synced_household(db)
    mid = new_id()
    head = {"household_id": hid, "name": "Siti", "sex": "P", "relationship": "kepala", "migration_status": "bukan"}
    apply_pull(db, VILLAGE, [ServerRecord("members", mid, head, 5, False, next(_seq))], next(_seq),
               st.last_acked(db))
    graph = load_household(db, hid)
    apply_pull(db, VILLAGE, [ServerRecord("members", mid, {**head, "name": "Siti Aminah"}, 6, False, next(_seq))],
               next(_seq), st.last_acked(db))
    [shown] = graph.members
    shown["birth_place"] = "Garut"
    save_household(db, graph, confirm_warnings=True)
    stored = records.get(db, "members", mid)
    assert stored is not None and (stored["name"], stored["birth_place"]) == ("Siti Aminah", "Garut")
    [op] = [o for o in st.take_batch(db, 10) if o.record_id == mid]
    assert (op.fields, op.base_version) == ({"birth_place": "Garut"}, 5)
