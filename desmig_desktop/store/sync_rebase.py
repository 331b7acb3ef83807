"""Rebase pending ops on the versions a push answer gave their records (``sync_store.apply_ack``).

Runs inside the ack transaction; reads and writes ``sync_outbox`` only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.ops import op_hash


@dataclass(frozen=True)
class Rebase:
    """An op answered "ok": its record is at ``version``; ops above ``after`` based at least on
    ``acked_base`` (the acked op's base) and below ``version`` are rebased on it (``rebase``)."""

    entity: str
    record_id: str
    version: int
    after: int
    acked_base: int


_REBASE_CHUNK = 500  # record ids per query (SQLite's default limit is 32,766 parameters)


def rebase(db: Database, acked: Sequence[Rebase]) -> None:
    """Later, never-sent ops on each acked record were captured on top of the acked op: base them
    on its version.

    "ok" means no other device changed the record between the acked op's base and ``version``,
    so an op whose base is at least the acked op's has seen everything up to ``version`` but its
    author's own changes. An op with an older base was made on a copy from before (a form left
    open, a draft, an exported file): other devices' changes may lie between its base and the
    acked op's, and raising its base would hide them from the server's merge — it keeps its base.

    The pending ops of all the acked records are read in a few queries (one per op cost more than
    the rest of an ack) and the acks are applied to them in order, as one query each would.
    """
    if not acked:
        return
    floor = min(a.after for a in acked)
    wanted: dict[str, set[str]] = {}
    for a in acked:
        wanted.setdefault(a.entity, set()).add(a.record_id)
    pending: dict[tuple[str, str], list[list[Any]]] = {}
    for entity_name, ids in wanted.items():
        chosen = sorted(ids)
        for i in range(0, len(chosen), _REBASE_CHUNK):
            chunk = chosen[i:i + _REBASE_CHUNK]
            rows = db.conn.execute(
                "SELECT op_seq, record_id, kind, base_version, fields FROM sync_outbox WHERE entity = ? AND"
                f" record_id IN ({', '.join('?' * len(chunk))}) AND op_seq > ? ORDER BY op_seq",
                [entity_name, *chunk, floor]).fetchall()
            for seq, record_id, kind, base, fields in rows:
                pending.setdefault((entity_name, record_id), []).append([seq, kind, base, fields])
    if not pending:
        return
    rebased: dict[int, tuple[int, str, str, str, str]] = {}  # op_seq -> its new base, entity, id, kind, fields
    for a in acked:
        for op in pending.get((a.entity, a.record_id), ()):
            seq, kind, base, fields = op
            if seq > a.after and a.acked_base <= base < a.version:
                op[2] = a.version
                rebased[seq] = (a.version, a.entity, a.record_id, kind, fields)
    db.conn.executemany("UPDATE sync_outbox SET base_version = ?, op_hash = ? WHERE op_seq = ?", [
        (version, op_hash(entity_name, record_id, kind, version, json.loads(fields)), seq)
        for seq, (version, entity_name, record_id, kind, fields) in rebased.items()])
