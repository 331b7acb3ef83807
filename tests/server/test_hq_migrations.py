"""Versioned migrations: the migrated schema is what the code queries, reruns are no-ops, and
several workers starting at once on an empty database migrate it exactly once."""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.db.migrations import LATEST, STEPS, current_version, migrate

from .conftest import empty_pg_schema


def test_migrated_schema_matches_the_table_definitions(db_url: str) -> None:
    db = Database(db_url)
    try:
        inspector = inspect(db.engine)
        for table in t.metadata.sorted_tables:
            reflected = {c["name"] for c in inspector.get_columns(table.name)}
            assert reflected == set(table.c.keys()), table.name
            # our named indexes, exactly (constraint-backed ones carry the dialect's own names);
            # step 8's NIK expression index is not declared in tables.py (checked below)
            with warnings.catch_warnings():  # SQLite's inspector skips expression indexes, with a warning
                warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
                indexes = {i["name"] for i in inspector.get_indexes(table.name)
                           if str(i["name"]).startswith("ix_") and i["name"] != "ix_records_member_nik"}
            assert indexes == {i.name for i in table.indexes}, table.name
        with db.read() as conn:  # the NIK expression index of step 8 (not in tables.py: see the step)
            listed = (text("SELECT indexname FROM pg_indexes WHERE tablename = 'records' "
                           "AND schemaname = current_schema()") if db.is_postgres
                      else text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"))
            assert {"ix_records_scope_seq", "ix_records_member_nik"} <= set(conn.execute(listed).scalars())
        assert migrate(db) == 0  # already at the latest version
        with db.read() as conn:
            assert current_version(conn) == LATEST
            levels = dict(conn.execute(select(t.regions.c.level, func.count()).group_by(t.regions.c.level)).all())
            assert levels == {1: 38, 2: 514, 3: 7285, 4: 83762}
            assert conn.execute(select(t.meta.c.value).where(t.meta.c.key == "regions_version")).scalar()
            assert conn.execute(select(t.seq_counter.c.value)).scalar_one() == 0
    finally:
        db.dispose()


def _migrate_concurrently(url: str, workers: int = 3) -> list[int]:
    applied: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        db = Database(url)
        try:
            applied.append(migrate(db))
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    return applied


def _check_once(url: str) -> None:
    db = Database(url)
    try:
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(t.schema_migrations)).scalar() == len(STEPS)
            assert conn.execute(select(func.count()).select_from(t.regions)).scalar() == 91_599
            assert conn.execute(select(func.count()).select_from(t.seq_counter)).scalar() == 1
    finally:
        db.dispose()


def test_concurrent_starters_migrate_an_empty_sqlite_db_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    # each step exactly once overall; which starter applies which step depends on the race (with
    # one transaction per step, every starter may well apply some: only the sum is an invariant)
    applied = _migrate_concurrently(url)
    assert sum(applied) == len(STEPS)
    _check_once(url)


@pytest.mark.postgres
def test_concurrent_starters_migrate_an_empty_postgres_schema_once() -> None:
    with empty_pg_schema(f"desmig_migration_test_{os.getpid()}") as url:  # private to this run
        applied = _migrate_concurrently(url)
        assert sum(applied) == len(STEPS)
        _check_once(url)


