"""The one place that knows how SQLite and PostgreSQL look inside a JSON text column.

Keys are inlined as SQL literals, not bound: PostgreSQL only accepts a GROUP BY on such an
expression when it is textually identical to the SELECT one, which two bind parameters are not.
Keys come from the questionnaire, never from a request; ``_key`` enforces that shape.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, false, func, literal_column
from sqlalchemy.dialects.postgresql import JSONB

_KEY_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def _key(key: str) -> str:
    if not _KEY_RE.match(key):
        raise ValueError(f"not a questionnaire field key: {key!r}")
    return key


def json_text(dialect: str, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
    """The value of top-level ``key`` as SQL text (strings unquoted), NULL when absent."""
    if dialect == "postgresql":
        return func.jsonb_extract_path_text(cast(column, JSONB), literal_column(f"'{_key(key)}'"))
    return cast(func.json_extract(column, literal_column(f"'$.{_key(key)}'")), String)


def json_true(dialect: str, column: ColumnElement[Any], key: str) -> ColumnElement[bool]:
    """True where top-level ``key`` is the JSON literal ``true``."""
    if dialect == "postgresql":
        return json_text(dialect, column, key) == "true"
    return func.json_type(column, literal_column(f"'$.{_key(key)}'")) == "true"


def member_nik(dialect: str, records: Any) -> ColumnElement[Any]:
    """A member record's NIK as text: the expression the partial index ``ix_records_member_nik``
    (migration 8) is built on, so a query that also says :func:`live_members` can use it."""
    return json_text(dialect, records.c.data, "nik")


def live_members(records: Any, *, by_nik_on: str | None = None) -> ColumnElement[bool]:
    """``entity = 'members' AND deleted = false`` with both values inlined: the partial index's
    condition, which SQLite matches only against literals, never against bound parameters.

    ``by_nik_on="sqlite"`` marks a query that looks members up by NIK: SQLite is told (with
    ``likelihood``, which it strips before matching the partial index) that most records are
    members, else without ``ANALYZE`` statistics it rates ``entity = 'members'`` on
    ``ix_records_entity_scope`` as selective as the NIK and reads every member.
    """
    is_member: ColumnElement[bool] = records.c.entity == literal_column("'members'")
    if by_nik_on == "sqlite":
        is_member = func.likelihood(is_member, literal_column("0.9"))  # untyped: rendered bare, never "= 1"
    return and_(is_member, records.c.deleted == false())
