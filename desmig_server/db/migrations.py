"""Versioned schema migrations: an ordered list of steps, each applied once in its own transaction.

Why our own steps rather than Alembic: the schema is a dozen Core tables, one step loads
91,600 reference rows, and the whole history must run identically on SQLite and PostgreSQL
inside tests and at ``serve`` start-up. A 100-line runner does that with no extra dependency
(Alembic brings Mako and an ``env.py``/``alembic.ini`` layout whose value — autogenerate,
branches — we would not use).

Rules: never edit a released step; add a new one. Steps that create tables take the definition
from ``tables.py`` only while no later step has altered that table; once one does, the creating
step gets a frozen copy of the definition it created (step 1 keeps v1 ``devices`` in
``_v1_metadata`` because step 3 added columns, and v1 ``records`` and ``conflicts`` because step 5
changed them; step 3's ``audit``, replaced by step 4, is frozen in ``_v3_audit``). The drift
test, which migrates a fresh DB and compares it with ``tables.metadata``, fails until you do.
Concurrent starters (several workers) serialise on a PostgreSQL advisory lock or SQLite's
``BEGIN IMMEDIATE`` and re-check the applied version inside the lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    insert,
    select,
    text,
    update,
)

from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.reference import REGIONS_CSV, iter_regions
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_server.settings import Settings

log = logging.getLogger(__name__)

_ADVISORY_LOCK_KEY = 0x6465736D6967  # "desmig"
_REGION_BATCH = 5_000


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    apply: Callable[[Connection], None]


_V1_TABLES = ("meta", "regions", "users", "user_scopes", "login_attempts", "devices", "records", "applied_ops",
              "conflicts", "seq_counter")


def _v1_metadata() -> MetaData:
    """The schema step 1 created: frozen copies of tables later steps altered, the rest from ``tables``."""
    v1 = MetaData()
    Table(  # altered by step 6
        "users", v1,
        Column("username", String(64), primary_key=True),
        Column("password_hash", String(255), nullable=False),
        Column("role", String(16), nullable=False),
        Column("regency", String(5)),
        Column("created_at", String(32), nullable=False),
    )
    Table(  # altered by steps 3 and 6
        "devices", v1,
        Column("device_id", String(36), primary_key=True),
        Column("username", String(64), ForeignKey("users.username"), nullable=False),
        Column("device_name", String(100), nullable=False),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("last_op_seq", BigInteger, nullable=False, default=0),
        Column("revoked", Boolean, nullable=False, default=False),
        Column("created_at", String(32), nullable=False),
        Column("last_seen", String(32)),
    )
    Table(  # altered by steps 5 (prev_scope and its index dropped) and 9 (updated_by)
        "records", v1,
        Column("entity", String(16), nullable=False),
        Column("id", String(64), nullable=False),
        Column("scope", String(13), nullable=False),
        Column("prev_scope", String(13)),
        Column("parent_id", String(64)),
        Column("data", Text, nullable=False),
        Column("fmeta", Text, nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("deleted", Boolean, nullable=False, default=False),
        Column("server_seq", BigInteger, nullable=False, unique=True),
        Column("created_at", String(32), nullable=False),
        Column("updated_at", String(32), nullable=False),
        PrimaryKeyConstraint("entity", "id"),
        Index("ix_records_scope_seq", "scope", "server_seq"),
        Index("ix_records_prev_scope_seq", "prev_scope", "server_seq"),
        Index("ix_records_parent", "parent_id"),
        Index("ix_records_entity_scope", "entity", "scope"),
    )
    Table(  # altered by step 17 (entity VARCHAR(32))
        "applied_ops", v1,
        Column("device_id", String(36), ForeignKey("devices.device_id"), nullable=False),
        Column("op_seq", BigInteger, nullable=False),
        Column("op_hash", String(64), nullable=False),
        Column("entity", String(16), nullable=False),
        Column("record_id", String(64), nullable=False),
        Column("kind", String(8), nullable=False),
        Column("result", String(16), nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("reason", Text),
        Column("clashes", Text),
        Column("captured_at", String(40)),
        Column("applied_at", String(32), nullable=False),
        PrimaryKeyConstraint("device_id", "op_seq"),
    )
    Table(  # altered by steps 5 (index ix_conflicts_record) and 7 (loser_op_seq)
        "conflicts", v1,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("entity", String(16), nullable=False),
        Column("record_id", String(64), nullable=False),
        Column("scope", String(13), nullable=False),
        Column("field", String(64), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("winning_value", Text),
        Column("losing_value", Text),
        Column("winner_device", String(36)),
        Column("winner_user", String(64)),
        Column("winner_role", String(16)),
        Column("loser_device", String(36)),
        Column("loser_user", String(64)),
        Column("loser_role", String(16)),
        Column("version", BigInteger, nullable=False),
        Column("status", String(16), nullable=False, default="open"),
        Column("created_at", String(32), nullable=False),
        Column("resolved_at", String(32)),
        Column("resolved_by", String(64)),
        Column("resolution", String(16)),
        Index("ix_conflicts_scope_status", "scope", "status"),
    )
    for name in _V1_TABLES:
        if name not in v1.tables:
            t.metadata.tables[name].to_metadata(v1)
    return v1


def _create_tables(conn: Connection) -> None:
    _v1_metadata().create_all(conn)
    conn.execute(insert(t.seq_counter).values(id=1, value=0))


def _load_regions(conn: Connection) -> None:
    """Kemendagri regions, for village existence checks, scopes and report names."""
    conn.execute(t.regions.delete())
    batch: list[dict[str, object]] = []
    for region in iter_regions():
        batch.append({"code": region.code, "name": region.name, "level": region.level,
                      "parent_code": region.parent_code, "kind": region.kind})
        if len(batch) >= _REGION_BATCH:
            conn.execute(insert(t.regions), batch)
            batch = []
    if batch:
        conn.execute(insert(t.regions), batch)
    digest = hashlib.sha256(REGIONS_CSV.read_bytes()).hexdigest()[:16]
    conn.execute(t.meta.delete().where(t.meta.c.key == "regions_version"))
    conn.execute(insert(t.meta).values(key="regions_version", value=digest))


def _add_column(conn: Connection, table: Table, name: str) -> None:
    column = table.c[name]
    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {column.type.compile(conn.dialect)}"))


def _token_expiry_and_audit(conn: Connection) -> None:
    """Device tokens expire and rotate; the append-only field history ``audit``.

    Devices registered before this step get the default lifetime counted from the upgrade, so
    an upgrade never logs anyone out.
    """
    for name in ("token_expires_at", "prev_token_hash", "prev_token_valid_until"):
        _add_column(conn, t.devices, name)
    for index in t.devices.indexes:
        if index.name == "ix_devices_prev_token_hash":
            index.create(conn)
    conn.execute(update(t.devices).values(token_expires_at=time.time() + Settings().token_ttl_s))
    _v3_audit().create(conn)


def _v3_audit() -> Table:
    """The field history as step 3 created it: one row per changed field (replaced by step 4)."""
    return Table(
        "audit", MetaData(),
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("entity", String(16), nullable=False),
        Column("record_id", String(64), nullable=False),
        Column("scope", String(13), nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("username", String(64), nullable=False),
        Column("device_id", String(36), nullable=False),
        Column("role", String(16), nullable=False),
        Column("op_seq", BigInteger),
        Column("at", String(32), nullable=False),
        Column("field", String(64), nullable=False),
        Column("old_value", Text),
        Column("new_value", Text),
        Column("outcome", String(16), nullable=False),
        Index("ix_audit_record", "entity", "record_id", "id"),
    )


_HISTORY_BATCH = 5_000
_HISTORY_GROUP = ("entity", "record_id", "scope", "version", "username", "device_id", "role", "op_seq", "at",
                  "outcome")


def _v4_record_history() -> Table:
    """``record_history`` as step 4 created it (step 17 widened ``entity``)."""
    return Table(
        "record_history", MetaData(),
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("entity", String(16), nullable=False),
        Column("record_id", String(64), nullable=False),
        Column("scope", String(13), nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("username", String(64), nullable=False),
        Column("device_id", String(36), nullable=False),
        Column("role", String(16), nullable=False),
        Column("op_seq", BigInteger),
        Column("at", String(32), nullable=False),
        Column("outcome", String(16), nullable=False),
        Column("changes", Text, nullable=False),
        Index("ix_record_history_record", "entity", "record_id", "id"),
    )


def _history_per_change(conn: Connection) -> None:
    """Replace the per-field ``audit`` rows by ``record_history``: one row per op and record, its
    changed fields in one JSON object. The consecutive rows one op wrote for one record (same
    version, author, time and outcome) become one row, in their original order."""
    _v4_record_history().create(conn)
    old = _v3_audit()
    group: dict[str, object] | None = None
    fields: dict[str, list[object]] = {}
    batch: list[dict[str, object]] = []

    def close() -> None:
        if group is not None:
            batch.append({**group, "changes": json.dumps(fields, ensure_ascii=False, sort_keys=True)})

    # streamed (a server-side cursor on PostgreSQL), so a large history is never held in memory
    for row in conn.execute(select(old).order_by(old.c.id).execution_options(yield_per=_HISTORY_BATCH)).mappings():
        key = {k: row[k] for k in _HISTORY_GROUP}
        if key != group:
            close()
            group, fields = key, {}
            if len(batch) >= _HISTORY_BATCH:
                conn.execute(insert(t.record_history), batch)
                batch = []
        fields[row["field"]] = [None if row["old_value"] is None else json.loads(row["old_value"]),
                                None if row["new_value"] is None else json.loads(row["new_value"])]
    close()
    if batch:
        conn.execute(insert(t.record_history), batch)
    old.drop(conn)


def _v5_scope_exits() -> Table:
    """``scope_exits`` as step 5 created it."""
    return Table(
        "scope_exits", MetaData(),
        Column("scope", String(13), nullable=False),
        Column("server_seq", BigInteger, nullable=False),
        Column("entity", String(16), nullable=False),
        Column("record_id", String(64), nullable=False),
        PrimaryKeyConstraint("scope", "server_seq"),
    )


# Every scope a record was ever in besides its current one: where its history was written, and
# the ``prev_scope`` steps 1-4 kept (only the last one). Devices of those scopes may hold it.
_PAST_SCOPES = text(
    "SELECT h.entity, h.record_id, h.scope FROM record_history h JOIN records r"
    " ON r.entity = h.entity AND r.id = h.record_id WHERE h.scope <> r.scope"
    " UNION SELECT entity, id, prev_scope FROM records WHERE prev_scope IS NOT NULL AND prev_scope <> scope")


def _scope_exits(conn: Connection) -> None:
    """Move-out notices replace ``records.prev_scope`` (issue 13 §1).

    Until now a moved record kept ``prev_scope`` forever and every later change of it went to
    its old scope too. Its old scopes' devices may still hold a copy (even one with the new
    village, delivered through that leak), so each old scope gets a notice now, with a fresh
    number beyond every cursor; and the record itself gets a fresh version after its notices,
    so a device that syncs both scopes and drops the copy on the notice gets it back from the
    current scope (a device drops a copy older than the notice only). Conflicts follow their
    record's current village.
    """
    exits = _v5_scope_exits()
    exits.create(conn)
    past = sorted({(str(e), str(i), str(s)) for e, i, s in conn.execute(_PAST_SCOPES)})
    if past:
        moved = sorted({(e, i) for e, i, _s in past})
        # the row lock every writer takes first (``sync.seq``): numbers stay in commit order
        top = int(conn.execute(update(t.seq_counter).where(t.seq_counter.c.id == 1).values(
            value=t.seq_counter.c.value + len(past) + len(moved)).returning(t.seq_counter.c.value)).scalar_one())
        first = top - len(past) - len(moved) + 1
        conn.execute(insert(exits), [{"scope": s, "server_seq": first + n, "entity": e, "record_id": i}
                                     for n, (e, i, s) in enumerate(past)])
        now = utc_now()
        r = t.records.c
        for n, (entity, record_id) in enumerate(moved, start=first + len(past)):
            conn.execute(update(t.records).where(r.entity == entity, r.id == record_id).values(
                version=n, server_seq=n, updated_at=now))
    conn.execute(text(
        "UPDATE conflicts SET scope = (SELECT r.scope FROM records r WHERE r.entity = conflicts.entity"
        " AND r.id = conflicts.record_id) WHERE EXISTS (SELECT 1 FROM records r WHERE r.entity = conflicts.entity"
        " AND r.id = conflicts.record_id AND r.scope <> conflicts.scope)"))
    conn.execute(text("CREATE INDEX ix_conflicts_record ON conflicts (entity, record_id)"))
    conn.execute(text("DROP INDEX ix_records_prev_scope_seq"))
    conn.execute(text("ALTER TABLE records DROP COLUMN prev_scope"))


def _add_flag(conn: Connection, table: Table, name: str, default: str) -> None:
    """A NOT NULL column with a constant default, so existing rows get it (``default`` is SQL)."""
    column = table.c[name]
    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {column.type.compile(conn.dialect)}"
                      f" NOT NULL DEFAULT {default}"))


def _user_admin_and_retention(conn: Connection) -> None:
    """Users can be disabled; dashboard sessions are rows, so logging out kills a copied cookie;
    devices remember up to which op their ``applied_ops`` rows were pruned (``sync/retention``)."""
    _add_flag(conn, t.users, "disabled", "FALSE" if conn.dialect.name == "postgresql" else "0")
    _add_flag(conn, t.devices, "applied_pruned_through", "0")
    t.web_sessions.create(conn)


def _lost_values_feed(conn: Connection) -> None:
    """Each device learns the values it lost (``sync/lost``): the op that lost on arrival, and an
    index serving hello's newest lost conflict and the per-device feed. Older rows keep a NULL op."""
    _add_column(conn, t.conflicts, "loser_op_seq")
    for index in t.conflicts.indexes:
        if index.name == "ix_conflicts_loser_device":
            index.create(conn)


