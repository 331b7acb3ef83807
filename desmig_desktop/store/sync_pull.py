"""Applying pulled pages (DESIGN §4 "Client cycle", the pull half), one write transaction each
or several in a ``PageGroup``.

``apply_pull``: **first** drop outbox ops ``≤ last_op_seq`` (their ack was lost), then overwrite
each record or lay the pending fields over the server's data, refresh the search index, then
advance that scope's cursor. ``crash`` is the same named-crash-point hook as in ``sync_store``.

A move-out notice (``moved_out``: the record left the scope pulled, e.g. HQ moved the household
to a village this laptop does not sync) removes the local copy and its children — members,
their placements, businesses — when they are older than the notice's version; a newer copy came
from another of this laptop's villages (the household moved between two of them) and stays.
Pending outbox ops on removed records stay queued: the server answers them like any op, so a
change the officer made still arrives as a rejection in the inbox (village outside theirs), or
merges when the record is in another of their villages (whose pull then brings it back with
the pending fields laid over it). Nothing typed is discarded here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.domain.wire import OpKind, PulledRecord
from desmig_desktop.store import records
from desmig_desktop.store.questionnaire_store import EntityColumns, active, columns, quote
from desmig_desktop.store.sync_own import raise_own_floor
from desmig_desktop.store.sync_store import (
    CURSOR_PREFIX,
    K_SERVER_SEQ_SEEN,
    Crash,
    cursor,
    db_value,
    immediate,
    last_acked,
    move_to_journal,
    no_crash,
    put_state,
    raise_last_acked,
    state,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullSummary:
    dropped: int
    applied: int


@contextmanager
def _foreign_keys_off(db: Database) -> Iterator[None]:
    """Pulled pages follow commit order, not parent-before-child: a member may arrive a page
    before the household it belongs to. The server is the authority on references, so they are
    not enforced while applying its data (the pragma only works outside a transaction)."""
    was_on = bool(db.execute("PRAGMA foreign_keys").fetchone()[0])
    if was_on and not db.conn.in_transaction:
        db.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if was_on and not db.conn.in_transaction:
            db.execute("PRAGMA foreign_keys=ON")


PULL_CACHE_KIB = 32 * 1024  # SQLite page cache while pulling (per connection)


@contextmanager
def pull_cache(db: Database, kib: int = PULL_CACHE_KIB) -> Iterator[None]:
    """A bigger page cache while pulling: each page touches the same index pages again (the
    default 2 MB made them re-read and re-decrypt); given back afterwards."""
    previous = int(db.execute("PRAGMA cache_size").fetchone()[0])
    db.execute(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size={previous}")


class PageGroup:
    """Several pulled pages applied in one write transaction (``apply_pull`` nests inside it).

    A first pull of a big scope is hundreds of pages; committed one by one, each commit rewrote
    the same index pages to the WAL and checkpointed them back, which cost more than applying
    the rows (11 of 35 s for 100k households). A group commits after ``max_pages`` pages or
    ``max_seconds``, whichever comes first, so the GUI's own saves never wait long for the
    lock; a crash or error rolls back only the open group's pages, cursors included, and they
    are pulled again.
    """

    def __init__(self, db: Database, *, max_pages: int = 16, max_seconds: float = 0.5) -> None:
        self.db, self.max_pages, self.max_seconds = db, max_pages, max_seconds
        self._open: ExitStack | None = None  # the open group: foreign keys off, then the transaction
        self._pages = 0
        self._started = 0.0

    def before_page(self) -> None:
        if self._open is not None or self.db.conn.in_transaction:
            return
        stack = ExitStack()
        stack.enter_context(_foreign_keys_off(self.db))  # before BEGIN: the pragma needs that
        stack.enter_context(immediate(self.db))
        self._open, self._pages, self._started = stack, 0, time.monotonic()

    def after_page(self) -> None:
        """Count an applied page; commit when the group is full or old enough."""
        self._pages += 1
        if self._open is not None and (self._pages >= self.max_pages
                                       or time.monotonic() - self._started >= self.max_seconds):
            self.close(commit=True)

    def close(self, *, commit: bool) -> None:
        stack, self._open = self._open, None
        if stack is None:
            return
        if commit:
            stack.close()
        else:  # ``immediate`` rolls back when an error leaves it; this one is ours and stops there
            stack.__exit__(_GroupRolledBack, _GroupRolledBack(), None)


class _GroupRolledBack(Exception):
    """Thrown into an open ``PageGroup``'s contexts to roll it back (never escapes ``close``)."""


