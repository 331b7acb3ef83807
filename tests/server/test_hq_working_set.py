"""``WorkingSet``'s writes: a write point writes the records that became dirty and that the set
still holds, each once (``Rec.sink``)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.db.migrations import migrate
from desmig_server.sync.state import Rec, WorkingSet


def _household(version: int, name: str) -> Rec:
    return Rec(entity="households", id="h1", scope="3201010001", parent_id=None, data={"head_name": name},
               fmeta={}, version=version, deleted=False, created_at="2026-12-05T00:00:00Z",
               updated_at="2026-12-05T00:00:00Z")


def test_a_record_replaced_under_its_key_is_not_written(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hq.db'}")
    try:
        migrate(db)
        with db.write() as conn:
            ws = WorkingSet(conn)
            assert ws.get("households", "h1") is None
            ws.add(_household(1, "Lama"))
            ws.add(_household(2, "Baru"))  # the set now holds this one under h1
            assert ws.write_changes() == 1
            held = ws.get("households", "h1")
            assert held is not None
            held.stamp(3, "2026-12-05T00:00:01Z")
            held.stamp(4, "2026-12-05T00:00:02Z")  # dirty twice before a write: one row
            assert ws.write_changes() == 1
            assert ws.flush() == 0
        with db.read() as conn:
            rows = conn.execute(select(t.records.c.data, t.records.c.version)).all()
        assert [(json.loads(r.data), r.version) for r in rows] == [({"head_name": "Baru"}, 4)]
    finally:
        db.dispose()
