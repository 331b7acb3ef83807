"""Local transactions of the sync cycle (DESIGN §4 "Client cycle"), one SQLite transaction each.

* ``apply_ack`` — after a push answered 200: move ops ``≤ last_op_seq`` to the journal, record
  versions, rebase later ops on the same record, store conflicts and rejections.
* ``apply_pull`` — one pulled page: **first** drop outbox ops ``≤ last_op_seq`` (their ack was
  lost), then overwrite each record or lay the pending fields over the server's data, refresh the
  search index, then advance that scope's cursor.
* ``reenqueue_from_journal`` — the server was restored from a backup: put the acked ops it lost
  back in the outbox, with their original numbers and hashes (and ``forget_server_position``:
  pull everything again, accepting the restored server's lower versions).

Op numbers: ``sync_outbox.op_seq`` is local and only grows (AUTOINCREMENT). The number the server
sees is ``op_seq - op_seq_base``; the base changes only when the laptop registers as a new device
(the server starts every device at 0). ``crash`` is a hook called at named points inside the
transactions, so tests can prove a crash there loses nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, COMMON_COLUMNS, Kind
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.ops import op_hash
from desmig_desktop.store import records, settings
from desmig_desktop.store.schema import SEARCH_ROWS_SQL

log = logging.getLogger(__name__)

Crash = Callable[[str], None]
STATE = "sync_state"
CURSOR_PREFIX = "cursor:"
K_SERVER_URL = "server_url"
K_USERNAME = "username"
K_DEVICE_ID = "device_id"
K_DEVICE_NAME = "device_name"
K_TOKEN = "token"
K_TOKEN_EXPIRES = "token_expires_at"
K_ROLE = "role"
K_OP_SEQ_BASE = "op_seq_base"
K_LAST_ACK = "last_acked_op_seq"  # local numbering
K_MAX_SENT = "max_sent_op_seq"  # local numbering: ops up to here may sit in the server's log
K_SCOPES = "scopes"
K_LAST_SUCCESS = "last_success"  # read by `desmig status`
K_LAST_ERROR = "last_error"
K_CLOCK_OFFSET = "clock_offset_s"
K_BATCH = "batch_size"
K_SERVER_SEQ_SEEN = "server_seq_seen"
K_REGISTRATIONS = "registrations"  # [{"device_id", "op_seq_base"}], oldest first: whose log holds which ops

DELETED_MARK = {"deleted": True}


def _no_crash(_name: str) -> None:
    return None


@dataclass(frozen=True)
class OutboxOp:
    """One pending (or journaled) op, as stored locally."""

    op_seq: int
    entity: str
    record_id: str
    kind: str
    base_version: int
    fields: dict[str, Any]
    op_hash: str
    captured_at: str
    app_schema: int

    def wire(self, base: int) -> dict[str, Any]:
        """The op as the push endpoint takes it (server-side numbering)."""
        return {"op_seq": self.op_seq - base, "entity": self.entity, "id": self.record_id, "kind": self.kind,
                "base_version": self.base_version, "fields": self.fields, "op_hash": self.op_hash,
                "captured_at": self.captured_at}


@dataclass(frozen=True)
class OpOutcome:
    """The server's verdict on one op (local numbering). ``clashes``: ``(field, our value won)``."""

    op_seq: int
    status: str  # ok | merged | conflict | rejected
    version: int | None = None
    reason: str | None = None
    clashes: tuple[tuple[str, bool], ...] = ()


class ServerRecord(NamedTuple):
    """One record of a pulled page (a tuple: a 100k-household pull builds 600k of them)."""

    entity: str
    id: str
    data: dict[str, Any]
    version: int
    deleted: bool
    server_seq: int


@dataclass(frozen=True)
class AckSummary:
    acked: int
    conflicts: int
    rejected: int


@dataclass(frozen=True)
class PullSummary:
    dropped: int
    applied: int


# -- state --------------------------------------------------------------------------------------
def state(db: Database, key: str, default: Any = None) -> Any:
    return settings.get(db, key, default, table=STATE)


