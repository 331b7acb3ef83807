"""The journal retention rule (``store/journal_retention``): older than ``KEEP_DAYS`` *and* not among
the newest ``KEEP_MIN_OPS``; at most once a day; and the refill check after a server restore."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from desmig_desktop.store import journal_retention as jr
from desmig_desktop.store import sync_store as st

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _journal(db: Any, ages_days: list[float]) -> None:
    """Journal entries op_seq 1.. acknowledged ``ages_days`` ago; last ack = the newest."""
    with st.immediate(db):
        for seq, age in enumerate(ages_days, start=1):
            acked = (NOW - dt.timedelta(days=age)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            db.execute("INSERT INTO sync_journal (op_seq, entity, record_id, kind, base_version, fields, op_hash,"
                       " captured_at, app_schema, acked_at, status, version) VALUES"
                       " (?, 'households', ?, 'upsert', 0, '{}', 'h', ?, 1, ?, 'ok', ?)",
                       [seq, f"h{seq}", acked, acked, seq])
        st.put_state(db, st.K_LAST_ACK, len(ages_days))


def _left(db: Any) -> list[int]:
    return [r[0] for r in db.execute("SELECT op_seq FROM sync_journal ORDER BY op_seq")]


@pytest.mark.parametrize(("ages", "keep_min", "left"), [
    ([400, 200, 181, 179, 10, 0], 0, [4, 5, 6]),
    ([400, 200, 181, 179, 10, 0], 2, [4, 5, 6]),
    ([400, 200, 181, 179, 10, 0], 5, [2, 3, 4, 5, 6]),  # the count floor keeps old entries too
    ([400, 300, 200], 2, [2, 3]),   # a clock far ahead (everything looks old) never empties it
    ([400, 300, 200], 10, [1, 2, 3]),
    ([], 2, []),
    ([10, 400, 20], 0, [1, 3]),     # a clock that was far behind at one ack: only that entry goes
])
def test_rule(db: Any, ages: list[float], keep_min: int, left: list[int]) -> None:
    _journal(db, ages)
    deleted = jr.prune_journal(db, NOW, keep_min=keep_min)
    assert _left(db) == left and deleted == len(ages) - len(left)


def test_runs_at_most_once_a_day(db: Any) -> None:
    _journal(db, [400, 300, 1])
    assert jr.prune_journal(db, NOW, keep_min=1) == 2
    with st.immediate(db):  # op 3 is now old too, and op 4 newer
        db.execute("UPDATE sync_journal SET acked_at = '2025-01-01T00:00:00.000000Z' WHERE op_seq = 3")
        db.execute("INSERT INTO sync_journal (op_seq, entity, record_id, kind, base_version, fields, op_hash, captured_at,"
                   " app_schema, acked_at, status, version) SELECT 4, entity, 'h4', kind, base_version, fields, op_hash,"
                   " captured_at, app_schema, acked_at, status, version FROM sync_journal WHERE op_seq = 3")
        db.execute("UPDATE sync_journal SET acked_at = ? WHERE op_seq = 4", [NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")])
    assert jr.prune_journal(db, NOW + dt.timedelta(hours=23), keep_min=1) == 0
    assert jr.prune_journal(db, NOW + dt.timedelta(hours=25), keep_min=1) == 1
    assert _left(db) == [4]


@pytest.mark.parametrize(("ages", "prune_keep", "server_at", "missing"), [
    ([1, 1, 1, 1], None, 2, None),          # nothing pruned: 3..4 can be re-sent
    ([400, 400, 1, 1], 0, 2, None),         # pruned below the restore point only
    ([400, 400, 400, 1], 0, 1, (2, 3)),     # the server lacks 2..4; 2..3 are gone
    ([400, 400, 400, 400], 0, 0, (1, 4)),   # everything gone
    ([400, 400, 400, 400], 0, 4, None),     # the server lacks nothing
])
def test_missing_for_refill(db: Any, ages: list[float], prune_keep: int | None, server_at: int,
                            missing: tuple[int, int] | None) -> None:
    _journal(db, ages)
    if prune_keep is not None:
        jr.prune_journal(db, NOW, keep_min=prune_keep)
    assert jr.missing_for_refill(db, server_at) == missing
