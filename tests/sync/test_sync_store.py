"""The local transactions of the cycle, without a server: ack, pull apply, re-enqueue, identity."""

from __future__ import annotations

import json

import pytest

from desmig_desktop.domain.wire import PulledRecord
from desmig_desktop.store import records
from desmig_desktop.store import sync_conflicts as sc
from desmig_desktop.store import sync_pull as sp
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.records import Change
from desmig_desktop.store.sync_store import OpOutcome

V = "35.01.01.2001"


class Boom(BaseException):
    pass


def household(hid: str, **extra: object) -> dict[str, object]:
    return {"village_code": V, "head_name": f"Kepala {hid}", "visited_on": "2025-01-02", "consent": True, **extra}


def save(db, entity: str, rid: str, **values: object) -> int:
    [seq] = records.apply_changes(db, [Change(entity, rid, dict(values))])
    return seq


def crash_at(name: str):
    def hook(point: str) -> None:
        if point == name:
            raise Boom(point)
    return hook


def test_ack_moves_acked_ops_records_versions_and_rebases_only_unsent_ops(db) -> None:
    s1 = save(db, "households", "h1", **household("h1"))
    s2 = save(db, "households", "h1", notes="a")
    s3 = save(db, "households", "h1", notes="b")
    s4 = save(db, "households", "h1", notes="c")
    st.mark_sent(db, s3)  # s1..s3 went out; the answer covers only s1..s2 (an earlier, halved batch)
    summary = st.apply_ack(db, s2, [OpOutcome(s1, "ok", 10), OpOutcome(s2, "ok", 11)])
    assert summary.acked == 2 and [op.op_seq for op in st.take_batch(db, 9)] == [s3, s4]
    assert records.get(db, "households", "h1")["server_version"] == 11
    left = {op.op_seq: op for op in st.take_batch(db, 9)}
    assert left[s3].base_version == 0  # sent: its hash must never change (the server may hold it)
    assert left[s4].base_version == 11  # never sent: rebased, hash recomputed
    assert left[s4].op_hash == records.op_hash("households", "h1", "upsert", 11, {"notes": "c"})
    assert st.last_acked(db) == s2
    assert [r[0] for r in db.execute("SELECT status FROM sync_journal ORDER BY op_seq")] == ["ok", "ok"]


def test_merged_answer_neither_sets_the_version_nor_rebases(db) -> None:
    s1 = save(db, "households", "h1", **household("h1"))
    s2 = save(db, "households", "h1", notes="x")
    st.mark_sent(db, s1)
    st.apply_ack(db, s1, [OpOutcome(s1, "merged", 20)])
    assert records.get(db, "households", "h1")["server_version"] == 0  # the pull brings version 20 with its data
    assert st.take_batch(db, 1)[0].op_seq == s2 and st.take_batch(db, 1)[0].base_version == 0


def test_ack_stores_lost_fields_and_rejections(db) -> None:
    s1 = save(db, "households", "h1", **household("h1"))
    s2 = save(db, "households", "h1", notes="mine", hamlet="Dusun A")
    st.apply_ack(db, s2, [OpOutcome(s1, "rejected", 0, "village_code: tidak ada"),
                          OpOutcome(s2, "conflict", 9, None, (("notes", False), ("hamlet", True)))])
    rows = sc.conflict_rows(db)
    assert [(r.kind, r.field, r.mine) for r in rows] == [
        ("rejected", None, dict(household("h1").items())), ("conflict", "notes", "mine")]
    assert rows[0].reason == "village_code: tidak ada"


def test_pull_drops_acked_ops_first_then_overwrites(db) -> None:
    save(db, "households", "h1", **household("h1"))
    s2 = save(db, "households", "h1", notes="pending")
    server = PulledRecord("households", "h1", {**household("h1"), "head_name": "Dari server", "notes": "srv"}, 5,
                          False, 5)
    # The server's watermark covers s1 and s2 (their acks were lost): nothing is pending any more.
    summary = sp.apply_pull(db, V, [server], 5, s2)
    assert summary.dropped == 2 and st.pending_count(db) == 0
    row = records.get(db, "households", "h1")
    assert (row["head_name"], row["notes"], row["server_version"]) == ("Dari server", "srv", 5)
    assert st.cursor(db, V) == 5 and st.last_acked(db) == s2