def put_state(db: Database, key: str, value: Any) -> None:
    settings.put(db, key, value, table=STATE)


def op_seq_base(db: Database) -> int:
    return int(state(db, K_OP_SEQ_BASE, 0))


def last_acked(db: Database) -> int:
    return int(state(db, K_LAST_ACK, op_seq_base(db)))


def cursor(db: Database, scope: str) -> int:
    return int(state(db, CURSOR_PREFIX + scope, 0))


def cursors(db: Database) -> dict[str, int]:
    rows = db.execute("SELECT key, value FROM sync_state WHERE key LIKE ?", [CURSOR_PREFIX + "%"]).fetchall()
    return {k[len(CURSOR_PREFIX):]: int(json.loads(v)) for k, v in rows}


@contextmanager
def immediate(db: Database) -> Iterator[None]:
    """One write transaction taken with ``BEGIN IMMEDIATE``.

    A deferred BEGIN that reads first and writes later fails with SQLITE_BUSY (no waiting) when
    another connection (the GUI thread) committed in between; IMMEDIATE queues on the busy timeout.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:  # a failed COMMIT leaves the transaction open: never keep it
                db.conn.execute("ROLLBACK")
            raise


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


# -- outbox -------------------------------------------------------------------------------------
_OP_COLUMNS = "op_seq, entity, record_id, kind, base_version, fields, op_hash, captured_at, app_schema"


def _op(row: Sequence[Any]) -> OutboxOp:
    return OutboxOp(int(row[0]), row[1], row[2], row[3], int(row[4]), json.loads(row[5]), row[6], row[7], int(row[8]))


def take_batch(db: Database, limit: int, *, after: int = 0) -> list[OutboxOp]:
    """The oldest ``limit`` outbox ops above ``after``, in op_seq order (the server needs them
    without holes; ``after`` skips a batch already sent whose reply is not applied yet)."""
    cur = db.execute(f"SELECT {_OP_COLUMNS} FROM sync_outbox WHERE op_seq > ? ORDER BY op_seq LIMIT ?",
                     [after, limit])
    return [_op(r) for r in cur.fetchall()]


def first_pending(db: Database) -> int | None:
    """The op_seq of the oldest op in the outbox, if any."""
    row = db.execute("SELECT min(op_seq) FROM sync_outbox").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def pending_count(db: Database) -> int:
    return records.pending_ops(db)


def journal_ops(db: Database, after: int = 0) -> list[OutboxOp]:
    cur = db.execute(f"SELECT {_OP_COLUMNS} FROM sync_journal WHERE op_seq > ? ORDER BY op_seq", [after])
    return [_op(r) for r in cur.fetchall()]


def max_op_seq_allocated(db: Database) -> int:
    """The highest op_seq this laptop ever handed out (AUTOINCREMENT's counter, outbox or journal)."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'").fetchone()
    seq = int(row[0]) if row else 0
    for table in ("sync_outbox", "sync_journal"):
        seq = max(seq, int(db.execute(f"SELECT coalesce(max(op_seq), 0) FROM {table}").fetchone()[0]))
    return seq


def mark_sent(db: Database, upto: int) -> None:
    """Remember, durably and before the request leaves, that ops up to ``upto`` may reach the server.

    A sent op keeps its hash forever (the server would call a changed one a replay mismatch), so
    the ack's rebase only touches ops above this mark.
    """
    with immediate(db):
        if upto > int(state(db, K_MAX_SENT, 0)):
            put_state(db, K_MAX_SENT, upto)


def _move_to_journal(db: Database, upto: int, outcomes: dict[int, OpOutcome]) -> list[tuple[Any, ...]]:
    """Move outbox ops ``≤ upto`` to the journal; return them as stored rows (``_OP_COLUMNS`` order).

    The ``fields`` JSON text is copied as it is: decoding and re-encoding every op here once
    cost more than the rest of an ack.
    """
    moved = db.execute(f"SELECT {_OP_COLUMNS} FROM sync_outbox WHERE op_seq <= ? ORDER BY op_seq", [upto]).fetchall()
    if not moved:
        return []
    now = utc_now()
    acked = ("acked", None)
    db.conn.executemany(
        "INSERT OR REPLACE INTO sync_journal (op_seq, entity, record_id, kind, base_version, fields, op_hash,"
        " captured_at, app_schema, acked_at, status, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row, now, *((outcomes[row[0]].status, outcomes[row[0]].version) if row[0] in outcomes else acked))
         for row in moved])
    db.execute("DELETE FROM sync_outbox WHERE op_seq <= ?", [upto])
    return moved