def _index_member_nik(conn: Connection) -> None:
    """An index on the NIK inside live member records, for the HQ duplicates list (issue 14 §4).

    Partial (live members only: other entities have no NIK), on exactly the expression
    ``json_sql.member_nik`` compiles to, with ``parent_id`` (the household) second. The DDL is
    written out, not built from ``json_sql``, so this step stays what it was if that code changes
    (``test_hq_duplicates`` checks the queries still use the index). The index is not declared in
    ``tables.py``: step 1 creates the tables declared there. PostgreSQL ignores the statistics of a
    partial index's expression, and without any it guesses that a NIK matches 0.5 % of the rows
    (then reads every member for a few hundred NIKs), hence the expression statistics.
    """
    if conn.dialect.name == "postgresql":
        nik = "jsonb_extract_path_text(CAST(data AS JSONB), 'nik')"
        conn.execute(text(f"CREATE INDEX ix_records_member_nik ON records ({nik}, parent_id) "
                          "WHERE entity = 'members' AND deleted = false"))
        conn.execute(text(f"CREATE STATISTICS st_records_member_nik ON ({nik}) FROM records"))
        conn.execute(text("ANALYZE records"))
    else:
        conn.execute(text("CREATE INDEX ix_records_member_nik ON records "
                          "(CAST(json_extract(data, '$.nik') AS VARCHAR), parent_id) "
                          "WHERE entity = 'members' AND deleted = 0"))


