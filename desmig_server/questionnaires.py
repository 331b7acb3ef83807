"""Questionnaire versions HQ publishes (issue 16 §3): storage, publish, and the per-version specs.

Version 1 is the document the app ships (``desmig_desktop.domain.questionnaire.bundled``) and
has no row; every later version is a row of ``questionnaire_versions`` (migration 16), never
changed once published, since devices validate ops under it and the server validates each op
under the version it names (``PushOp.questionnaire_version``; absent = 1, so apps from before
versions keep working exactly as before).

``publish`` takes a whole document (a JSON file, or the one ``questionnaire_sheet`` built from an
XLSForm spreadsheet), numbers it ``current + 1``, and stores it only if ``compare`` with the
current version finds nothing but compatible changes; else ``PublishRefused`` lists each refused
change with its reason. One transaction: a refused or failed publish stores nothing.

``QuestionnaireSet`` hands the push applier the ``Questionnaire`` of a version: version 1 without
a database read; any other once per set (one indexed read of the digest), parsed once per process
per digest (``_PARSED``: a digest names immutable content, so it is valid across databases).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.questionnaire import (
    BUNDLED_VERSION,
    DocumentError,
    Questionnaire,
    bundled,
    bundled_document,
    document_digest,
    document_text,
    from_document,
)
from desmig_desktop.domain.questionnaire_compat import Change, compare, refused
from desmig_server.db import tables as t
from desmig_server.db.engine import Database

_PARSED: dict[str, Questionnaire] = {}  # digest -> its questionnaire (immutable content, any database)
MAX_PUBLISHED_BY = 64


class PublishError(Exception):
    """A document that cannot be published at all; ``problems``: one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if problems else "cannot publish")
        self.problems = tuple(problems)


class PublishRefused(Exception):
    """Changes that need an app release; ``changes``: the refused ones, each with its reason."""

    def __init__(self, changes: list[Change]) -> None:
        super().__init__(f"{len(changes)} change(s) need a new app release")
        self.changes = tuple(changes)


@dataclass(frozen=True)
class Version:
    version: int
    digest: str
    published_at: str | None  # None: version 1, shipped with the app
    published_by: str
    changes: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"version": self.version, "digest": self.digest, "published_at": self.published_at,
                "published_by": self.published_by, "changes": self.changes}


def _bundled_version() -> Version:
    return Version(BUNDLED_VERSION, document_digest(bundled_document()), None, "app", [])


def current_version(conn: Connection) -> int:
    """The newest published version (1 when HQ never published one)."""
    return int(conn.execute(select(func.max(t.questionnaire_versions.c.version))).scalar() or BUNDLED_VERSION)


def document(conn: Connection, version: int | None = None) -> tuple[int, str, dict[str, Any]] | None:
    """``(version, digest, document)`` of ``version`` (default: the current one); None if unknown."""
    version = current_version(conn) if version is None else version
    if version == BUNDLED_VERSION:
        doc = bundled_document()
        return version, document_digest(doc), doc
    row = conn.execute(select(t.questionnaire_versions.c.digest, t.questionnaire_versions.c.document).where(
        t.questionnaire_versions.c.version == version)).first()
    return None if row is None else (version, row.digest, json.loads(row.document))


def sources(conn: Connection, versions: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{version: (digest, document text)}`` of the published ``versions`` other than the bundled
    one (what a push's workers parse, ``sync.prepare``); an unknown version is left out."""
    wanted = sorted({v for v in versions if v != BUNDLED_VERSION})
    if not wanted:
        return {}
    q = t.questionnaire_versions.c
    rows = conn.execute(select(q.version, q.digest, q.document).where(q.version.in_(wanted)))
    return {int(r.version): (r.digest, r.document) for r in rows}


def history(db: Database) -> list[Version]:
    """Every version, oldest first (version 1 included)."""
    q = t.questionnaire_versions.c
    with db.read() as conn:
        rows = conn.execute(select(q.version, q.digest, q.published_at, q.published_by, q.changes)
                            .order_by(q.version)).all()
    return [_bundled_version()] + [Version(r.version, r.digest, r.published_at, r.published_by,
                                           json.loads(r.changes)) for r in rows]


class QuestionnaireSet:
    """The questionnaires of the versions ops name, for one transaction (see the module docstring)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._known: dict[int, Questionnaire | None] = {BUNDLED_VERSION: bundled()}
        self._current: int | None = None

    def get(self, version: int) -> Questionnaire | None:
        """The questionnaire of ``version``; None for a version this server never published."""
        if version in self._known:
            return self._known[version]
        q = t.questionnaire_versions.c
        digest = self._conn.execute(select(q.digest).where(q.version == version)).scalar()
        found = None
        if digest is not None:
            found = _PARSED.get(digest)
            if found is None:
                text = self._conn.execute(select(q.document).where(q.version == version)).scalar_one()
                found = _PARSED.setdefault(digest, from_document(json.loads(text)))
        self._known[version] = found
        return found

    def current(self) -> Questionnaire:
        """The newest version (what a resolver's edit on the review desk is validated under)."""
        if self._current is None:
            self._current = current_version(self._conn)
        found = self.get(self._current)
        assert found is not None
        return found


def change_json(c: Change) -> dict[str, Any]:
    return {"code": c.code, "entity": c.entity, "field": c.field, "compatible": c.compatible,
            "message_id": c.message_id, "message_en": c.message_en}


def publish(db: Database, doc: Any, *, by: str) -> tuple[Version, list[Change]]:
    """Store ``doc`` as the next version if every change from the current one is compatible.

    Raises:
        PublishError: the document breaks the format (each problem named), or changes nothing.
        PublishRefused: a change needs an app release (each with its reason in both languages).
    """
    if not isinstance(doc, dict):
        raise PublishError(["document: must be an object"])
    by = (by or "hq")[:MAX_PUBLISHED_BY]
    with db.write() as conn:
        number = current_version(conn) + 1
        doc = {**doc, "version": number}  # HQ does not number versions by hand
        try:
            new = from_document(doc)
        except DocumentError as exc:
            raise PublishError(list(exc.problems)) from None
        old = QuestionnaireSet(conn).current()
        changes = compare(old, new)
        if refused(changes):
            raise PublishRefused(refused(changes))
        if not changes:
            raise PublishError([f"nothing changed from version {number - 1}"])
        now, digest = utc_now(), document_digest(doc)
        conn.execute(insert(t.questionnaire_versions).values(
            version=number, digest=digest, document=document_text(doc),
            changes=json.dumps([change_json(c) for c in changes], ensure_ascii=False), published_at=now,
            published_by=by))
    return Version(number, digest, now, by, [change_json(c) for c in changes]), changes