def _raise_last_acked(db: Database, watermark: int) -> None:
    if watermark > last_acked(db):
        put_state(db, K_LAST_ACK, watermark)


# -- ack ----------------------------------------------------------------------------------------
def apply_ack(db: Database, watermark: int, outcomes: Sequence[OpOutcome], *, crash: Crash = _no_crash) -> AckSummary:
    """Apply a push reply in one transaction. ``watermark``: the server's ``last_op_seq`` in local numbering."""
    by_seq = {o.op_seq: o for o in outcomes}
    conflicts = rejected = 0
    with immediate(db):
        moved = _move_to_journal(db, watermark, by_seq)
        crash("push.ack.in_tx")
        max_sent = int(state(db, K_MAX_SENT, 0))
        now = utc_now()
        versions: dict[str, list[tuple[int, str, int]]] = {}
        for row in moved:
            op_seq, entity_name, record_id = row[0], row[1], row[2]
            outcome = by_seq.get(op_seq)
            if outcome is None:
                continue  # acked by the watermark of an earlier, lost reply: the pull brings its result
            if outcome.status == "ok" and outcome.version:
                # Nobody else touched the record since our base: the local copy *is* that version.
                versions.setdefault(entity_name, []).append((outcome.version, record_id, outcome.version))
                _rebase(db, entity_name, record_id, outcome.version, after=max(op_seq, max_sent))
            elif outcome.status == "conflict":
                conflicts += _store_lost_values(db, _op(row), outcome, now)
            elif outcome.status == "rejected":
                op = _op(row)
                rejected += 1
                mine = DELETED_MARK if op.kind == "delete" else op.fields
                db.execute("INSERT INTO sync_conflicts (kind, entity, record_id, field, mine, theirs, reason, op_seq,"
                           " status, created_at) VALUES ('rejected', ?, ?, NULL, ?, NULL, ?, ?, 'open', ?)",
                           [op.entity, op.record_id, json.dumps(mine, ensure_ascii=False), outcome.reason,
                            op.op_seq, now])
        for entity_name, rows in versions.items():
            ENTITIES[entity_name]  # only known table names reach SQL
            db.conn.executemany(f"UPDATE {entity_name} SET server_version = ? WHERE id = ? AND server_version < ?",
                                rows)
        _raise_last_acked(db, watermark)
    return AckSummary(len(moved), conflicts, rejected)


def _rebase(db: Database, entity_name: str, record_id: str, version: int, *, after: int) -> None:
    """Later, never-sent ops on this record were captured on top of the acked one: base them on its version."""
    rows = db.conn.execute("SELECT op_seq, kind, fields FROM sync_outbox WHERE entity = ? AND record_id = ?"
                           " AND op_seq > ? AND base_version < ?", [entity_name, record_id, after, version]).fetchall()
    for seq, kind, fields in rows:
        db.conn.execute("UPDATE sync_outbox SET base_version = ?, op_hash = ? WHERE op_seq = ?",
                        [version, op_hash(entity_name, record_id, kind, version, json.loads(fields)), seq])


def _store_lost_values(db: Database, op: OutboxOp, outcome: OpOutcome, now: str) -> int:
    """One open row per field where our value lost; ``theirs`` is filled when the pull brings the winner."""
    lost = [f for f, won in outcome.clashes if not won]
    if not outcome.clashes:
        lost = ["*"] if op.kind == "delete" else list(op.fields)
    for key in lost:
        if key == "*":
            mine: Any = DELETED_MARK if op.kind == "delete" else op.fields
        else:
            mine = op.fields.get(key)
        db.execute("INSERT INTO sync_conflicts (kind, entity, record_id, field, mine, theirs, reason, op_seq, status,"
                   " created_at) VALUES ('conflict', ?, ?, ?, ?, NULL, ?, ?, 'open', ?)",
                   [op.entity, op.record_id, key, json.dumps(mine, ensure_ascii=False), outcome.reason, op.op_seq, now])
    return len(lost)


