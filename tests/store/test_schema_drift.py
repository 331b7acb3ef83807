"""Schema drift: a migrated database is what the live specs require, and an old database migrated
forward is the same database as a new one.

The migration steps are literal and frozen (``store/schema.py``); the field specs are live. They
meet only through a new step, and these tests say where they do not. What must match, and why:

(a) fresh database vs specs (``spec_drift``), per entity table: the common columns first, in their
    order, with their constraints; then exactly one column per field, no more, no fewer, of the
    type its kind stores, with the key its REF or village field references, deferred (a pulled
    page or an import may write a child before its parent). Not the order of the field columns:
    ``ALTER TABLE ADD COLUMN`` can only append, a spec's order is the form's (a new question may
    go anywhere in it), and the code reads every row by column name.
(b) old database migrated forward vs fresh (``schema_snapshot``): everything SQLite records of the
    schema — every ``sqlite_master`` entry (tables, indexes, triggers, the full-text table and its
    shadow tables), each table's columns in order (``table_xinfo``), foreign keys, indexes and
    their columns, the applied steps and ``user_version``. SQL text is compared with whitespace
    normalised only: a column added by ``ALTER TABLE`` is spliced into the stored CREATE text with
    other spacing than the same column written in a CREATE (releases m012..the freeze did that).

The old databases are genuine: ``tests/fixtures/old_databases/*.sql`` were made by the code of
older commits (``scripts/old_database_fixture.py``), synthetic records only.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from desmig_desktop.domain.fields import COMMON_COLUMNS, ENTITIES, EntitySpec, FieldSpec, Kind
from desmig_desktop.store import schema
from desmig_desktop.store.db import connect
from desmig_desktop.store.entity_columns import COMMON, Column, required_columns
from desmig_desktop.store.queries import HouseholdFilter, search_households
from desmig_desktop.store.schema import m001_initial, migrations

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "old_databases"
OLD = sorted(p.stem for p in FIXTURES.glob("*.sql"))


def _normal(sql: str | None) -> str | None:
    if sql is None:
        return None
    return re.sub(r"\s*([(),])\s*", r"\1", re.sub(r"\s+", " ", sql)).strip()


def _column_sql(column: Column) -> str:
    """The column as a step adds it (``ALTER TABLE … ADD COLUMN`` this)."""
    if column.references is None:
        return f"{column.name} {column.type}"
    table, key = column.references
    return f"{column.name} {column.type} REFERENCES {table}({key}) DEFERRABLE INITIALLY DEFERRED"


def _describe(column: Column) -> str:
    key = f" REFERENCES {column.references[0]}({column.references[1]})" if column.references else ""
    return (f"{column.type}{' NOT NULL' if column.not_null else ''}"
            f"{'' if column.default is None else ' DEFAULT ' + column.default}"
            f"{' PRIMARY KEY' if column.primary_key else ''}{key}")


def spec_drift(db: Database) -> list[str]:
    """What the entity tables lack or have beyond the live specs (empty: no drift), each problem
    naming the table and column, and for a missing column the step that would add it."""
    problems = []
    for name, spec in ENTITIES.items():
        rows = db.execute(f"PRAGMA table_info('{name}')").fetchall()
        if not rows:
            problems.append(f"{name}: no table")
            continue
        if [r[1] for r in rows[:len(COMMON)]] != list(COMMON_COLUMNS):
            problems.append(f"{name}: the common columns {COMMON_COLUMNS} are not its first ones")
        keys = {r[3]: (r[2], r[4]) for r in db.execute(f"PRAGMA foreign_key_list('{name}')")}
        have = {r[1]: Column(r[1], r[2], bool(r[3]), r[4], bool(r[5]), keys.get(r[1])) for r in rows}
        want = {c.name: c for c in required_columns(spec)}
        table_sql = _normal(db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                       [name]).fetchone()[0]) or ""
        for key, column in want.items():
            if key not in have:
                problems.append(f"{name}.{key}: missing; a new step must add it:"
                                f" ALTER TABLE {name} ADD COLUMN {_column_sql(column)}")
            elif have[key] != column:
                problems.append(f"{name}.{key}: is {_describe(have[key])}, the spec requires {_describe(column)}")
            elif column.references and not any(f"{c}{_normal(_column_sql(column))}" in table_sql for c in "(,"):
                problems.append(f"{name}.{key}: its reference is not DEFERRABLE INITIALLY DEFERRED")
        problems += [f"{name}.{key}: a column no field of the spec declares" for key in have.keys() - want.keys()]
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        columns = {r[1] for r in db.execute(f"PRAGMA table_info('{table}')")}
        if table not in ENTITIES and set(COMMON_COLUMNS) <= columns:
            problems.append(f"{table}: an entity table no spec declares")
    return sorted(problems)


def schema_snapshot(db: Database) -> dict[str, Any]:
    """Everything SQLite records of ``db``'s schema, comparable between two databases."""
    master = sorted((t, n, tbl, _normal(sql)) for t, n, tbl, sql in
                    db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall())
    tables = [n for t, n, _tbl, _sql in master if t == "table"]
    indexes = [n for t, n, _tbl, _sql in master if t == "index"]
    return {
        "sqlite_master": master,
        "columns": {t: db.execute(f"PRAGMA table_xinfo('{t}')").fetchall() for t in tables},
        "foreign_keys": {t: sorted(r[1:] for r in db.execute(f"PRAGMA foreign_key_list('{t}')")) for t in tables},
        "indexes": {t: sorted(r[1:] for r in db.execute(f"PRAGMA index_list('{t}')")) for t in tables},
        "index_columns": {i: db.execute(f"PRAGMA index_xinfo('{i}')").fetchall() for i in indexes},
        "applied": sorted(m.name for m in migrations.applied(db)),
        "user_version": db.execute("PRAGMA user_version").fetchone()[0],
    }


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Where two snapshots differ, one line per differing part (empty: the same schema)."""
    out = []
    for part in new:
        if isinstance(new[part], dict):
            for name in sorted(old[part].keys() | new[part].keys()):
                if old[part].get(name) != new[part].get(name):
                    out.append(f"{part}[{name}]: old {old[part].get(name)} != new {new[part].get(name)}")
        elif part == "sqlite_master":
            out += [f"only in the old database: {e}" for e in sorted(set(old[part]) - set(new[part]))]
            out += [f"only in a new database: {e}" for e in sorted(set(new[part]) - set(old[part]))]
        elif old[part] != new[part]:
            out.append(f"{part}: old {old[part]} != new {new[part]}")
    return out


def old_database(tmp_path: Path, name: str) -> Database:
    """The fixture ``name`` restored as the file an older release left, then opened (and migrated) by this one."""
    path = tmp_path / f"{name}.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / f"{name}.sql").read_text(encoding="utf-8"))
    conn.close()
    return connect(path)


def fresh_database(tmp_path: Path) -> Database:
    """A database created from nothing by the migrations as they are now (monkeypatched or not)."""
    return connect(tmp_path / "fresh.db")


# --- the live schema ------------------------------------------------------------------------------

def test_the_common_columns_are_the_domains() -> None:
    assert tuple(c.name for c in COMMON) == COMMON_COLUMNS


def test_a_fresh_database_is_what_the_specs_require(db: Database) -> None:
    assert spec_drift(db) == []


def test_no_step_reads_the_live_specs() -> None:
    """A step that builds from the specs creates, on a new database, what an old one only gets from a
    later step (the trap m001 was). The controls below catch that once a spec changes; this, at once."""
    tree = ast.parse(Path(schema.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert not {m for m in imported if m and m.endswith((".fields", ".entity_columns"))}, imported


def test_the_fixtures_are_the_releases_they_stand_for() -> None:
    assert OLD == ["before_freeze_m012", "before_m012_m007", "early_m002"]
    for name in OLD:
        head = (FIXTURES / f"{name}.sql").read_text(encoding="utf-8").splitlines()[0]
        found = re.search(r"\(migrations: (\[.*\])\)", head)
        assert found, head
        assert json.loads(found[1])[-1].startswith(name.rsplit("_", 1)[1] + "_")  # its last step, as named


@pytest.mark.parametrize("name", OLD)
def test_an_old_database_migrated_forward_is_a_fresh_one(tmp_path: Path, db: Database, name: str) -> None:
    old = old_database(tmp_path, name)
    assert differences(schema_snapshot(old), schema_snapshot(db)) == []
    assert spec_drift(old) == []
    assert old.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert old.execute("PRAGMA foreign_key_check").fetchall() == []
    # and its records came through: the households, the member's NIK, the search index
    assert old.execute("SELECT id, deleted FROM households ORDER BY id").fetchall() == [("h-old-1", 0), ("h-old-2", 1)]
    assert old.execute("SELECT nik FROM members").fetchall() == [("3201054512900001",)]
    assert [r["head_name"] for r in search_households(old, HouseholdFilter(text="contoh"))] == ["Warga Contoh"]


def test_m012_on_a_database_whose_first_step_made_its_columns(tmp_path: Path, db: Database) -> None:
    """Releases from m012 until the freeze made m012's columns in m001 (from the live specs). Each
    step is its own transaction, so a stop between m001's commit and m012's leaves the columns with
    m012 pending: m012 must then add nothing (an unconditional ADD COLUMN would fail at every start)."""
    path = tmp_path / "stopped.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "before_freeze_m012.sql").read_text(encoding="utf-8"))
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm012_location_fix_and_interview_times'")
    conn.commit()
    conn.close()
    old = connect(path)
    assert "m012_location_fix_and_interview_times" in {m.name for m in migrations.applied(old)}
    assert differences(schema_snapshot(old), schema_snapshot(db)) == []


# --- controls: what the drift test must catch -----------------------------------------------------

TRAINING = FieldSpec("training", "Pelatihan yang pernah diikuti", "Training attended", Kind.TEXT)
NO_TRAINING_COLUMN = ("households.training: missing; a new step must add it:"
                      " ALTER TABLE households ADD COLUMN training TEXT")


def _with_field(monkeypatch: pytest.MonkeyPatch, entity: str, field: FieldSpec) -> None:
    """The live spec of ``entity`` with one more field (a new EntitySpec: specs are frozen)."""
    spec = ENTITIES[entity]
    monkeypatch.setitem(ENTITIES, entity, EntitySpec(spec.name, spec.label_id, spec.label_en, (*spec.fields, field),
                                                     parent_key=spec.parent_key, relevant=spec.relevant))


def _with_steps(monkeypatch: pytest.MonkeyPatch, *steps: Callable[[Database], None],
                replacing: dict[str, Callable[[Database], None]] | None = None) -> None:
    """The migrations with ``replacing``'s steps edited in place and ``steps`` appended."""
    edited = [Migrations._Migration(m.name, (replacing or {}).get(m.name, m.fn)) for m in migrations._migrations]
    monkeypatch.setattr(migrations, "_migrations", [*edited, *(Migrations._Migration(s.__name__, s) for s in steps)])


