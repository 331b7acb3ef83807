"""The columns the live field specs require of each entity's table.

Never read by a migration: a released step writes its tables and columns out literally
(``store/schema.py``), so what it creates does not change when a spec does. This module says what
the specs want *now*; the drift test (``tests/store/test_schema_drift.py``) checks that a migrated
database holds exactly that, old or new, and names the column a new question still lacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from desmig_desktop.domain.fields import EntitySpec, FieldSpec, Kind

_SQL_TYPE = {Kind.INT: "INTEGER", Kind.MONEY: "INTEGER", Kind.BOOL: "INTEGER", Kind.FLOAT: "REAL"}


@dataclass(frozen=True)
class Column:
    """One column as SQLite reports it (``PRAGMA table_info``), plus the key it references."""

    name: str
    type: str
    not_null: bool = False
    default: str | None = None  # the default's SQL text, as table_info gives it
    primary_key: bool = False
    references: tuple[str, str] | None = None  # (table, column); always DEFERRABLE INITIALLY DEFERRED


# Every entity table starts with these, in this order (named in domain.fields.COMMON_COLUMNS; a test
# checks the two agree).
COMMON = (
    Column("id", "TEXT", not_null=True, primary_key=True),
    Column("deleted", "INTEGER", not_null=True, default="0"),
    Column("server_version", "INTEGER", not_null=True, default="0"),
    Column("created_at", "TEXT", not_null=True),
    Column("updated_at", "TEXT", not_null=True),
    Column("extra", "TEXT"),
)


def column_type(kind: Kind) -> str:
    return _SQL_TYPE.get(kind, "TEXT")


def references(spec: FieldSpec) -> tuple[str, str] | None:
    """The ``(table, column)`` a field's column references, from the spec: a ``REF`` field its
    ``ref_entity``'s id, a village code the regions table."""
    if spec.kind is Kind.REF and spec.ref_entity:
        return spec.ref_entity, "id"
    if spec.kind is Kind.REGION:
        return "regions", "code"
    return None


def required_columns(spec: EntitySpec) -> tuple[Column, ...]:
    """The columns ``spec``'s table must have: the common ones, then one per field."""
    return COMMON + tuple(Column(f.key, column_type(f.kind), references=references(f)) for f in spec.fields)