# -- pull ---------------------------------------------------------------------------------------
def apply_pull(db: Database, scope: str, page_records: Sequence[ServerRecord], next_cursor: int, watermark: int,
               *, drop_acked: bool = True, crash: Crash = _no_crash) -> PullSummary:
    """Apply one pulled page in one transaction. ``watermark``: the device's ``last_op_seq`` (local numbering)
    read in the same server snapshot as the page."""
    if not page_records and next_cursor == cursor(db, scope) and watermark <= last_acked(db) and (
            not drop_acked or db.execute("SELECT 1 FROM sync_outbox WHERE op_seq <= ? LIMIT 1", [watermark]).fetchone()
            is None):
        return PullSummary(0, 0)  # nothing new: no write transaction (a no-op sync stays cheap)
    with _foreign_keys_off(db), immediate(db):
        dropped = _move_to_journal(db, watermark, {}) if drop_acked else []
        _raise_last_acked(db, watermark)
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
        pending = _pending_fields(conn, known)
        current = _current_rows(conn, known)
        households: set[str] = set()
        inserts: dict[str, list[tuple[Any, ...]]] = {}
        for rec in known:
            households.update(_apply_record(db, rec, now, pending.get((rec.entity, rec.id), ()),
                                            current.get((rec.entity, rec.id)), inserts))
            if (rec.entity, rec.id) in waiting:
                _fill_theirs(db, rec)
        for entity_name, new_rows in inserts.items():
            columns = _INSERT_COLUMNS[entity_name]
            conn.executemany(f"INSERT INTO {entity_name} ({', '.join(columns)}) VALUES"
                             f" ({', '.join('?' * len(columns))})", new_rows)
        applied = len(known)
        crash("pull.apply.records")
        _refresh_search(conn, sorted(households))
        put_state(db, CURSOR_PREFIX + scope, next_cursor)
        if page_records:
            put_state(db, K_SERVER_SEQ_SEEN, max(int(state(db, K_SERVER_SEQ_SEEN, 0)),
                                                 max(r.server_seq for r in page_records)))
    return PullSummary(len(dropped), applied)


_IN_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


def _pending_fields(conn: Any, recs: Sequence[ServerRecord]) -> dict[tuple[str, str], list[tuple[str, str]]]:
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


def _current_rows(conn: Any, recs: Sequence[ServerRecord]) -> dict[tuple[str, str], dict[str, Any]]:
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


