"""The ack's rebase reads the pending ops of a whole answer in a few queries (``store.sync_rebase``).

It must leave the outbox exactly as one query per acked op did (the code it replaced, kept here as
the reference): same ops rebased, same new bases and hashes, also when one answer acks several ops
of one record, when ops were already sent (above ``after`` only), and when a pending op was made
on an older copy (its base below the acked op's: never raised).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from desmig_desktop.domain.ops import op_hash
from desmig_desktop.store.db import connect
from desmig_desktop.store.sync_rebase import Rebase, rebase

# Few records and small numbers, so that acks meet pending ops of their record often: two acks of
# one record in one answer, an op exactly at ``after``, bases on both sides of the acked op's.
RECORDS = [("households", "h1"), ("members", "h1"), ("members", "m1")]


def _reference(db: Any, acked: list[Rebase]) -> None:
    """One query per acked op, in order: the rebase as ``apply_ack`` ran it before."""
    for a in acked:
        rows = db.conn.execute("SELECT op_seq, kind, fields FROM sync_outbox WHERE entity = ? AND record_id = ?"
                               " AND op_seq > ? AND base_version < ? AND base_version >= ?",
                               [a.entity, a.record_id, a.after, a.version, a.acked_base]).fetchall()
        for seq, kind, fields in rows:
            db.conn.execute("UPDATE sync_outbox SET base_version = ?, op_hash = ? WHERE op_seq = ?",
                            [a.version, op_hash(a.entity, a.record_id, kind, a.version, json.loads(fields)), seq])


def _outbox(db: Any) -> list[tuple[Any, ...]]:
    return db.execute("SELECT op_seq, entity, record_id, kind, base_version, fields, op_hash FROM sync_outbox"
                      " ORDER BY op_seq").fetchall()


pending_ops = hs.lists(hs.tuples(hs.sampled_from(RECORDS), hs.sampled_from(["upsert", "delete"]),
                                 hs.integers(0, 6)), max_size=10)
acks = hs.lists(hs.tuples(hs.sampled_from(RECORDS), hs.integers(1, 8), hs.integers(0, 10), hs.integers(0, 6)),
                max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pending_ops, acks)
def test_batched_rebase_equals_one_query_per_acked_op(template_db: Path, ops: list[Any], acked_spec: list[Any]) -> None:
    acked = [Rebase(entity, rid, version, after, base) for (entity, rid), version, after, base in acked_spec]
    with tempfile.TemporaryDirectory() as tmp:
        dbs = []
        for name in ("reference", "batched"):
            shutil.copy(template_db, Path(tmp) / f"{name}.db")
            db = connect(Path(tmp) / f"{name}.db")
            with db.conn:
                for seq, ((entity, rid), kind, base) in enumerate(ops, start=1):
                    fields = {} if kind == "delete" else {"notes": f"catatan {seq}"}
                    db.conn.execute("INSERT INTO sync_outbox (op_seq, entity, record_id, kind, base_version, fields,"
                                    " op_hash, captured_at, app_schema) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                                    [seq, entity, rid, kind, base, json.dumps(fields),
                                     op_hash(entity, rid, kind, base, fields), "2026-01-01T00:00:00Z"])
            dbs.append(db)
        reference, batched = dbs
        try:
            with reference.conn:
                _reference(reference, acked)
            with batched.conn:
                rebase(batched, acked)
            assert _outbox(batched) == _outbox(reference)
        finally:
            reference.conn.close()
            batched.conn.close()


def test_chunks_of_record_ids_cover_every_acked_record(db: Any) -> None:
    """More acked records than one query names: every one of them is still rebased."""
    with db.conn:
        for i in range(1, 1_203):
            db.conn.execute("INSERT INTO sync_outbox (op_seq, entity, record_id, kind, base_version, fields, op_hash,"
                            " captured_at, app_schema) VALUES (?, 'households', ?, 'upsert', 0, '{}', 'x', 'c', 1)",
                            [i, f"h{i:05d}"])
    with db.conn:
        rebase(db, [Rebase("households", f"h{i:05d}", 7, 0, 0) for i in range(1, 1_203)])
    bases = [r[0] for r in db.execute("SELECT base_version FROM sync_outbox")]
    assert len(bases) == 1_202 and set(bases) == {7}