def test_upgrading_keeps_registered_devices_logged_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 3 (token expiry, audit) on a database with devices registered before it existed."""
    import time

    from desmig_server.auth.principal import authenticate
    from desmig_server.auth.tokens import token_hash
    from desmig_server.db import migrations

    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "STEPS", migrations.STEPS[:2])
            assert migrate(db) == 2
        assert "audit" not in inspect(db.engine).get_table_names()
        with db.write() as conn:
            conn.execute(text("INSERT INTO users (username, password_hash, role, created_at) "
                              "VALUES ('pusat', 'x', 'hq', '2025-01-01T00:00:00Z')"))
            conn.execute(text("INSERT INTO devices (device_id, username, device_name, token_hash, last_op_seq, "
                              "revoked, created_at) VALUES ('d1', 'pusat', 'laptop', :h, 7, 0, '2025-01-01')"),
                         {"h": token_hash("old-token")})
        assert migrate(db) == len(STEPS) - 2
        principal = authenticate(db, "old-token", time.time())
        assert principal.device_id == "d1" and principal.token_expires_at is not None
        assert principal.token_expires_at > time.time() + 80 * 24 * 3600
        names = inspect(db.engine).get_table_names()
        assert "audit" not in names  # replaced by step 4
        assert {c["name"] for c in inspect(db.engine).get_columns("record_history")} == set(
            t.record_history.c.keys())
    finally:
        db.dispose()


def _old_audit_row(field: str, old: str | None, new: str, *, op_seq: int | None, version: int,
                   outcome: str = "applied") -> dict[str, object]:
    return {"entity": "households", "record_id": "h1", "scope": "32.01.05.2003", "version": version,
            "username": "ofc", "device_id": "d1", "role": "officer", "op_seq": op_seq,
            "at": f"2026-01-0{version}T00:00:00Z", "field": field, "old_value": old, "new_value": new,
            "outcome": outcome}


def _step4_keeps_history(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from desmig_server.db import migrations

    db = Database(url)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "STEPS", migrations.STEPS[:3])
            assert migrate(db) == 3
        old = migrations._v3_audit()
        rows = [  # op 1 creates two fields; op 2 changes one and loses one; a resolution (no op_seq)
            _old_audit_row("head_name", None, '"Budi"', op_seq=1, version=1),
            _old_audit_row("rt", None, '"003"', op_seq=1, version=1),
            _old_audit_row("rt", '"003"', '"004"', op_seq=2, version=2),
            _old_audit_row("head_name", '"Budi"', '"Badu"', op_seq=2, version=2, outcome="conflict_lost"),
            _old_audit_row("head_name", '"Budi"', '"Badu"', op_seq=None, version=3),
        ]
        with db.write() as conn:
            conn.execute(old.insert(), rows)
        assert migrate(db) == len(STEPS) - 3
        with db.read() as conn:
            assert "audit" not in inspect(conn).get_table_names()
            got = conn.execute(select(t.record_history.c.op_seq, t.record_history.c.version,
                                      t.record_history.c.outcome, t.record_history.c.changes)
                               .order_by(t.record_history.c.id)).all()
        assert [(r.op_seq, r.version, r.outcome, json.loads(r.changes)) for r in got] == [
            (1, 1, "applied", {"head_name": [None, "Budi"], "rt": [None, "003"]}),
            (2, 2, "applied", {"rt": ["003", "004"]}),
            (2, 2, "conflict_lost", {"head_name": ["Budi", "Badu"]}),
            (None, 3, "applied", {"head_name": ["Budi", "Badu"]}),
        ]
    finally:
        db.dispose()


def test_step4_folds_the_per_field_audit_into_one_history_row_per_change_sqlite(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _step4_keeps_history(f"sqlite:///{tmp_path / 'old.db'}", monkeypatch)


@pytest.mark.postgres
def test_step4_folds_the_per_field_audit_into_one_history_row_per_change_postgres(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with empty_pg_schema("desmig_step4_test") as url:
        _step4_keeps_history(url, monkeypatch)


def _step5_turns_prev_scope_into_notices(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database from before step 5: h1 moved A → B → C (prev_scope keeps only B; its history
    says it was in A too), its member m1 moved with it, h2 never moved; a conflict about h1
    recorded while it was in A. Step 5 sends A and B one notice each per moved record, beyond
    every cursor, then re-stamps the moved records; the conflict follows h1 to C."""
    from desmig_server.db import migrations

    a, b, c = "32.01.01.1001", "32.01.01.1002", "33.02.01.2001"
    db = Database(url)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "STEPS", migrations.STEPS[:4])
            assert migrate(db) == 4
        with db.write() as conn:
            for entity, rid, scope, prev, parent, seq in (("households", "h1", c, b, None, 7),
                                                          ("members", "m1", c, b, "h1", 8),
                                                          ("households", "h2", a, None, None, 9)):
                conn.execute(text("INSERT INTO records (entity, id, scope, prev_scope, parent_id, data, fmeta,"
                                  " version, deleted, server_seq, created_at, updated_at) VALUES (:e, :i, :s, :p,"
                                  " :parent, '{}', '{}', :v, false, :v, 'x', 'x')"),
                             {"e": entity, "i": rid, "s": scope, "p": prev, "parent": parent, "v": seq})
            for rid, scope, version in (("h1", a, 1), ("m1", a, 2), ("h1", b, 5), ("h2", a, 9)):
                conn.execute(text("INSERT INTO record_history (entity, record_id, scope, version, username,"
                                  " device_id, role, op_seq, at, outcome, changes) VALUES (:e, :i, :s, :v, 'u',"
                                  " 'd', 'hq', 1, 'x', 'applied', '{}')"),
                             {"e": "members" if rid == "m1" else "households", "i": rid, "s": scope, "v": version})
            conn.execute(text("INSERT INTO conflicts (entity, record_id, scope, field, kind, version, status,"
                              " created_at) VALUES ('households', 'h1', :s, 'head_name', 'conflict', 3, 'open', 'x')"),
                         {"s": a})
            conn.execute(text("UPDATE seq_counter SET value = 9"))
        assert migrate(db) == len(STEPS) - 4
        with db.read() as conn:
            exits = conn.execute(text("SELECT scope, entity, record_id, server_seq FROM scope_exits"
                                      " ORDER BY server_seq")).all()
            recs = dict(conn.execute(text("SELECT id, server_seq FROM records")).all())
            versions = dict(conn.execute(text("SELECT id, version FROM records")).all())
            counter = conn.execute(text("SELECT value FROM seq_counter")).scalar_one()
            scopes = conn.execute(text("SELECT scope FROM conflicts")).scalars().all()
        assert sorted((s, e, i) for s, e, i, _seq in exits) == [
            (a, "households", "h1"), (a, "members", "m1"), (b, "households", "h1"), (b, "members", "m1")]
        assert sorted(seq for *_rest, seq in exits) == [10, 11, 12, 13]  # beyond every cursor
        assert (recs["h1"], recs["m1"], recs["h2"]) == (14, 15, 9) and versions == recs and counter == 15
        assert scopes == [c]
        assert "prev_scope" not in {col["name"] for col in inspect(db.engine).get_columns("records")}
    finally:
        db.dispose()