def test_pull_without_the_watermark_step_keeps_a_stale_local_value(db) -> None:
    """What the ``no_watermark`` negative control breaks: the pending overlay hides the server's value."""
    save(db, "households", "h1", **household("h1"))
    s2 = save(db, "households", "h1", notes="old mine")
    server = PulledRecord("households", "h1", {**household("h1"), "notes": "newer, from another device"}, 7, False, 7)
    sp.apply_pull(db, V, [server], 7, s2, drop_acked=False)
    assert records.get(db, "households", "h1")["notes"] == "old mine"


def test_pull_lays_pending_fields_over_server_data_and_fills_theirs(db) -> None:
    s1 = save(db, "households", "h1", **household("h1"))
    st.apply_ack(db, s1, [OpOutcome(s1, "ok", 3)])
    s2 = save(db, "households", "h1", notes="mine, not yet sent")
    db.execute("INSERT INTO sync_conflicts (kind, entity, record_id, field, mine, status, created_at)"
               " VALUES ('conflict', 'households', 'h1', 'hamlet', '\"X\"', 'open', 'now')")
    server = PulledRecord("households", "h1", {**household("h1"), "hamlet": "Dusun Server", "notes": "srv"}, 8,
                          False, 8)
    sp.apply_pull(db, V, [server], 8, s1)
    row = records.get(db, "households", "h1")
    assert (row["hamlet"], row["notes"], row["server_version"]) == ("Dusun Server", "mine, not yet sent", 8)
    assert [op.op_seq for op in st.take_batch(db, 5)] == [s2]
    assert sc.conflict_rows(db)[0].theirs == "Dusun Server"
    hits = db.execute("SELECT count(*) FROM household_search WHERE household_search MATCH 'Kepala'").fetchone()[0]
    assert hits == 1


def test_pull_keeps_one_search_row_per_household_across_new_and_updated_pages(db) -> None:
    """A page mixing new households and households already indexed: every one is found by its
    current name only, once (no stale or doubled full-text rows)."""
    def hits(word: str) -> int:
        return db.execute("SELECT count(*) FROM household_search WHERE household_search MATCH ?",
                          [word]).fetchone()[0]

    save(db, "households", "local", **household("local", head_name="Rahmat Lokal"))
    sp.apply_pull(db, V, [PulledRecord("households", "a", household("a", head_name="Ani Pertama"), 1, False, 1)], 1, 0)
    sp.apply_pull(db, V, [
        PulledRecord("households", "a", household("a", head_name="Ani Kedua"), 2, False, 2),
        PulledRecord("households", "b", household("b", head_name="Budi Baru"), 3, False, 3),
        PulledRecord("households", "local", household("local", head_name="Rahmat Server"), 4, False, 4),
    ], 4, 0)
    # "local" still has its unsent edit, which is laid over the server's copy
    assert (hits("Pertama"), hits("Kedua"), hits("Budi"), hits("Lokal"), hits("Server")) == (0, 1, 1, 1, 0)
    assert db.execute("SELECT count(*) FROM household_search").fetchone()[0] == 3
    assert dict(db.execute("SELECT household_id, head FROM search_keys").fetchall()) == {
        "a": "Ani Kedua", "b": "Budi Baru", "local": "Rahmat Lokal"}  # the names the list sorts by
    sp.apply_pull(db, V, [PulledRecord("households", "b", household("b", head_name="Budi Baru"), 5, True, 5)], 5, 0)
    assert hits("Budi") == 0