# -- pull ---------------------------------------------------------------------------------------
def apply_pull(db: Database, scope: str, page_records: Sequence[PulledRecord], next_cursor: int, watermark: int,
               *, drop_acked: bool = True, crash: Crash = no_crash) -> PullSummary:
    """Apply one pulled page of one scope in one transaction (``apply_page``)."""
    return apply_page(db, {scope: next_cursor}, page_records, watermark, drop_acked=drop_acked, crash=crash)


def apply_page(db: Database, cursors: Mapping[str, int], page_records: Sequence[PulledRecord], watermark: int,
               *, drop_acked: bool = True, crash: Crash = no_crash) -> PullSummary:
    """Apply one pulled page — of one scope or several (``GET /v1/sync/changes``) — in one
    transaction. ``cursors``: each scope the page read and its cursor after it; ``watermark``:
    the device's ``last_op_seq`` (local numbering) read in the same server snapshot as the page."""
    if not page_records and all(c == cursor(db, s) for s, c in cursors.items()) and watermark <= last_acked(db) and (
            not drop_acked or db.execute("SELECT 1 FROM sync_outbox WHERE op_seq <= ? LIMIT 1", [watermark]).fetchone()
            is None):
        return PullSummary(0, 0)  # nothing new: no write transaction (a no-op sync stays cheap)
    with _foreign_keys_off(db), immediate(db):
        dropped = move_to_journal(db, watermark, {}) if drop_acked else []
        if dropped:  # acknowledged without their answers: their records must come down
            raise_own_floor(db, int(dropped[-1][0]))
        raise_last_acked(db, watermark)
        crash("pull.apply.dropped")
        conn = db.conn  # plain sqlite3 below: this loop runs once per pulled record
        waiting = {(r[0], r[1]) for r in conn.execute(
            "SELECT entity, record_id FROM sync_conflicts WHERE kind = 'conflict' AND status = 'open'"
            " AND theirs IS NULL")}
        now = utc_now()
        known = [rec for rec in page_records if rec.entity in ENTITIES]
        for rec in page_records:
            if rec.entity not in ENTITIES:
                log.warning("pulled a record of unknown entity %s; skipped", rec.entity)
        households: set[str] = set()
        applied = len(known)  # notices included: they change what the lists show
        if any(rec.moved_out for rec in known):
            known = _apply_notices(db, known, households)
        pending = _pending_fields(conn, known)
        current = _current_rows(conn, known)
        inserts: dict[str, list[tuple[Any, ...]]] = {}
        # The columns of the questionnaire version this database is on (read once a page, the
        # plans computed once a version): a field it does not know goes to the row's ``extra``.
        plans = _Plans(active(db))
        for rec in known:
            households.update(_apply_record(db, rec, now, pending.get((rec.entity, rec.id), ()),
                                            current.get((rec.entity, rec.id)), inserts, plans))
            if (rec.entity, rec.id) in waiting:
                _fill_theirs(db, rec)
        for entity_name, new_rows in inserts.items():
            conn.executemany(plans[entity_name].insert_sql, new_rows)
        crash("pull.apply.records")
        records.refresh_search(db, sorted(households))
        for scope, next_cursor in cursors.items():
            put_state(db, CURSOR_PREFIX + scope, next_cursor)
        if page_records:
            put_state(db, K_SERVER_SEQ_SEEN, max(int(state(db, K_SERVER_SEQ_SEEN, 0)), *(r.server_seq for r in page_records)))
    return PullSummary(len(dropped), applied)


_IN_CHUNK = records.IN_CHUNK
# entity -> (child entity, its parent key) for each kind of child (members -> placements, ...)
_CHILDREN = {name: tuple((c.name, c.parent_key) for c in ENTITIES.values() if c.parent_entity == name and c.parent_key)
             for name in ENTITIES}


def _apply_notices(db: Database, page: Sequence[PulledRecord], households: set[str]) -> list[PulledRecord]:
    """Apply the page's move-out notices (page order) and return its other records still to apply.

    A record the page also carries *before* its notice is skipped (it left the scope after that
    version); one carried *after* it (it came back) is applied after the drop.
    """
    left: dict[tuple[str, str], int] = {}
    for rec in page:
        if rec.moved_out:
            left[(rec.entity, rec.id)] = max(left.get((rec.entity, rec.id), 0), rec.server_seq)
            households.update(_drop_moved_out(db, rec.entity, rec.id, rec.version))
    return [rec for rec in page if not rec.moved_out and rec.server_seq > left.get((rec.entity, rec.id), 0)]


