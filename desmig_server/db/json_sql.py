"""The one place that knows how SQLite and PostgreSQL look inside a JSON text column."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, literal, type_coerce
from sqlalchemy.dialects.postgresql import JSONB


def json_text(dialect: str, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
    """The value of top-level ``key`` as SQL text (strings unquoted), NULL when absent."""
    if dialect == "postgresql":
        return type_coerce(cast(column, JSONB), JSONB)[key].astext
    return cast(func.json_extract(column, literal(f"$.{key}")), String)


def json_true(dialect: str, column: ColumnElement[Any], key: str) -> ColumnElement[bool]:
    """True where top-level ``key`` is the JSON literal ``true``."""
    if dialect == "postgresql":
        return json_text(dialect, column, key) == "true"
    return func.json_type(column, literal(f"$.{key}")) == "true"