def _record_author(conn: Connection) -> None:
    """Who last changed each record (issue 20 §14): pulled records carry the username, so a
    laptop's history names the author of a change it pulled instead of "(tanpa nama)". Records
    written before this step keep NULL until their next change (their history is on the server)."""
    _add_column(conn, t.records, "updated_by")


def _releases(conn: Connection) -> None:
    """Signed app releases and their packages in chunks (issue 17 §2, ``desmig_server.releases``)."""
    t.releases.create(conn)
    t.release_chunks.create(conn)


def _admin_log(conn: Connection) -> None:
    """The review desk's log of user administration and conflict resolutions ."""
    t.admin_log.create(conn)


def _device_lineage(conn: Connection) -> None:
    """Devices name the laptop database they register (``auth.lineage``): a new
    registration of the same database continues its op numbering and ends the previous one, so
    no op is applied twice under two device ids. Older devices keep NULL until a laptop adopts
    them at its next login."""
    _add_column(conn, t.devices, "lineage")
    _add_flag(conn, t.devices, "lineage_base", "0")
    for index in t.devices.indexes:
        if index.name == "ix_devices_lineage":
            index.create(conn)


def _report_aggregates(conn: Connection) -> None:
    """Per-area report aggregates kept from the change feed (``desmig_server.aggregates``),
    built here for the data already stored, and the index their feed reads on ``scope_exits``.

    The aggregates are derived data: building them with the code of the day is right whenever this
    runs (a later change of what is counted rebuilds them in its own step, or ``aggregates rebuild``).
    """
    from desmig_server.aggregates.maintain import catch_up_in

    t.area_figures.create(conn)
    t.area_values.create(conn)
    t.aggregate_state.create(conn)
    for index in t.scope_exits.indexes:
        if index.name == "ix_scope_exits_seq":
            index.create(conn)
    catch_up_in(conn)