def _drop_moved_out(db: Database, entity_name: str, record_id: str, version: int) -> set[str]:
    """Delete the local copy of a record that left this laptop's scope at ``version``, and its
    local descendants, each only if older than ``version`` (never-synced ones included: 0).
    Returns the households whose search entry must be refreshed (a dropped one loses it)."""
    conn = db.conn
    found = conn.execute(f"SELECT server_version FROM {entity_name} WHERE id = ?", [record_id]).fetchone()
    if found is None or int(found[0]) >= version:
        return set()  # not held, or a copy from after the move (another of this laptop's villages)
    touched: set[str] = set()
    stack = [(entity_name, record_id)]
    while stack:
        name, rid = stack.pop()
        if name == "households":
            touched.add(rid)
        elif name in ("members", "businesses"):
            parent = conn.execute(f"SELECT household_id FROM {name} WHERE id = ?", [rid]).fetchone()
            if parent and parent[0]:
                touched.add(parent[0])
        for child, key in _CHILDREN[name]:
            stack.extend((child, cid) for (cid,) in conn.execute(
                f"SELECT id FROM {child} WHERE {key} = ? AND server_version < ?", [rid, version]))
        conn.execute(f"DELETE FROM {name} WHERE id = ?", [rid])
    dropped = [h for h in touched if conn.execute("SELECT 1 FROM households WHERE id = ?", [h]).fetchone() is None]
    for household_id in dropped:  # no search text (names, NIKs) of a household no longer held
        key = conn.execute("SELECT key FROM search_keys WHERE household_id = ?", [household_id]).fetchone()
        if key is not None:
            conn.execute("DELETE FROM household_search WHERE rowid = ?", [key[0]])
            conn.execute("DELETE FROM search_keys WHERE key = ?", [key[0]])
    return touched - set(dropped)


