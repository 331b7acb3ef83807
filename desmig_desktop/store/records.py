"""Write records and their outbox ops together, in one transaction.

Values reaching this module are already validated and normalised by the domain. Each change
produces one outbox op carrying only the fields that changed, so a crash can never leave a
record change without its op (or the reverse).

**Edits made on a copy** (a form, a draft, an exported file, an undo entry, the conflicts inbox)
carry a ``Base``: the version and values the copy was made from. "Changed" then means changed
*relative to that copy*, not to the row as it is now — a sync may have brought a correction in
the meantime. Only those fields are written (on top of the current row, so the correction
stays) and sent, with the copy's version as ``base_version``, so the server's three-way merge
sees the concurrent change and merges it or records a conflict instead of taking stale values
as a new edit. A change without a base is made on the current row (the caller just read it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.fields import COMMON_COLUMNS, EntitySpec, Kind
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.ops import APP_SCHEMA, op_hash
from desmig_desktop.domain.questionnaire import Questionnaire, bundled
from desmig_desktop.store import questionnaire_store
from desmig_desktop.store.schema import SEARCH_KEYS_SQL, SEARCH_ROWS_SQL


@dataclass(frozen=True)
class Base:
    """What an edit was made on: the record's ``server_version`` and field values when its copy was
    read. ``values`` may hold only the fields the change touches."""

    version: int
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One record change: ``values`` are spec fields (full or partial); ``delete`` soft-deletes.

    With ``base``, ``values`` are compared with ``base.values`` (not with the current row): only
    the fields that differ are written and sent — sent even where the row already holds the
    value — and the op's ``base_version`` is ``base.version``.
    """

    entity: str
    id: str
    values: dict[str, Any] = field(default_factory=dict)
    delete: bool = False
    undelete: bool = False
    base: Base | None = None


def edited(change: Change) -> dict[str, Any]:
    """The fields ``change`` sets. With a base, only those whose value differs from the base's (a
    value still equal to what the copy was made from is no edit, whatever the row holds now)."""
    if change.base is None:
        return dict(change.values)
    seen = change.base.values
    return {k: v for k, v in change.values.items() if k not in seen or seen[k] != v}


def base_of(row: Mapping[str, Any]) -> Base:
    """The base of an edit about to be made on ``row`` (a stored row as ``get`` returns it)."""
    return Base(int(row.get("server_version") or 0), {k: v for k, v in row.items() if k not in COMMON_COLUMNS})


def from_db(entity_name: str, row: dict[str, Any], spec: EntitySpec | None = None) -> dict[str, Any]:
    """Turn a stored row into canonical values (booleans back to ``bool``). ``spec``: the entity
    under the database's active questionnaire (default: version 1's, for a caller without one)."""
    spec = spec or bundled().entity(entity_name)
    out = dict(row)
    for f in spec.fields:
        if f.kind is Kind.BOOL and out.get(f.key) is not None:
            out[f.key] = bool(out[f.key])
    return out


def get(db: Database, entity_name: str, record_id: str) -> dict[str, Any] | None:
    spec = questionnaire_store.spec(db, entity_name)  # refuses unknown entity names before they reach SQL
    cur = db.execute(f"SELECT * FROM {entity_name} WHERE id = ?", [record_id])
    row = cur.fetchone()
    if row is None:
        return None
    return from_db(entity_name, dict(zip([c[0] for c in cur.description], row)), spec)


def _to_db(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def enqueue(db: Database, entity_name: str, record_id: str, kind: str, base_version: int,
            fields: dict[str, Any], questionnaire_version: int = 1) -> int:
    """Append one op to the outbox (caller holds the transaction); ``questionnaire_version``: the
    version its values were validated under (the HQ validates the op under the same one)."""
    cur = db.execute(
        "INSERT INTO sync_outbox (entity, record_id, kind, base_version, fields, op_hash, captured_at, app_schema,"
        " questionnaire_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entity_name, record_id, kind, base_version, json.dumps(fields, ensure_ascii=False),
         op_hash(entity_name, record_id, kind, base_version, fields), utc_now(), APP_SCHEMA, questionnaire_version],
    )
    return int(cur.lastrowid or 0)


def audit(db: Database, *, at: str, actor: str | None, source: str, entity_name: str, record_id: str,
          changes: dict[str, tuple[Any, Any]], op_seq: int | None = None) -> None:
    """Append field changes ``{field: (old, new)}`` to the local history (caller holds the transaction)."""
    db.conn.executemany(
        "INSERT INTO audit_log (at, actor, source, entity, record_id, field, old, new, op_seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(at, actor, source, entity_name, record_id, key,
          None if old is None else json.dumps(old, ensure_ascii=False),
          None if new is None else json.dumps(new, ensure_ascii=False), op_seq)
         for key, (old, new) in changes.items()],
    )


def history(db: Database, entity_name: str, record_id: str) -> list[dict[str, Any]]:
    """The field history of one record, oldest first, values decoded."""
    cur = db.execute("SELECT seq, at, actor, source, field, old, new, op_seq FROM audit_log"
                     " WHERE entity = ? AND record_id = ? ORDER BY seq", [entity_name, record_id])
    names = [c[0] for c in cur.description]
    out = []
    for row in cur:
        item = dict(zip(names, row))
        for key in ("old", "new"):
            item[key] = None if item[key] is None else json.loads(item[key])
        out.append(item)
    return out


