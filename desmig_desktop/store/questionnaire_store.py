"""The device's questionnaire (issue 16 §3): which version this database is on, its columns, and
applying a newer version HQ published.

**Active version.** ``questionnaire_documents`` (m014) holds every version this database applied;
the highest is active, none means version 1 (the document the app ships). ``active(db)`` reads it
with one indexed lookup and parses a document once per process (by digest: a digest names
immutable content, so the parsed questionnaire is shared by every connection and database).
Each database decides for itself: two profiles on one laptop may be on different versions.

**Applying** (``apply_document``) is one write transaction: the document is checked
(``from_document``) and compared with the active one (``questionnaire_compat.compare``); a
version with any change this app cannot take is refused with each reason (HQ refuses them at
publish already; this is defence in depth), and nothing is written. Otherwise the row is stored
and each new question gets its column (``ALTER TABLE ... ADD COLUMN``, typed as ``schema``
types every column), and answers this device had kept in a row's ``extra`` JSON while it did not
know the question move into the new column. SQLite DDL is transactional: a crash or error at
any point leaves the previous version active and no column added. Adding a column that already
exists is skipped, so applying is idempotent.

This is data-driven, not a migration step: the columns a version adds are exactly the document's.

**Column plans** (``columns(q, entity)``): what the hot paths (pull apply, save) need of an
entity under a version — field keys in column order, which are yes/no, the keys that are not
``extra``, the insert statement — computed once per version and entity.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.questionnaire import (
    BUNDLED_VERSION,
    DocumentError,
    Questionnaire,
    bundled,
    document_digest,
    document_text,
    from_document,
)
from desmig_desktop.domain.questionnaire_compat import Change, compare, refused
from desmig_desktop.domain.specs import COMMON_COLUMNS, EntitySpec, Kind
from desmig_desktop.errors import KnownError
from desmig_desktop.store.entity_columns import column_type

TABLE = "questionnaire_documents"
_PARSED: dict[str, Questionnaire] = {}  # digest -> questionnaire (immutable content: any database)


class QuestionnaireRefused(KnownError):
    """A published document this app cannot apply; ``reasons``: one line each (nothing was applied)."""

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)


@dataclass(frozen=True)
class Applied:
    """A version applied by ``apply_document``: its number and the (compatible) changes it made."""

    version: int
    changes: tuple[Change, ...]

    @property
    def new_fields(self) -> tuple[tuple[str, str], ...]:
        """``(entity, key)`` of each question the version added."""
        return tuple((c.entity or "", c.field or "") for c in self.changes if c.code == "field_added")


def quote(name: str) -> str:
    """An identifier as SQL text. Field keys are checked names (``questionnaire_check.NAME``), but
    one may be an SQL keyword (``order``, ``group``): columns a version adds are always quoted."""
    return '"' + name.replace('"', '""') + '"'


# -- the active version -----------------------------------------------------------------------
def active_version(db: Database) -> int:
    row = db.conn.execute(f"SELECT max(version) FROM {TABLE}").fetchone()
    return int(row[0]) if row and row[0] is not None else BUNDLED_VERSION


def active(db: Database) -> Questionnaire:
    """The questionnaire this database is on (bundled version 1 when it never applied one)."""
    row = db.conn.execute(f"SELECT version, digest FROM {TABLE} ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return bundled()
    found = _PARSED.get(row[1])
    if found is None:
        text = db.conn.execute(f"SELECT document FROM {TABLE} WHERE version = ?", [row[0]]).fetchone()[0]
        found = _PARSED.setdefault(row[1], from_document(json.loads(text)))
    return found


def spec(db: Database, entity_name: str) -> EntitySpec:
    """The active version's spec of ``entity_name`` (``KeyError`` for an unknown entity)."""
    return active(db).entity(entity_name)


# -- column plans ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntityColumns:
    """An entity's columns under one version, as the hot paths use them."""

    keys: tuple[str, ...]  # the field keys, in the document's order
    bools: tuple[int, ...]  # positions in ``keys`` of the yes/no fields
    known: frozenset[str]  # keys stored in their own column (fields and the common columns)
    insert_sql: str  # a new row: the fields, then deleted, server_version, updated_at, extra, id, created_at


_PLANS: dict[tuple[int, str], tuple[Questionnaire, EntityColumns]] = {}  # (id(q), entity) -> (q, plan)