def _step6_keeps_users_and_devices(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 6 on a database with users and devices: nobody is disabled, nothing counts as pruned,
    and a registered device keeps working."""
    import time

    from desmig_server.auth.principal import authenticate
    from desmig_server.auth.tokens import token_hash
    from desmig_server.db import migrations

    db = Database(url)
    try:
        before = [s for s in migrations.STEPS if s.version < 6]
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "STEPS", tuple(before))
            assert migrate(db) == len(before)
        with db.write() as conn:
            conn.execute(text("INSERT INTO users (username, password_hash, role, created_at) "
                              "VALUES ('pusat', 'x', 'hq', '2025-01-01T00:00:00Z')"))
            conn.execute(text("INSERT INTO devices (device_id, username, device_name, token_hash, last_op_seq, "
                              "revoked, created_at, token_expires_at) VALUES ('d1', 'pusat', 'laptop', :h, 7, "
                              ":f, '2025-01-01', :exp)"), {"h": token_hash("tok"), "f": False, "exp": time.time() + 60})
        assert migrate(db) == len(STEPS) - len(before)
        with db.read() as conn:
            assert conn.execute(select(t.users.c.disabled)).scalar_one() is False
            assert conn.execute(select(t.devices.c.applied_pruned_through)).scalar_one() == 0
            assert conn.execute(select(func.count()).select_from(t.web_sessions)).scalar_one() == 0
        assert authenticate(db, "tok", time.time()).device_id == "d1"
    finally:
        db.dispose()


def test_step5_turns_prev_scope_into_notices_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _step5_turns_prev_scope_into_notices(f"sqlite:///{tmp_path / 'old.db'}", monkeypatch)


@pytest.mark.postgres
def test_step5_turns_prev_scope_into_notices_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    with empty_pg_schema("desmig_step5_test") as url:
        _step5_turns_prev_scope_into_notices(url, monkeypatch)


def test_step6_on_existing_users_and_devices_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _step6_keeps_users_and_devices(f"sqlite:///{tmp_path / 'old.db'}", monkeypatch)


@pytest.mark.postgres
def test_step6_on_existing_users_and_devices_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    with empty_pg_schema("desmig_step6_test") as url:
        _step6_keeps_users_and_devices(url, monkeypatch)


def test_every_entity_name_fits_every_entity_column(db_url: str) -> None:
    """Step 17: the programme's entity names (up to 22 characters) are stored wherever an entity
    is named — PostgreSQL refused them in VARCHAR(16) and the whole push failed."""
    from desmig_desktop.domain.fields import ENTITIES

    longest = max(ENTITIES, key=len)
    db = Database(db_url)
    try:
        with db.write() as conn:
            conn.execute(t.scope_exits.insert().values(scope="32.01.01.1001", server_seq=1, entity=longest,
                                                       record_id="r"))
            conn.execute(t.record_history.insert().values(
                entity=longest, record_id="r", scope="32.01.01.1001", version=1, username="u", device_id="d",
                role="hq", at="2024-05-01T00:00:00Z", outcome="applied", changes="{}"))
            conn.execute(t.conflicts.insert().values(entity=longest, record_id="r", scope="32.01.01.1001", field="*",
                                                     kind="conflict", version=1, status="open",
                                                     created_at="2024-05-01T00:00:00Z"))
            conn.execute(t.records.insert().values(
                entity=longest, id="r", scope="32.01.01.1001", data="{}", fmeta="{}", version=1, deleted=False,
                server_seq=1, created_at="2024-05-01T00:00:00Z", updated_at="2024-05-01T00:00:00Z"))
            if db.is_postgres:  # the declared widths, on the tables the steps created
                widths = conn.execute(text(
                    "SELECT table_name, character_maximum_length FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND column_name = 'entity'")).all()
                assert dict(widths) == dict.fromkeys(
                    ("records", "applied_ops", "conflicts", "record_history", "scope_exits"), 32)
    finally:
        db.dispose()