def m099_training(db: Database) -> None:
    db.execute("ALTER TABLE households ADD COLUMN training TEXT")


def test_a_new_question_is_a_spec_entry_plus_a_new_step(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The path ``domain/fields.py`` describes: no drift, old and new alike. (With m001 built from
    the live specs, the fresh database failed here: duplicate column name: training.)"""
    _with_field(monkeypatch, "households", TRAINING)
    _with_steps(monkeypatch, m099_training)
    fresh = fresh_database(tmp_path)
    old = old_database(tmp_path, "before_m012_m007")
    assert spec_drift(fresh) == spec_drift(old) == []
    assert differences(schema_snapshot(old), schema_snapshot(fresh)) == []


def m099_notes(db: Database) -> None:
    db.execute("ALTER TABLE households ADD COLUMN notes TEXT")


def m099_altitude_text(db: Database) -> None:
    db.execute("ALTER TABLE households ADD COLUMN altitude TEXT")


def m099_employer_unreferenced(db: Database) -> None:
    db.execute("ALTER TABLE placements ADD COLUMN employer_id TEXT")


def m099_employer_not_deferred(db: Database) -> None:
    db.execute("ALTER TABLE placements ADD COLUMN employer_id TEXT REFERENCES businesses(id)")


EMPLOYER = FieldSpec("employer_id", "Usaha pemberi kerja", "Employer", Kind.REF, ref_entity="businesses")


@pytest.mark.parametrize(("entity", "field", "step", "problem"), [
    pytest.param("households", TRAINING, None, NO_TRAINING_COLUMN, id="spec-field-without-a-step"),
    pytest.param("households", None, m099_training, "households.training: a column no field of the spec declares",
                 id="step-without-a-spec-field"),
    pytest.param("households", FieldSpec("altitude", "Ketinggian", "Altitude", Kind.FLOAT), m099_altitude_text,
                 "households.altitude: is TEXT, the spec requires REAL", id="step-with-the-wrong-type"),
    pytest.param("placements", EMPLOYER, m099_employer_unreferenced,
                 "placements.employer_id: is TEXT, the spec requires TEXT REFERENCES businesses(id)",
                 id="reference-left-out"),
    pytest.param("placements", EMPLOYER, m099_employer_not_deferred,
                 "placements.employer_id: its reference is not DEFERRABLE INITIALLY DEFERRED", id="reference-not-deferred"),
])
def test_a_spec_and_its_steps_that_disagree_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       template_db: Path, entity: str, field: FieldSpec | None,
                                                       step: Callable[[Database], None] | None, problem: str) -> None:
    if field is not None:
        _with_field(monkeypatch, entity, field)
    _with_steps(monkeypatch, *([step] if step else []))
    shutil.copy(template_db, tmp_path / "fresh.db")  # the released steps, then the control's own
    assert spec_drift(fresh_database(tmp_path)) == [problem]
    assert spec_drift(old_database(tmp_path, "before_m012_m007")) == [problem]


def test_a_step_adding_a_column_the_first_step_has_fails_on_every_database(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    _with_steps(monkeypatch, m099_notes)
    with pytest.raises(sqlite3.OperationalError, match="duplicate column name: notes"):
        fresh_database(tmp_path)
    with pytest.raises(sqlite3.OperationalError, match="duplicate column name: notes"):
        old_database(tmp_path, "before_m012_m007")


def _m001_from_the_live_specs(db: Database) -> None:
    """The trap this file guards against: the first step making the entity tables the specs hold today."""
    m001_initial(db)
    for name in ("households", "members", "placements", "businesses"):
        have = {c.name for c in db[name].columns}
        for column in required_columns(ENTITIES[name]):
            if column.name not in have:
                db.execute(f"ALTER TABLE {name} ADD COLUMN {_column_sql(column)}")


def test_a_first_step_built_from_the_live_specs_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _with_field(monkeypatch, "households", TRAINING)
    _with_steps(monkeypatch, replacing={"m001_initial": _m001_from_the_live_specs})
    fresh = fresh_database(tmp_path)
    old = old_database(tmp_path, "before_m012_m007")
    assert spec_drift(fresh) == []  # a new database looks right ...
    assert spec_drift(old) == [NO_TRAINING_COLUMN]  # ... an old one is not
    found = differences(schema_snapshot(old), schema_snapshot(fresh))
    assert [line.split(":")[0] for line in found] == ["only in the old database", "only in a new database",
                                                      "columns[households]"]
    # and the step that would fix the old one breaks the new one
    _with_steps(monkeypatch, m099_training)
    with pytest.raises(sqlite3.OperationalError, match="duplicate column name: training"):
        connect(tmp_path / "fresh.db")