def columns(q: Questionnaire, entity_name: str) -> EntityColumns:
    """The column plan of ``entity_name`` under ``q`` (computed once per version and entity; the
    questionnaire is kept with its plan, so its id is never reused while cached)."""
    cached = _PLANS.get((id(q), entity_name))
    if cached is not None and cached[0] is q:
        return cached[1]
    spec_ = q.entity(entity_name)
    keys = spec_.keys
    names = (*keys, "deleted", "server_version", "updated_at", "extra", "id", "created_at")
    plan = EntityColumns(
        keys, tuple(i for i, f in enumerate(spec_.fields) if f.kind is Kind.BOOL),
        frozenset(keys) | frozenset(COMMON_COLUMNS),
        f"INSERT INTO {entity_name} ({', '.join(quote(n) for n in names)}) VALUES ({', '.join('?' * len(names))})")
    _PLANS[(id(q), entity_name)] = (q, plan)
    return plan


# -- applying a version -----------------------------------------------------------------------------
Crash = Callable[[str], None]


def _no_crash(_name: str) -> None:
    return None


def check_document(db: Database, doc: Any) -> tuple[Questionnaire, list[Change]] | None:
    """The questionnaire of ``doc`` and its changes from the active one; None when it is not newer.
    Raises ``QuestionnaireRefused`` (a malformed document, or a change this app cannot take)."""
    try:
        new = from_document(doc)
    except DocumentError as exc:
        raise QuestionnaireRefused(_("Kuesioner dari server tidak dapat dibaca; tidak diterapkan."),
                                   list(exc.problems)) from None
    old = active(db)
    if new.version <= old.version:
        return None
    changes = compare(old, new)
    bad = refused(changes)
    if bad:
        raise QuestionnaireRefused(
            _("Kuesioner versi {version} dari server memuat perubahan yang butuh aplikasi baru; tidak diterapkan."
              " Perbarui aplikasi.", version=new.version), [c.describe() for c in bad])
    return new, changes


def apply_document(db: Database, doc: Any, *, crash: Crash = _no_crash) -> Applied | None:
    """Make ``doc`` this database's active version, in one transaction (module docstring).

    Returns what was applied, or None when ``doc`` is not newer than the active version.
    Raises ``QuestionnaireRefused`` with each reason; nothing is written then.
    """
    from desmig_desktop.store.sync_store import immediate  # (sync_store imports records, which imports us)

    with immediate(db):
        checked = check_document(db, doc)  # inside the transaction: no other writer applies meanwhile
        if checked is None:
            return None
        new, changes = checked
        db.conn.execute(
            f"INSERT INTO {TABLE} (version, digest, document, changes, applied_at) VALUES (?, ?, ?, ?, ?)",
            [new.version, document_digest(doc), document_text(doc),
             json.dumps([{"code": c.code, "entity": c.entity, "field": c.field} for c in changes]), utc_now()])
        crash("questionnaire.stored")
        add_columns(db, new)
        crash("questionnaire.columns")
    _PARSED.setdefault(document_digest(doc), new)
    return Applied(new.version, tuple(changes))


def add_columns(db: Database, q: Questionnaire) -> list[tuple[str, str]]:
    """Add a column for each field of ``q`` its table lacks, moving kept ``extra`` answers into
    it (caller holds the transaction). Returns ``(table, column)`` of each column added."""
    added: list[tuple[str, str]] = []
    conn = db.conn
    for e in q.entity_specs:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({quote(e.name)})")}
        if not have:
            continue  # every version has every entity (compare refuses new ones); a table is never made here
        new = [f for f in e.fields if f.key not in have]
        for f in new:
            conn.execute(f"ALTER TABLE {quote(e.name)} ADD COLUMN {quote(f.key)} {column_type(f.kind)}")
            added.append((e.name, f.key))
        if new:
            _adopt_extra(conn, e.name, [f.key for f in new])
    return added


def _adopt_extra(conn: Any, table: str, keys: list[str]) -> None:
    """Answers to these questions that this device kept in ``extra`` (pulled while it did not know
    them) move into their new columns; an ``extra`` left empty becomes NULL."""
    for key in keys:
        path = f'$."{key}"'
        conn.execute(f"UPDATE {quote(table)} SET {quote(key)} = json_extract(extra, ?) WHERE extra IS NOT NULL"
                     f" AND json_type(extra, ?) IS NOT NULL AND json_type(extra, ?) != 'null'", [path, path, path])
    paths = [f'$."{key}"' for key in keys]
    conn.execute(f"UPDATE {quote(table)} SET extra = json_remove(extra, {', '.join('?' * len(paths))})"
                 " WHERE extra IS NOT NULL", paths)
    conn.execute(f"UPDATE {quote(table)} SET extra = NULL WHERE extra = '{{}}'")


def applied_versions(db: Database) -> list[dict[str, Any]]:
    """Every version this database applied, oldest first: version, digest, applied_at, changes."""
    rows = db.conn.execute(f"SELECT version, digest, applied_at, changes FROM {TABLE} ORDER BY version").fetchall()
    return [{"version": v, "digest": d, "applied_at": at, "changes": json.loads(c)} for v, d, at, c in rows]