def test_pull_applies_a_child_before_its_parent_and_keeps_unknown_fields(db) -> None:
    member = PulledRecord("members", "m1", {"household_id": "h9", "name": "Siti", "sex": "P",
                                             "relationship": "kepala", "migration_status": "bukan",
                                             "hobi_baru": "menenun"}, 4, False, 4)
    sp.apply_pull(db, V, [member], 4, 0)  # its household comes on the next page
    sp.apply_pull(db, V, [PulledRecord("households", "h9", household("h9"), 6, False, 6)], 6, 0)
    assert records.get(db, "members", "m1")["name"] == "Siti"
    assert json.loads(records.get(db, "members", "m1")["extra"]) == {"hobi_baru": "menenun"}
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


@pytest.mark.parametrize("point", ["pull.apply.dropped", "pull.apply.records"])
def test_a_crash_inside_the_pull_transaction_changes_nothing(db, point: str) -> None:
    s1 = save(db, "households", "h1", **household("h1"))
    server = PulledRecord("households", "h1", {**household("h1"), "notes": "srv"}, 5, False, 5)
    with pytest.raises(Boom):
        sp.apply_pull(db, V, [server], 5, s1, crash=crash_at(point))
    assert st.pending_count(db) == 1 and st.cursor(db, V) == 0
    assert records.get(db, "households", "h1")["notes"] is None
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_crash_inside_the_ack_transaction_changes_nothing(db) -> None:
    s1 = save(db, "households", "h1", **household("h1"))
    with pytest.raises(Boom):
        st.apply_ack(db, s1, [OpOutcome(s1, "ok", 3)], crash=crash_at("push.ack.in_tx"))
    assert st.pending_count(db) == 1 and st.journal_ops(db) == [] and st.last_acked(db) == 0


def test_reenqueue_puts_lost_ops_back_unchanged_and_restarts_the_pull(db) -> None:
    seqs = [save(db, "households", f"h{i}", **household(f"h{i}")) for i in range(4)]
    st.apply_ack(db, seqs[-1], [OpOutcome(s, "ok", i + 1) for i, s in enumerate(seqs)])
    st.put_state(db, st.CURSOR_PREFIX + V, 4)
    hashes = {op.op_seq: op.op_hash for op in st.journal_ops(db)}
    assert st.reenqueue_from_journal(db, seqs[1]) == 2  # the server came back with only two of them
    back = st.take_batch(db, 9)
    assert [(op.op_seq, op.op_hash) for op in back] == [(s, hashes[s]) for s in seqs[2:]]
    assert st.last_acked(db) == seqs[1] and st.cursors(db) == {}
    assert records.get(db, "households", "h3")["server_version"] == 0


def test_a_new_registration_numbers_pending_ops_from_one(db) -> None:
    seqs = [save(db, "households", f"h{i}", **household(f"h{i}")) for i in range(3)]
    st.apply_ack(db, seqs[0], [])
    base = st.register_device(db, server_url="http://127.0.0.1:1", username="ana", device_id="d2", token="t",
                              device_name="lap")
    assert base == seqs[1] - 1
    assert st.take_batch(db, 1)[0].wire(base)["op_seq"] == 1
    st.apply_ack(db, seqs[2], [])
    assert st.pending_count(db) == 0
    base2 = st.register_device(db, server_url="http://127.0.0.1:1", username="ana", device_id="d3", token="t",
                               device_name="lap")
    assert base2 == seqs[2]  # empty outbox: the next op made will be number 1
    assert [r["device_id"] for r in st.state(db, st.K_REGISTRATIONS)] == ["d2", "d3"]


def _other_connection(db):
    import sqlite3

    path = db.execute("PRAGMA database_list").fetchone()[2]
    return sqlite3.connect(path)


