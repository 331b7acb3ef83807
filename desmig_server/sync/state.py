"""The records a push touches, loaded once, changed in memory and written back in bulk.

Loading every record a batch names in a few ``IN`` queries and writing changes with
``executemany`` keeps a 1,000-op push at a handful of round trips instead of thousands.

A record whose scope changes (``leaving``) takes a notice number just before the version of
its move; if its scope at commit differs from the one it had when the transaction began, that
scope gets a move-out notice in ``scope_exits`` with the number of its first move (readers never
saw the scopes it passed through in between; a move back notifies no one). The number lies
above every copy a device of the old scope can hold and below every version of the record in
its new scope, so a device drops exactly the stale copies — an older client too, which treats
the notice as a deletion and keeps a newer copy. Its conflicts follow it to its village.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, bindparam, select, update

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.jsontext import stored_sorted
from desmig_server.db import tables as t
from desmig_server.db.bulk import insert_rows

STATE_KEY = "_state"  # fmeta entry for the last create/delete/revive: [version, device, role]
_METAS = "~m"  # stored fmeta: the distinct [version, device, role] lists; each field holds an index


def encode_fmeta(fmeta: dict[str, list[Any]]) -> str:
    """``{field: [version, device, role]}`` as stored: ``{"~m": [meta, ...], field: index}``.

    One op stamps every field it changes with the same meta, so a record's ~20 entries hold one
    or two distinct ones; writing each once halves the ``records`` row (the device id alone is
    36 characters per field) and the JSON work of every push.
    """
    metas: list[list[Any]] = []
    index: dict[tuple[Any, ...], int] = {}
    out: dict[str, Any] = {}
    last: list[Any] | None = None  # the fields an op stamps share one list (``decode_fmeta`` too)
    i = 0
    for key, meta in fmeta.items():
        if meta is not last:
            value = tuple(meta)
            found = index.get(value)
            if found is None:
                found = index[value] = len(metas)
                metas.append(meta)
            last, i = meta, found
        out[key] = i
    out[_METAS] = metas
    return stored_sorted(out)


def decode_fmeta(text: str) -> dict[str, list[Any]]:
    """The inverse of ``encode_fmeta``; also reads the plain ``{field: meta}`` rows written before it."""
    raw = json.loads(text)
    metas = raw.pop(_METAS, None)
    if metas is None:
        return cast(dict[str, list[Any]], raw)
    return {key: metas[i] for key, i in raw.items()}
_CHUNK = 500

# entity -> entities whose parent it is (households -> members, businesses; members -> placements)
CHILD_ENTITIES: dict[str, tuple[str, ...]] = {
    name: tuple(e.name for e in ENTITIES.values() if e.parent_entity == name) for name in ENTITIES
}


@dataclass(frozen=True)
class FieldMeta:
    """Who last changed a field, and at which server version."""

    version: int
    device: str
    role: str

    @classmethod
    def of(cls, raw: list[Any] | None) -> FieldMeta | None:
        return cls(int(raw[0]), str(raw[1]), str(raw[2])) if raw else None

    def as_json(self) -> list[Any]:
        return [self.version, self.device, self.role]


@dataclass
class Rec:
    """One row of ``records`` being worked on."""

    entity: str
    id: str
    scope: str
    parent_id: str | None
    data: dict[str, Any]
    fmeta: dict[str, list[Any]]
    version: int
    deleted: bool
    created_at: str
    updated_at: str
    updated_by: str | None = None  # username of the op that last changed the data (or deleted it)
    in_db: bool = True
    dirty: bool = False
    stored_scope: str | None = None  # the scope committed before this transaction (None: new record)
    left_seq: int | None = None  # the notice number of its first move in this transaction
    # The device and op whose "ok" answer describes this version exactly (``records.echo_*``):
    # set by ``OpApplier`` after the stamp of such an op, cleared by every other stamp.
    echo_device: str | None = None
    echo_op: int | None = None
    # The working set's list of records to write (``WorkingSet``): a record joins it when it
    # becomes dirty (``mark_dirty``), so a write point need not look at every record the
    # transaction has read.
    sink: list[Rec] | None = field(default=None, repr=False, compare=False)

    def meta(self, key: str) -> FieldMeta | None:
        return FieldMeta.of(self.fmeta.get(key))

    def stamp(self, version: int, now: str) -> None:
        """Mark the record changed at ``version`` (its new server_seq). The new version is nobody's
        echo until the op that made it says so (``OpApplier``)."""
        self.version = version
        self.updated_at = now
        self.mark_dirty()
        self.echo_device = self.echo_op = None

    def mark_dirty(self) -> None:
        """To be written at the next write point: the record joins its working set's list once."""
        if not self.dirty and self.sink is not None:
            self.sink.append(self)
        self.dirty = True

    def row_values(self) -> tuple[Any, ...]:
        """The ``records`` row, in ``ROW_COLUMNS`` order."""
        return (self.entity, self.id, self.scope, self.parent_id, stored_sorted(self.data),
                encode_fmeta(self.fmeta), self.version, self.deleted, self.version, self.created_at, self.updated_at,
                self.updated_by, self.echo_device, self.echo_op)