def _ids_by_entity(recs: Sequence[ServerRecord]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rec in recs:
        out.setdefault(rec.entity, []).append(rec.id)
    return out


def _refresh_search(conn: Any, household_ids: Sequence[str]) -> None:
    """``records.refresh_search`` for a whole page at once: same rows, a few statements per chunk.
    Only households that already have a key can have a full-text row to delete (keys are never
    removed), so a first pull deletes nothing."""
    for i in range(0, len(household_ids), _IN_CHUNK):
        chunk = list(household_ids[i:i + _IN_CHUNK])
        marks = ", ".join("?" * len(chunk))
        keys = [k for (k,) in conn.execute(f"SELECT key FROM search_keys WHERE household_id IN ({marks})", chunk)]
        if keys:
            conn.execute(f"DELETE FROM household_search WHERE rowid IN ({', '.join('?' * len(keys))})", keys)
        if len(keys) < len(chunk):
            conn.executemany("INSERT OR IGNORE INTO search_keys(household_id) VALUES (?)", [(h,) for h in chunk])
        conn.execute(SEARCH_ROWS_SQL + f" WHERE h.id IN ({marks}) AND h.deleted = 0", chunk)


def _db_value(kind: Kind, value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if kind is Kind.BOOL and value is not None:
        return int(bool(value))
    return value


# Per entity: (field keys in column order, positions of the yes/no fields), and the keys that are not "extra".
_ROW_PLAN = {name: (spec.keys, tuple(i for i, f in enumerate(spec.fields) if f.kind is Kind.BOOL))
             for name, spec in ENTITIES.items()}
_KNOWN_KEYS = {name: frozenset(spec.keys) | frozenset(COMMON_COLUMNS) for name, spec in ENTITIES.items()}
# The columns of a pulled record's new row, in the order ``_apply_record`` builds its tuple.
_INSERT_COLUMNS = {name: (*spec.keys, "deleted", "server_version", "updated_at", "extra", "id", "created_at")
                   for name, spec in ENTITIES.items()}


def _apply_record(db: Database, rec: ServerRecord, now: str, pending: Sequence[tuple[str, str]],
                  before: dict[str, Any] | None, inserts: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    """Overwrite with the server's copy, then lay the fields of still-pending ops over it.

    ``pending``: the record's outbox ops ``(kind, fields JSON)``; ``before``: its stored row, if
    any. A new record's row is appended to ``inserts`` (the caller inserts them in bulk).
    Returns the households whose search entry must be refreshed.
    """
    if before is None and not pending:
        # Nearly every record of a first pull: its row as a tuple in ``_INSERT_COLUMNS`` order.
        inserts.setdefault(rec.entity, []).append((*_field_values(rec), int(rec.deleted), rec.version, now,
                                                   _extra_json(rec), rec.id, now))
        return _households_of(rec, rec.data.get("household_id"), None)
    spec = ENTITIES[rec.entity]
    row: dict[str, Any] = dict(zip(spec.keys, _field_values(rec)))
    deleted = rec.deleted
    for kind, fields in pending:
        if kind == "delete":
            deleted = True
            continue
        for key, value in json.loads(fields).items():
            if spec.has(key):
                row[key] = _db_value(spec.field(key).kind, value)
    if before is not None and int(before["server_version"]) > rec.version:
        # An ack already gave us a newer copy than this page (two cycles overlapping): keep it.
        return set()
    row.update(deleted=int(deleted), server_version=rec.version, updated_at=now, extra=_extra_json(rec))
    if before is None:
        row.update(id=rec.id, created_at=now)
        inserts.setdefault(rec.entity, []).append(tuple(row.values()))  # ``_INSERT_COLUMNS`` order
    else:
        db.conn.execute(f"UPDATE {rec.entity} SET {', '.join(f'{k} = ?' for k in row)} WHERE id = ?",
                        [*row.values(), rec.id])
        # What another laptop (or HQ) changed here goes into the local history, like a local edit.
        changes = {k: (before.get(k), row[k]) for k in spec.keys if before.get(k) != row[k]}
        if bool(before["deleted"]) != bool(row["deleted"]):
            changes["deleted"] = (bool(before["deleted"]), bool(row["deleted"]))
        if changes:
            records.audit(db, at=now, actor=None, source="server", entity_name=rec.entity, record_id=rec.id,
                          changes=changes)
    return _households_of(rec, row.get("household_id"), before)


def _field_values(rec: ServerRecord) -> list[Any]:
    """The record's questionnaire fields as stored, in ``spec.keys`` order, yes/no fields as 0/1
    (``_db_value``; a stray boolean elsewhere is bound as 0/1 by sqlite3 itself). Runs for every
    field of every pulled record, hence one ``map`` and a loop over the yes/no fields only."""
    keys, bools = _ROW_PLAN[rec.entity]
    values = list(map(rec.data.get, keys))
    for i in bools:
        value = values[i]
        if value is not None:
            values[i] = int(bool(value))
    return values


def _extra_json(rec: ServerRecord) -> str | None:
    """Fields this app version does not know (a newer questionnaire), kept as JSON."""
    known = _KNOWN_KEYS[rec.entity]
    if known.issuperset(rec.data):
        return None
    return json.dumps({k: v for k, v in rec.data.items() if k not in known}, ensure_ascii=False)


def _households_of(rec: ServerRecord, household_id: Any, before: dict[str, Any] | None) -> set[str]:
    """The households whose search entry a record's new (and previous) row belongs to."""
    if rec.entity == "households":
        return {rec.id}
    if rec.entity in ("members", "businesses"):
        return {h for h in (household_id, before and before.get("household_id")) if h}
    return set()


def _fill_theirs(db: Database, rec: ServerRecord) -> None:
    """Open conflicts on this record learn the winning value from the server's copy; a row whose
    winning value turns out to be mine (a replayed answer carries no per-field detail) closes."""
    rows = db.execute("SELECT id, field, mine FROM sync_conflicts WHERE kind = 'conflict' AND status = 'open'"
                      " AND entity = ? AND record_id = ? AND theirs IS NULL", [rec.entity, rec.id]).fetchall()
    for conflict_id, key, mine in rows:
        theirs = ({"deleted": rec.deleted} if key == "*" else rec.data.get(key))
        same = key != "*" and mine is not None and json.loads(mine) == theirs
        db.execute("UPDATE sync_conflicts SET theirs = ?, status = ? WHERE id = ?",
                   [json.dumps(theirs, ensure_ascii=False), "resolved" if same else "open", conflict_id])


# -- device identity and server restores ----------------------------------------------------------
def reenqueue_from_journal(db: Database, server_watermark: int, *, crash: Crash = _no_crash) -> int:
    """The server's log ends before our last ack (restored from a backup): put the acked ops it
    lost back in the outbox, same numbers and hashes, and pull every scope again from the start
    (the restored server hands out sequence numbers we have already seen)."""
    floor = max(server_watermark, op_seq_base(db))
    with immediate(db):
        db.execute(f"INSERT INTO sync_outbox ({_OP_COLUMNS}) SELECT {_OP_COLUMNS} FROM sync_journal"
                   " WHERE op_seq > ? AND op_seq NOT IN (SELECT op_seq FROM sync_outbox)", [floor])
        count = int(db.execute("SELECT changes()").fetchone()[0])
        db.execute("DELETE FROM sync_journal WHERE op_seq > ?", [floor])
        crash("reenqueue.in_tx")
        put_state(db, K_LAST_ACK, floor)
        forget_server_position(db)
    log.warning("server is behind our last ack (restored from backup?): %d ops re-enqueued after %d", count, floor)
    return count


def forget_server_position(db: Database) -> None:
    """The server went back in time (restored from a backup): pull every scope from the start, and
    accept its copies again although their versions are lower than the ones we hold."""
    with db.atomic():
        reset_cursors(db)
        for name in ENTITIES:
            db.execute(f"UPDATE {name} SET server_version = 0 WHERE server_version > 0")


def reset_cursors(db: Database) -> None:
    with db.atomic():
        db.execute("DELETE FROM sync_state WHERE key LIKE ?", [CURSOR_PREFIX + "%"])
        db.execute("DELETE FROM sync_state WHERE key = ?", [K_SERVER_SEQ_SEEN])


def store_token(db: Database, token: str, expires_at: str | None) -> None:
    """Keep a rotated token (durably, before it is first used)."""
    with immediate(db):
        put_state(db, K_TOKEN, token)
        put_state(db, K_TOKEN_EXPIRES, expires_at)


def register_device(db: Database, *, server_url: str, username: str, device_id: str, token: str,
                    device_name: str, token_expires_at: str | None = None) -> int:
    """Store a fresh device registration; returns the new op_seq base.

    The server starts a new device's log at 0, so op numbers restart after the base: the first
    still-pending op becomes number 1 (or the next one made, if the outbox is empty).
    """
    with immediate(db):
        first = db.execute("SELECT min(op_seq) FROM sync_outbox").fetchone()[0]
        base = int(first) - 1 if first is not None else max_op_seq_allocated(db)
        same_feed = state(db, K_SERVER_URL) == server_url and state(db, K_USERNAME) == username
        if not same_feed:
            reset_cursors(db)
        history = list(state(db, K_REGISTRATIONS, []))
        history.append({"device_id": device_id, "op_seq_base": base, "server_url": server_url})
        for key, value in ((K_SERVER_URL, server_url), (K_USERNAME, username), (K_DEVICE_ID, device_id),
                           (K_TOKEN, token), (K_DEVICE_NAME, device_name), (K_OP_SEQ_BASE, base),
                           (K_LAST_ACK, base), (K_MAX_SENT, base), (K_REGISTRATIONS, history),
                           (K_TOKEN_EXPIRES, token_expires_at)):
            put_state(db, key, value)
    return base


def forget_token(db: Database) -> None:
    with immediate(db):
        db.execute("DELETE FROM sync_state WHERE key = ?", [K_TOKEN])


# -- conflicts inbox ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConflictRow:
    id: int
    kind: str  # conflict | rejected
    entity: str
    record_id: str
    field: str | None
    mine: Any
    theirs: Any
    reason: str | None
    op_seq: int | None
    status: str
    created_at: str


def conflict_rows(db: Database, *, statuses: Sequence[str] = ("open",)) -> list[ConflictRow]:
    marks = ", ".join("?" * len(statuses))
    cur = db.execute("SELECT id, kind, entity, record_id, field, mine, theirs, reason, op_seq, status, created_at"
                     f" FROM sync_conflicts WHERE status IN ({marks}) ORDER BY id", list(statuses))
    return [ConflictRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] is not None else None,
                        json.loads(r[6]) if r[6] is not None else None, r[7], r[8], r[9], r[10])
            for r in cur.fetchall()]


def conflict_row(db: Database, conflict_id: int) -> ConflictRow | None:
    found = [r for r in conflict_rows(db, statuses=("open", "kept_mine", "accepted", "resent", "dismissed"))
             if r.id == conflict_id]
    return found[0] if found else None


def set_conflict_status(db: Database, conflict_id: int, status: str) -> None:
    db.execute("UPDATE sync_conflicts SET status = ? WHERE id = ?", [status, conflict_id])


def force_edit(db: Database, entity_name: str, record_id: str, fields: dict[str, Any], *, delete: bool = False,
               revive: bool = False, close_conflict: tuple[int, str] | None = None) -> int:
    """Write ``fields`` (or a delete) to the record and enqueue them as one op, even when the local
    copy already holds these values: resolving a conflict or resending a rejection must reach the
    server. Optionally closes a conflict row in the same transaction. Returns the new op_seq."""
    spec = ENTITIES[entity_name]
    unknown = [k for k in fields if not spec.has(k)]
    if unknown:
        raise KeyError(f"unknown fields for {entity_name}: {unknown}")
    with immediate(db):
        current = records.get(db, entity_name, record_id)
        base = int(current["server_version"]) if current else 0
        now = utc_now()
        if current is None and not delete:
            row = {k: _db_value(spec.field(k).kind, v) for k, v in fields.items()}
            row.update(id=record_id, deleted=0, server_version=0, created_at=now, updated_at=now)
            db.execute(f"INSERT INTO {entity_name} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       list(row.values()))
        elif current is not None:
            sets = {k: _db_value(spec.field(k).kind, v) for k, v in fields.items()}
            sets["updated_at"] = now
            if delete:
                sets["deleted"] = 1
            elif revive:
                sets["deleted"] = 0
            db.execute(f"UPDATE {entity_name} SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                       [*sets.values(), record_id])
        seq = records.enqueue(db, entity_name, record_id, "delete" if delete else "upsert", base,
                              {} if delete else fields)
        changes = {k: ((current or {}).get(k), v) for k, v in fields.items()}
        if delete or (revive and current is not None and current["deleted"]):
            changes["deleted"] = (not delete, delete)
        actor = db.execute("SELECT json_extract(value, '$') FROM settings WHERE key = 'officer_name'").fetchone()
        records.audit(db, at=now, actor=actor[0] if actor else None, source="local", entity_name=entity_name,
                      record_id=record_id, changes=changes, op_seq=seq)
        if close_conflict is not None:
            set_conflict_status(db, *close_conflict)
        household = record_id if entity_name == "households" else (current or fields).get("household_id")
        if household:
            records.refresh_search(db, [household])
    return seq