def _record_echo(conn: Connection) -> None:
    """Which device's acknowledged op made each record's current version: a pull
    leaves a device's own acknowledged changes out. Existing records keep NULL (sent as before).
    And the numbered feed of conflict resolutions: a loser's laptop closes the
    conflict in its inbox; conflicts resolved before this step keep NULL (their laptops learnt
    the status when the conflict reached them, or not at all — as before)."""
    _add_column(conn, t.records, "echo_device")
    _add_column(conn, t.records, "echo_op")
    _add_column(conn, t.conflicts, "resolved_seq")
    for index in t.conflicts.indexes:
        if index.name == "ix_conflicts_resolved_seq":
            index.create(conn)


def _member_niks(conn: Connection) -> None:
    """``member_niks`` (``desmig_server.aggregates.niks``), filled from the records stored: HQ's
    duplicate list scans its NIK index instead of every member's JSON. Derived data, like the
    aggregates of step 13: filled with the code of the day (``aggregates rebuild`` refills it)."""
    from desmig_server.aggregates.niks import refresh_niks

    t.member_niks.create(conn)
    refresh_niks(conn, None)


def _questionnaire_versions(conn: Connection) -> None:
    """The questionnaire versions HQ publishes (issue 16 §3, ``desmig_server.questionnaires``).
    Version 1 is the app's bundled document and gets no row."""
    t.questionnaire_versions.create(conn)


