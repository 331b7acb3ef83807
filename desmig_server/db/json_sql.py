"""The one place that knows how SQLite and PostgreSQL look inside a JSON text column.

Keys are inlined as SQL literals, not bound: PostgreSQL only accepts a GROUP BY on such an
expression when it is textually identical to the SELECT one, which two bind parameters are not.
Keys come from the questionnaire, never from a request; ``_key`` enforces that shape.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, literal_column
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