def test_a_page_group_commits_several_pages_at_once_and_rolls_back_only_the_open_one(db) -> None:
    group = sp.PageGroup(db, max_pages=2, max_seconds=3600)
    other = _other_connection(db)  # what the GUI's connection sees meanwhile
    try:
        for n in (1, 2, 3):
            group.before_page()
            assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 0  # set before the group's BEGIN
            sp.apply_pull(db, V, [PulledRecord("households", f"h{n}", household(f"h{n}"), n, False, n)], n, 0)
            group.after_page()
            visible = [r[0] for r in other.execute("SELECT id FROM households ORDER BY id")]
            assert visible == ([] if n == 1 else ["h1", "h2"])  # committed after the 2nd page only
        group.close(commit=False)  # an error while page 3's group is open
        assert [r[0] for r in db.execute("SELECT id FROM households ORDER BY id")] == ["h1", "h2"]
        assert st.cursor(db, V) == 2  # the cursor rolled back with page 3's records
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert not db.conn.in_transaction
    finally:
        other.close()


def test_a_page_group_commits_when_it_is_old_enough(db) -> None:
    group = sp.PageGroup(db, max_pages=1000, max_seconds=0)  # the GUI must not wait behind a long group
    group.before_page()
    sp.apply_pull(db, V, [PulledRecord("households", "h1", household("h1"), 1, False, 1)], 1, 0)
    group.after_page()
    assert not db.conn.in_transaction
    group.close(commit=True)  # nothing open: a no-op
    assert st.cursor(db, V) == 1


@pytest.mark.parametrize("status", ["ok", "pruned", None])
def test_the_own_ops_window_covers_only_ops_whose_answers_were_applied(db, status) -> None:
    """Issue 21 §1: a pull may leave out only versions of ops whose answers this laptop applied.
    An op acknowledged without one (a lost reply, "pruned", a pull's watermark, an op whose
    record is no longer held) closes the window up to it."""
    st.register_device(db, server_url="http://hq", username="ani", device_id="d1", token="t", device_name="l")
    assert st.own_window(db) is None
    s1, s2, s3 = (save(db, "households", f"h{i}", **household(f"h{i}")) for i in range(3))
    outcomes = [OpOutcome(s1, "ok", 10), OpOutcome(s3, "ok", 12)]
    if status is not None:
        outcomes.append(OpOutcome(s2, status, 11 if status == "ok" else 0))
    st.apply_ack(db, s3, outcomes)
    assert st.own_window(db) == ((0, 3) if status == "ok" else (2, 3))
    s4 = save(db, "households", "h4", **household("h4"))
    sp.apply_pull(db, V, [], 0, s4)  # the pull's watermark acknowledges s4 without its answer
    assert st.own_window(db) is None
    s5 = save(db, "households", "h5", **household("h5"))
    db.execute("DELETE FROM households WHERE id = 'h5'")  # (a move-out notice dropped it meanwhile)
    st.apply_ack(db, s5, [OpOutcome(s5, "ok", 14)])
    assert st.own_window(db) is None
    s6 = save(db, "households", "h6", **household("h6"))
    st.apply_ack(db, s6, [OpOutcome(s6, "ok", 15)])
    assert st.own_window(db) == (5, 6)
    st.forget_server_position(db)  # the server went back in time: everything comes down again
    assert st.own_window(db) is None


def test_resolutions_close_only_open_inbox_rows(db) -> None:
    from desmig_desktop.store import sync_lost as sl
    rows = [(1, "open"), (2, "kept_mine"), (3, "open"), (4, "open")]
    for server_id, status in rows:
        db.execute("INSERT INTO sync_conflicts (kind, entity, record_id, field, mine, theirs, status, created_at,"
                   " server_id) VALUES ('conflict', 'households', ?, 'head_name', '\"a\"', '\"b\"', ?, 'now', ?)",
                   [f"h{server_id}", status, server_id])
    with st.immediate(db):
        assert sl.record_resolutions(db, [1, 2, 4, 99], 7) == 2
    assert dict(db.execute("SELECT server_id, status FROM sync_conflicts").fetchall()) == {
        1: "resolved", 2: "kept_mine", 3: "open", 4: "resolved"}
    assert sl.resolution_cursor(db) == 7
    st.reset_cursors(db)
    assert sl.resolution_cursor(db) == 0
