"""The local audit trail: every saved field change appears once; the log is append-only."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from desmig_desktop.services.households import delete_household, load_household, save_household
from desmig_desktop.store import settings
from desmig_desktop.store.records import history
from tests.store.test_store import full_graph


def test_every_saved_field_change_appears_once(db: Database) -> None:
    settings.put(db, "officer_name", "Petugas Uji")
    graph = full_graph()
    save_household(db, graph, confirm_warnings=True)
    hid = graph.household["id"]
    created = history(db, "households", hid)
    assert {h["field"] for h in created} == {k for k, v in graph.household.items() if v is not None and k != "id"}
    assert all(h["old"] is None and h["actor"] == "Petugas Uji" and h["source"] == "local" for h in created)
    again = load_household(db, hid)
    again.household["head_name"] = "Siti A."
    again.household["phone"] = None
    save_household(db, again, confirm_warnings=True)
    later = history(db, "households", hid)[len(created):]
    assert [(h["field"], h["old"], h["new"]) for h in later] == [
        ("head_name", "Siti Aminah", "Siti A."), ("phone", "081234567890", None)]
    op_seqs = {h["op_seq"] for h in later}
    assert len(op_seqs) == 1 and db.execute("SELECT fields FROM sync_outbox WHERE op_seq = ?",
                                            [op_seqs.pop()]).fetchone()[0] == '{"head_name": "Siti A.", "phone": null}'
    save_household(db, load_household(db, hid), confirm_warnings=True)  # no change, no history
    assert len(history(db, "households", hid)) == len(created) + 2
    delete_household(db, hid)
    assert history(db, "households", hid)[-1]["field"] == "deleted"
    assert history(db, "households", hid)[-1]["new"] is True


@pytest.mark.parametrize("sql", ["UPDATE audit_log SET new = 'x'", "DELETE FROM audit_log"])
def test_audit_log_is_append_only(db: Database, sql: str) -> None:
    save_household(db, full_graph(), confirm_warnings=True)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(sql)