def _pending_fields(conn: Any, recs: Sequence[PulledRecord]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """``(kind, fields JSON)`` of the outbox ops still pending on each pulled record, oldest first."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    if conn.execute("SELECT 1 FROM sync_outbox LIMIT 1").fetchone() is None:
        return out  # nothing pending at all (a first pull, a quiet device): no lookups
    for entity_name, ids in _ids_by_entity(recs).items():
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i:i + _IN_CHUNK]
            for record_id, kind, fields in conn.execute(
                    f"SELECT record_id, kind, fields FROM sync_outbox WHERE entity = ? AND record_id IN"
                    f" ({', '.join('?' * len(chunk))}) ORDER BY op_seq", [entity_name, *chunk]):
                out.setdefault((entity_name, record_id), []).append((kind, fields))
    return out


def _current_rows(conn: Any, recs: Sequence[PulledRecord]) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored rows of the pulled records that exist locally, by ``(entity, id)``."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for entity_name, ids in _ids_by_entity(recs).items():
        ENTITIES[entity_name]  # only known table names reach SQL
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i:i + _IN_CHUNK]
            cur = conn.execute(f"SELECT * FROM {entity_name} WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
            names = [c[0] for c in cur.description]
            for found in cur:
                row = dict(zip(names, found))
                out[(entity_name, row["id"])] = row
    return out


def _ids_by_entity(recs: Sequence[PulledRecord]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rec in recs:
        out.setdefault(rec.entity, []).append(rec.id)
    return out


class _Plans(dict[str, EntityColumns]):
    """Per entity, its column plan under one questionnaire (``questionnaire_store.columns``),
    looked up once per page and entity."""

    def __init__(self, q: Questionnaire) -> None:
        super().__init__()
        self.q = q

    def __missing__(self, entity_name: str) -> EntityColumns:
        plan = self[entity_name] = columns(self.q, entity_name)
        return plan


def _apply_record(db: Database, rec: PulledRecord, now: str, pending: Sequence[tuple[str, str]],
                  before: dict[str, Any] | None, inserts: dict[str, list[tuple[Any, ...]]], plans: _Plans) -> set[str]:
    """Overwrite with the server's copy, then lay the fields of still-pending ops over it.

    ``pending``: the record's outbox ops ``(kind, fields JSON)``; ``before``: its stored row, if
    any. A new record's row is appended to ``inserts`` (the caller inserts them in bulk).
    Returns the households whose search entry must be refreshed.
    """
    plan = plans[rec.entity]
    if before is None and not pending:
        # Nearly every record of a first pull: its row as a tuple in ``plan.insert_sql`` order.
        inserts.setdefault(rec.entity, []).append((*_field_values(rec, plan), int(rec.deleted), rec.version, now,
                                                   _extra_json(rec, plan), rec.id, now))
        return _households_of(rec, rec.data.get("household_id"), None)
    spec = plans.q.entity(rec.entity)
    row: dict[str, Any] = dict(zip(plan.keys, _field_values(rec, plan)))
    deleted = rec.deleted
    for kind, fields in pending:
        if kind == OpKind.DELETE:
            deleted = True
            continue
        for key, value in json.loads(fields).items():
            if spec.has(key):
                row[key] = db_value(spec.field(key).kind, value)
    if before is not None and int(before["server_version"]) > rec.version:
        # An ack already gave us a newer copy than this page (two cycles overlapping): keep it.
        return set()
    row.update(deleted=int(deleted), server_version=rec.version, updated_at=now, extra=_extra_json(rec, plan))
    if before is None:
        row.update(id=rec.id, created_at=now)
        inserts.setdefault(rec.entity, []).append(tuple(row.values()))  # ``plan.insert_sql`` order
    else:
        db.conn.execute(f"UPDATE {rec.entity} SET {', '.join(f'{quote(k)} = ?' for k in row)} WHERE id = ?",
                        [*row.values(), rec.id])
        # What another laptop (or HQ) changed here goes into the local history, like a local edit.
        changes = {k: (before.get(k), row[k]) for k in spec.keys if before.get(k) != row[k]}
        if bool(before["deleted"]) != bool(row["deleted"]):
            changes["deleted"] = (bool(before["deleted"]), bool(row["deleted"]))
        if changes:
            records.audit(db, at=now, actor=rec.by, source="server", entity_name=rec.entity, record_id=rec.id,
                          changes=changes)
    return _households_of(rec, row.get("household_id"), before)


def _field_values(rec: PulledRecord, plan: EntityColumns) -> list[Any]:
    """The record's questionnaire fields as stored, in ``spec.keys`` order, yes/no fields as 0/1
    (``db_value``; a stray boolean elsewhere is bound as 0/1 by sqlite3 itself). Runs for every
    field of every pulled record, hence one ``map`` and a loop over the yes/no fields only."""
    values = list(map(rec.data.get, plan.keys))
    for i in plan.bools:
        value = values[i]
        if value is not None:
            values[i] = int(bool(value))
    return values


def _extra_json(rec: PulledRecord, plan: EntityColumns) -> str | None:
    """Fields the database's questionnaire version does not know (a newer one), kept as JSON."""
    known = plan.known
    if known.issuperset(rec.data):
        return None
    return json.dumps({k: v for k, v in rec.data.items() if k not in known}, ensure_ascii=False)


def _households_of(rec: PulledRecord, household_id: Any, before: dict[str, Any] | None) -> set[str]:
    """The households whose search entry a record's new (and previous) row belongs to."""
    if rec.entity == "households":
        return {rec.id}
    if rec.entity in ("members", "businesses"):
        return {h for h in (household_id, before and before.get("household_id")) if h}
    return set()


def _fill_theirs(db: Database, rec: PulledRecord) -> None:
    """Open conflicts without the server's detail (an older server's answer) learn the winning
    value from the server's copy; a row whose winning value turns out to be mine closes."""
    rows = db.execute("SELECT id, field, mine FROM sync_conflicts WHERE kind = 'conflict' AND status = 'open'"
                      " AND entity = ? AND record_id = ? AND theirs IS NULL", [rec.entity, rec.id]).fetchall()
    for conflict_id, key, mine in rows:
        theirs = ({"deleted": rec.deleted} if key == "*" else rec.data.get(key))
        same = key != "*" and mine is not None and json.loads(mine) == theirs
        db.execute("UPDATE sync_conflicts SET theirs = ?, status = ? WHERE id = ?",
                   [json.dumps(theirs, ensure_ascii=False), "resolved" if same else "open", conflict_id])