def _apply_one(db: Database, change: Change, now: str,
               q: Questionnaire) -> tuple[int, dict[str, tuple[Any, Any]]] | None:
    """Write one change and its op; return the op_seq and the field changes ``{field: (old, new)}``.
    ``q``: the database's active questionnaire (the fields a change may set, the op's version).
    Answers a row keeps in ``extra`` (questions of a later version) are never touched here."""
    spec = q.entity(change.entity)
    version = q.version
    current = get(db, change.entity, change.id)
    base_version = change.base.version if change.base is not None else current["server_version"] if current else 0
    if change.delete:
        if current is None or (current["deleted"] and change.base is None):
            return None
        if current["deleted"]:  # a copy that saw the record live deletes it again (a refused delete resent)
            return enqueue(db, spec.name, change.id, "delete", base_version, {}, version), {}
        db.execute(f"UPDATE {spec.name} SET deleted = 1, updated_at = ? WHERE id = ?", [now, change.id])
        seq = enqueue(db, spec.name, change.id, "delete", base_version, {}, version)
        return seq, {"deleted": (False, True)}
    unknown = [k for k in change.values if not spec.has(k)]
    if unknown:
        raise KeyError(f"unknown fields for {spec.name}: {unknown}")
    if current is None:
        fields = {k: v for k, v in change.values.items() if v is not None}
        row = {k: _to_db(v) for k, v in fields.items()}
        row.update(id=change.id, deleted=0, server_version=0, created_at=now, updated_at=now)
        cols = ", ".join(map(questionnaire_store.quote, row))
        db.execute(f"INSERT INTO {spec.name} ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        seq = enqueue(db, spec.name, change.id, "upsert", 0, fields, version)
        return seq, {k: (None, v) for k, v in fields.items()}
    fields = edited(change)
    written = {k: v for k, v in fields.items() if current.get(k) != v}
    if change.base is None:
        fields = written
    revive = bool(current["deleted"]) and change.undelete
    if not fields and not revive:
        return None
    history = {k: (current.get(k), v) for k, v in written.items()}
    sets = {k: _to_db(v) for k, v in written.items()}
    sets["updated_at"] = now
    if revive:
        sets["deleted"] = 0
        history["deleted"] = (True, False)
        # A revived record re-sends all its values so the server's copy is whole again.
        fields = {k: v for k, v in {**current, **change.values}.items() if spec.has(k) and v is not None}
    assignments = ", ".join(f"{questionnaire_store.quote(k)} = ?" for k in sets)
    db.execute(f"UPDATE {spec.name} SET {assignments} WHERE id = ?", [*sets.values(), change.id])
    seq = enqueue(db, spec.name, change.id, "upsert", base_version, fields, version)
    return seq, history


def apply_changes(db: Database, changes: Iterable[Change]) -> list[int]:
    """Apply changes and write their outbox ops atomically; return the new op_seqs."""
    now = utc_now()
    seqs: list[int] = []
    touched: set[str] = set()
    with db.atomic():
        actor = db.execute("SELECT json_extract(value, '$') FROM settings WHERE key = 'officer_name'").fetchone()
        q = questionnaire_store.active(db)  # read in the transaction: a sync cannot apply a version meanwhile
        for change in changes:
            applied = _apply_one(db, change, now, q)
            if applied is not None:
                seq, field_changes = applied
                audit(db, at=now, actor=actor[0] if actor else None, source="local", entity_name=change.entity,
                      record_id=change.id, changes=field_changes, op_seq=seq)
                seqs.append(seq)
                touched.update(_households_of(db, change))
        refresh_search(db, touched)
    return seqs


def _households_of(db: Database, change: Change) -> Iterator[str]:
    if change.entity == "households":
        yield change.id
    elif change.entity in ("members", "businesses"):
        row = db.execute(f"SELECT household_id FROM {change.entity} WHERE id = ?", [change.id]).fetchone()
        if row:
            yield row[0]


IN_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


def refresh_search(db: Database, household_ids: Iterable[str]) -> None:
    """Rebuild the full-text rows of these households (caller holds the transaction): a few
    statements per chunk of households, so a pulled page costs what one saved household does.
    Only households that already have a key can have a full-text row to delete (keys are never
    removed), so a first pull deletes nothing; a missing household gets neither key nor row."""
    ids = list(household_ids)
    conn = db.conn  # plain sqlite3: this runs for every pulled page
    for i in range(0, len(ids), IN_CHUNK):
        chunk = ids[i:i + IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        keys = [k for (k,) in conn.execute(f"SELECT key FROM search_keys WHERE household_id IN ({marks})", chunk)]
        if keys:
            conn.execute(f"DELETE FROM household_search WHERE rowid IN ({', '.join('?' * len(keys))})", keys)
        conn.execute(SEARCH_KEYS_SQL.format(ids=marks), chunk)
        conn.execute(SEARCH_ROWS_SQL + f" WHERE h.id IN ({marks}) AND h.deleted = 0", chunk)


def pending_ops(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM sync_outbox").fetchone()[0])
