"""Move-out notices on the laptop (issue 13 §1): a household that left this laptop's villages is
dropped with its children; a copy newer than the notice (from another of its villages) stays;
pending changes stay queued for the server to answer."""

from __future__ import annotations

import pytest

from desmig_desktop.domain.wire import PulledRecord
from desmig_desktop.store import records
from desmig_desktop.store import sync_pull as sp
from desmig_desktop.store import sync_store as st

V = "35.01.01.2001"
HOUSEHOLD = {"village_code": V, "head_name": "Kepala Pindah", "kk_number": "3501010101010001",
             "visited_on": "2025-01-02", "consent": True}
MEMBER = {"household_id": "h1", "name": "Anggota Pindah", "nik": "3501014101900001", "sex": "P",
          "relationship": "anak", "migration_status": "pmi_aktif"}
PAGE = [  # the household as this laptop pulled it before it moved: h1 v1, m1 v2, p1 v3, b1 v4
    PulledRecord("households", "h1", HOUSEHOLD, 1, False, 1),
    PulledRecord("members", "m1", MEMBER, 2, False, 2),
    PulledRecord("placements", "p1", {"member_id": "m1", "country": "MY", "job": "prt"}, 3, False, 3),
    PulledRecord("businesses", "b1", {"household_id": "h1", "name": "Warung", "kbli_category": "G",
                                      "status": "aktif"}, 4, False, 4),
    PulledRecord("households", "h2", {**HOUSEHOLD, "head_name": "Kepala Tetap"}, 5, False, 5),
]


def notice(entity: str, record_id: str, seq: int) -> PulledRecord:
    return PulledRecord(entity, record_id, {}, seq, True, seq, True)


def held(db) -> set[str]:
    return {rid for name in ("households", "members", "placements", "businesses")
            for (rid,) in db.execute(f"SELECT id FROM {name}")}


def hits(db, word: str) -> int:
    return int(db.execute("SELECT count(*) FROM household_search WHERE household_search MATCH ?", [word]).fetchone()[0])


@pytest.fixture
def pulled(db):
    sp.apply_pull(db, V, PAGE, 5, 0)
    assert held(db) == {"h1", "m1", "p1", "b1", "h2"} and hits(db, "Pindah") == 1
    return db


def test_a_notice_drops_the_household_its_children_and_its_search_entry(pulled) -> None:
    db = pulled
    # the server moves h1 (v10) and stamps each child (v11-v13); each gets its own notice
    summary = sp.apply_pull(db, V, [notice("households", "h1", 10)], 10, 0)
    assert held(db) == {"h2"}  # the children went with it at once, before their own notices
    assert summary.applied == 1  # counted as pulled, so the open lists refresh
    assert hits(db, "Pindah") == 0 and hits(db, "3501014101900001") == 0
    assert db.execute("SELECT count(*) FROM search_keys WHERE household_id = 'h1'").fetchone()[0] == 0
    sp.apply_pull(db, V, [notice("members", "m1", 11), notice("placements", "p1", 12),
                          notice("businesses", "b1", 13)], 13, 0)
    assert held(db) == {"h2"} and st.cursor(db, V) == 13


def test_a_copy_newer_than_the_notice_stays(pulled) -> None:
    """The household moved to another of this laptop's villages, whose pull came first."""
    db = pulled
    other = "35.01.01.2002"
    sp.apply_pull(db, other, [PulledRecord("households", "h1", {**HOUSEHOLD, "village_code": other}, 10, False, 10),
                              PulledRecord("members", "m1", MEMBER, 11, False, 11)], 11, 0)
    sp.apply_pull(db, V, [notice("households", "h1", 10), notice("members", "m1", 11),
                          notice("placements", "p1", 12)], 12, 0)
    # p1's move (v12) had not reached this laptop yet: that copy is the stale one
    assert held(db) == {"h1", "m1", "b1", "h2"}
    assert records.get(db, "households", "h1")["village_code"] == other


def test_a_newer_child_of_a_dropped_household_stays(pulled) -> None:
    """Only copies older than the notice go: a child another village's pull already brought
    (its household's newer version still on its way, a page later) is kept."""
    db = pulled
    sp.apply_pull(db, "35.01.01.2002", [PulledRecord("members", "m1", MEMBER, 11, False, 11)], 11, 0)
    sp.apply_pull(db, V, [notice("households", "h1", 10)], 10, 0)
    assert held(db) == {"m1", "p1", "h2"}  # p1 hangs under the kept m1: its own notice decides
    sp.apply_pull(db, V, [notice("members", "m1", 11), notice("placements", "p1", 12)], 12, 0)
    assert held(db) == {"m1", "h2"}


def test_order_within_a_page_decides(pulled) -> None:
    db = pulled
    # left at 10 and came back at 11: dropped, then the new copy applies
    sp.apply_pull(db, V, [notice("households", "h1", 10),
                          PulledRecord("households", "h1", {**HOUSEHOLD, "head_name": "Kembali"}, 11, False, 11)],
                  11, 0)
    assert records.get(db, "households", "h1")["head_name"] == "Kembali" and "m1" not in held(db)
    # changed at 12, then left at 13: the page's older copy is never applied
    sp.apply_pull(db, V, [PulledRecord("households", "h2", {**HOUSEHOLD, "head_name": "Sebelum"}, 12, False, 12),
                          notice("households", "h2", 13)], 13, 0)
    assert "h2" not in held(db) and hits(db, "Sebelum") == 0


def test_pending_changes_on_a_dropped_household_stay_queued(pulled) -> None:
    db = pulled
    [edit] = records.apply_changes(db, [records.Change("households", "h1", {"phone": "081234567890"})])
    [new_member] = records.apply_changes(db, [records.Change("members", "m9", {**MEMBER, "name": "Baru"})])
    sp.apply_pull(db, V, [notice("households", "h1", 10)], 10, 0)
    assert held(db) == {"h2"}  # the never-synced member went with its household
    # nothing typed is discarded here: the server answers them (rejected: outside the villages)
    assert [(op.op_seq, op.record_id) for op in st.take_batch(db, 10)] == [(edit, "h1"), (new_member, "m9")]


def test_a_notice_for_a_record_not_held_changes_nothing(db) -> None:
    sp.apply_pull(db, V, [notice("households", "never", 3)], 3, 0)
    assert held(db) == set() and st.cursor(db, V) == 3