ROW_COLUMNS = ("entity", "id", "scope", "parent_id", "data", "fmeta", "version", "deleted", "server_seq",
               "created_at", "updated_at", "updated_by", "echo_device", "echo_op")
assert set(ROW_COLUMNS) == set(t.records.c.keys()), "records columns changed"
# What an update of an existing record writes (its key and creation time never change).
_UPDATE_COLUMNS = tuple(c for c in ROW_COLUMNS if c not in ("entity", "id", "created_at"))
_UPDATE_INDEXES = tuple(ROW_COLUMNS.index(c) for c in _UPDATE_COLUMNS)


def _from_row(row: Any) -> Rec:
    return Rec(entity=row.entity, id=row.id, scope=row.scope, parent_id=row.parent_id,
               data=json.loads(row.data), fmeta=decode_fmeta(row.fmeta), version=int(row.version),
               deleted=bool(row.deleted), created_at=row.created_at, updated_at=row.updated_at,
               stored_scope=row.scope, updated_by=row.updated_by, echo_device=row.echo_device,
               echo_op=None if row.echo_op is None else int(row.echo_op))


class WorkingSet:
    """A cache of records for one transaction; ``None`` caches "does not exist"."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._recs: dict[tuple[str, str], Rec | None] = {}
        self._moved: dict[tuple[str, str], Rec] = {}
        self._dirty: list[Rec] = []  # the records' ``sink``: those that became dirty since the last write

    def preload(self, keys: Iterable[tuple[str, str]]) -> None:
        wanted = sorted({k for k in keys if k not in self._recs})
        by_entity: dict[str, list[str]] = {}
        for entity, record_id in wanted:
            by_entity.setdefault(entity, []).append(record_id)
        r = t.records.c
        for entity, ids in by_entity.items():
            for i in range(0, len(ids), _CHUNK):
                # entity AND id: the primary key (entity, id) serves it; ``id IN (...)`` alone
                # cannot use that index and scanned the whole table once per chunk.
                for row in self._conn.execute(select(t.records).where(r.entity == entity,
                                                                      r.id.in_(ids[i:i + _CHUNK]))):
                    key = (row.entity, row.id)
                    if key not in self._recs:
                        self._recs[key] = self._held(_from_row(row))
        for key in wanted:
            self._recs.setdefault(key, None)

    def get(self, entity: str, record_id: str) -> Rec | None:
        key = (entity, record_id)
        if key not in self._recs:
            self.preload([key])
        return self._recs[key]

    def _held(self, rec: Rec) -> Rec:
        rec.sink = self._dirty
        return rec

    def add(self, rec: Rec) -> None:
        self._held(rec).mark_dirty()
        rec.in_db = False
        self._recs[(rec.entity, rec.id)] = rec

    def leaving(self, rec: Rec, notice_seq: int) -> None:
        """``rec`` is about to change scope; ``notice_seq``: a number taken just before its new version."""
        if rec.left_seq is None:
            rec.left_seq = notice_seq
        self._moved[(rec.entity, rec.id)] = rec

    def _write_exits(self) -> None:
        left = [r for r in self._moved.values() if r.stored_scope is not None and r.stored_scope != r.scope]
        insert_rows(self._conn, t.scope_exits, ("scope", "server_seq", "entity", "record_id"),
                    [(r.stored_scope, r.left_seq, r.entity, r.id) for r in left])
        if left:
            self._conn.execute(update(t.conflicts).where(
                t.conflicts.c.entity == bindparam("k_entity"), t.conflicts.c.record_id == bindparam("k_id"))
                .values(scope=bindparam("v_scope")),
                [{"k_entity": r.entity, "k_id": r.id, "v_scope": r.scope} for r in left])
        for r in self._moved.values():
            r.left_seq = None
        self._moved = {}

    def children(self, rec: Rec) -> list[Rec]:
        """Direct children of ``rec`` as this transaction sees them (DB rows overlaid by changes)."""
        kinds = CHILD_ENTITIES[rec.entity]
        if not kinds:
            return []
        for row in self._conn.execute(select(t.records).where(
                t.records.c.parent_id == rec.id, t.records.c.entity.in_(kinds))):
            if (row.entity, row.id) not in self._recs:
                self._recs[(row.entity, row.id)] = self._held(_from_row(row))
        return sorted((r for r in self._recs.values()
                       if r is not None and r.entity in kinds and r.parent_id == rec.id),
                      key=lambda r: (r.entity, r.id))

    def descendants(self, rec: Rec) -> list[Rec]:
        out: list[Rec] = []
        for child in self.children(rec):
            out.append(child)
            out.extend(self.descendants(child))
        return out

    def write_changes(self) -> int:
        """Write every record new or changed so far; return how many. The transaction goes on.

        A push calls this every ``Settings.push_write_every`` ops, so that its rows are written
        while later ops still apply beside the push workers and the laptop, not all after them
        with a core idle (issue 21). A record's scope before the transaction (``stored_scope``)
        and the move-out notices are left to ``flush``: the scope a device last pulled is the
        committed one, not the one written a few ops ago in this transaction."""
        # Only records the set still holds under their key: one another record replaced is not written.
        dirty = [r for r in self._dirty if r.dirty and self._recs.get((r.entity, r.id)) is r]
        self._dirty.clear()
        return self._write(dirty)

    def _write(self, dirty: list[Rec]) -> int:
        new = [r.row_values() for r in dirty if not r.in_db]
        changed = [r.row_values() for r in dirty if r.in_db]
        insert_rows(self._conn, t.records, ROW_COLUMNS, new)
        if changed and self._conn.dialect.name == "sqlite":
            # The driver's executemany, as for inserts (``db.bulk``): no per-row parameter processing.
            sets = ", ".join(f"{c} = ?" for c in _UPDATE_COLUMNS)
            self._conn.exec_driver_sql(f"UPDATE {t.records.name} SET {sets} WHERE entity = ? AND id = ?",
                                       [(*(r[i] for i in _UPDATE_INDEXES), r[0], r[1]) for r in changed])
        elif changed:
            stmt = (update(t.records)
                    .where(t.records.c.entity == bindparam("k_entity"), t.records.c.id == bindparam("k_id"))
                    .values({c: bindparam(f"v_{c}") for c in _UPDATE_COLUMNS}))
            self._conn.execute(stmt, [
                {"k_entity": r[0], "k_id": r[1], **{f"v_{c}": r[i] for c, i in zip(_UPDATE_COLUMNS, _UPDATE_INDEXES)}}
                for r in changed])
        for r in dirty:
            r.in_db, r.dirty = True, False
        return len(new) + len(changed)

    def flush(self) -> int:
        """Write every new or changed record and the move-out notices; return how many records."""
        written = self.write_changes()
        # Every record that became dirty went through ``Rec.mark_dirty`` (the sink); one
        # look over all of them, once per transaction, writes any other (none expected).
        written += self._write([r for r in self._recs.values() if r is not None and r.dirty])
        self._settle_scopes()
        return written

    def _settle_scopes(self) -> None:
        """The move-out notices of the records that left a scope, and each record's scope taken as
        the committed one (done once per transaction, by ``flush``)."""
        if self._moved:
            self._write_exits()
        for r in self._recs.values():
            if r is not None:
                r.stored_scope = r.scope