def _children_of_pmi_values(conn: Connection) -> None:
    """The report aggregates rebuilt so ``area_values`` holds every area's children of PMI by birth
    date (issue 15: ``reports.queries.AGED``), beside the medians' values."""
    from desmig_server.aggregates.maintain import counter, refresh, set_watermark

    high = counter(conn)
    refresh(conn, None)
    set_watermark(conn, high)


# Every table naming an entity: the programme's entity names (issue 15) are up to 22 characters
# ("cooperative_businesses"); the questionnaire's first four fitted in 16.
_ENTITY_TABLES = ("records", "applied_ops", "conflicts", "record_history", "scope_exits")


def _longer_entity_names(conn: Connection) -> None:
    """``entity`` columns take 32 characters, as the push model allows. PostgreSQL enforces a
    VARCHAR's length (a longer name failed the whole push); widening one rewrites no row. SQLite
    never enforces it, so its declared types stay as they were created."""
    if conn.dialect.name != "postgresql":
        return
    for name in _ENTITY_TABLES:
        conn.execute(text(f"ALTER TABLE {name} ALTER COLUMN entity TYPE VARCHAR(32)"))


def _pmi_children(conn: Connection) -> None:
    """``pmi_children`` (``desmig_server.aggregates.pmi_children``), filled from the records stored:
    the programme figure ``children_in_parenting`` joins attendance to it. Derived data, like
    ``member_niks`` of step 15: filled with the code of the day (``aggregates rebuild`` refills it)."""
    from desmig_server.aggregates.pmi_children import refresh_children

    t.pmi_children.create(conn)
    refresh_children(conn, None)


STEPS: tuple[Step, ...] = (
    Step(1, "create_tables", _create_tables),
    Step(2, "load_regions_kepmendagri_2025", _load_regions),
    Step(3, "device_token_expiry_and_audit", _token_expiry_and_audit),
    Step(4, "record_history_one_row_per_change", _history_per_change),
    Step(5, "scope_exits_replace_prev_scope", _scope_exits),
    Step(6, "user_disable_web_sessions_op_retention", _user_admin_and_retention),
    Step(7, "conflicts_lost_values_feed", _lost_values_feed),
    Step(8, "index_member_nik", _index_member_nik),
    Step(9, "records_updated_by", _record_author),
    Step(10, "app_releases", _releases),
    Step(11, "review_desk_admin_log", _admin_log),
    Step(12, "device_lineage", _device_lineage),
    Step(13, "report_aggregates", _report_aggregates),
    Step(14, "records_echo_and_resolution_feed", _record_echo),
    Step(15, "member_niks", _member_niks),
    Step(16, "questionnaire_versions", _questionnaire_versions),
    Step(17, "longer_entity_names", _longer_entity_names),
    Step(18, "report_children_of_pmi_values", _children_of_pmi_values),
    Step(19, "pmi_children", _pmi_children),
)
LATEST = STEPS[-1].version


def current_version(conn: Connection) -> int:
    """Highest applied step, 0 for an empty database."""
    t.schema_migrations.create(conn, checkfirst=True)
    return conn.execute(select(t.schema_migrations.c.version).order_by(
        t.schema_migrations.c.version.desc()).limit(1)).scalar() or 0


def migrate(db: Database) -> int:
    """Apply every pending step; return the number applied. Safe to call from several processes."""
    applied = 0
    for step in STEPS:
        with db.write() as conn:
            if db.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
            if current_version(conn) >= step.version:
                continue
            log.info("applying migration %d %s", step.version, step.name)
            step.apply(conn)
            conn.execute(insert(t.schema_migrations).values(
                version=step.version, name=step.name, applied_at=utc_now()))
            applied += 1
    return applied
