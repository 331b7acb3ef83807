"""The current HQ schema as SQLAlchemy Core tables (queries import these; DDL lives in migrations).

Times are UTC ISO-8601 text (informational) except the lockout clock, which is epoch seconds
because it is compared arithmetically. JSON documents are stored as text so the same schema
works on SQLite and PostgreSQL; ``db.json`` hides the dialect difference when SQL must look
inside them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

ROLES = ("officer", "supervisor", "hq")

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", String(32), nullable=False),
)

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

regions = Table(
    "regions", metadata,
    Column("code", String(13), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", Integer, nullable=False),
    Column("parent_code", String(13)),
    Column("kind", String(16), nullable=False),
    Index("ix_regions_parent", "parent_code"),
)

users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("regency", String(5)),  # supervisors: the Kemendagri regency code PP.KK
    Column("created_at", String(32), nullable=False),
    # Added by migration 6: a disabled user's device tokens and dashboard sessions are refused
    # and it cannot log in (``desmig-hq user disable``); its data and history stay.
    Column("disabled", Boolean, nullable=False, default=False),
)

user_scopes = Table(
    "user_scopes", metadata,
    Column("username", String(64), ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
    Column("village_code", String(13), nullable=False),
    PrimaryKeyConstraint("username", "village_code"),
)

# Failed logins per attempted username (known or not, so the lockout reveals nothing about
# which usernames exist). Kept in the DB because workers are stateless.
login_attempts = Table(
    "login_attempts", metadata,
    Column("username", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", Float, nullable=False),
    Column("locked_until", Float),
)

devices = Table(
    "devices", metadata,
    Column("device_id", String(36), primary_key=True),
    Column("username", String(64), ForeignKey("users.username"), nullable=False),
    Column("device_name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("last_op_seq", BigInteger, nullable=False, default=0),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    Column("last_seen", String(32)),
    # Added by migration 3 (token expiry and rotation; see ``auth.tokens``). Epoch seconds, like
    # the lockout clock, because they are compared arithmetically. NULL expiry = expired.
    Column("token_expires_at", Float),
    # The token a rotation replaced: still accepted until the new one is first used or
    # ``prev_token_valid_until`` passes, so a rotation whose reply was lost costs nothing.
    Column("prev_token_hash", String(64)),
    Column("prev_token_valid_until", Float),
    # Added by migration 6: ``applied_ops`` rows of this device with ``op_seq`` at or below this
    # were pruned (``sync/retention``); a replay of such an op is answered ``pruned``, never applied.
    Column("applied_pruned_through", BigInteger, nullable=False, default=0),
    # Added by migration 12 (``auth.lineage``): the laptop database this device is a registration
    # of (an id the laptop made, kept across logins, backups and restores; NULL for a device of an
    # older app), and where its numbering starts in the laptop's: its op ``n`` is the lineage's op
    # ``lineage_base + n``. A lineage has at most one unrevoked device; its ops are applied once
    # across all of them.
    Column("lineage", String(36)),
    Column("lineage_base", BigInteger, nullable=False, default=0),
    Index("ix_devices_prev_token_hash", "prev_token_hash"),
    Index("ix_devices_lineage", "lineage"),
)

# Dashboard sign-ins (migration 6), so that logging out kills a copied cookie: the cookie names a
# random session id kept here only as its SHA-256; every request checks the row (workers keep
# nothing in memory). Expired rows are deleted at the next sign-in and by ``desmig-hq prune``.
web_sessions = Table(
    "web_sessions", metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("created_at", String(32), nullable=False),
    Index("ix_web_sessions_username", "username"),
)

records = Table(
    "records", metadata,
    Column("entity", String(32), nullable=False),  # 32 since migration 17
    Column("id", String(64), nullable=False),
    Column("scope", String(13), nullable=False),  # village code of the household (its current one)
    Column("parent_id", String(64)),  # household_id / member_id, for cascades and reports
    Column("data", Text, nullable=False),  # JSON: every field, normalised
    Column("fmeta", Text, nullable=False),  # JSON: {field: [version, device_id, role]}, see state.encode_fmeta
    Column("version", BigInteger, nullable=False),  # = server_seq of the last change
    Column("deleted", Boolean, nullable=False, default=False),
    Column("server_seq", BigInteger, nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    # Added by migration 9: the username whose op last changed the data (or deleted the record),
    # sent with each pulled record so a laptop's history names who made a change it pulled.
    Column("updated_by", String(64)),
    # Added by migration 14 (no echo): the device and op number whose "ok" op made
    # this version exactly what that device holds after applying the op's answer; NULL after any
    # other change (a merge, a touch, a cascade, a move, a resolution). A pull leaves such a
    # version out for that device when it says it applied that op's answer.
    Column("echo_device", String(36)),
    Column("echo_op", BigInteger),
    PrimaryKeyConstraint("entity", "id"),
    Index("ix_records_scope_seq", "scope", "server_seq"),
    Index("ix_records_parent", "parent_id"),
    Index("ix_records_entity_scope", "entity", "scope"),
)

applied_ops = Table(
    "applied_ops", metadata,
    Column("device_id", String(36), ForeignKey("devices.device_id"), nullable=False),
    Column("op_seq", BigInteger, nullable=False),
    Column("op_hash", String(64), nullable=False),
    Column("entity", String(32), nullable=False),  # 32 since migration 17
    Column("record_id", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("result", String(16), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("reason", Text),
    Column("clashes", Text),  # JSON [{field, won}] so a replayed reply is the original one
    Column("captured_at", String(40)),  # device clock: informational, never used for ordering
    Column("applied_at", String(32), nullable=False),
    PrimaryKeyConstraint("device_id", "op_seq"),
)

conflicts = Table(
    "conflicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(32), nullable=False),  # 32 since migration 17
    Column("record_id", String(64), nullable=False),
    Column("scope", String(13), nullable=False),
    Column("field", String(64), nullable=False),  # "*" for a delete racing an edit
    Column("kind", String(16), nullable=False),  # conflict | delete_edit
    Column("winning_value", Text),  # JSON
    Column("losing_value", Text),  # JSON
    Column("winner_device", String(36)),
    Column("winner_user", String(64)),
    Column("winner_role", String(16)),
    Column("loser_device", String(36)),
    Column("loser_user", String(64)),
    Column("loser_role", String(16)),
    Column("version", BigInteger, nullable=False),  # server_seq current when it was decided
    Column("status", String(16), nullable=False, default="open"),
    Column("created_at", String(32), nullable=False),
    Column("resolved_at", String(32)),
    Column("resolved_by", String(64)),
    Column("resolution", String(16)),
    # Added by migration 7: the loser's op when its value lost on arrival (NULL when it lost later,
    # overwritten by another device's op), and the per-device feed of lost values (``sync/lost``).
    Column("loser_op_seq", BigInteger),
    # Added by migration 14: the resolution's number, in commit order (one more than the newest,
    # under the seq_counter lock every resolver holds): the loser's device reads resolutions
    # after its cursor (``sync.lost.resolutions``) and closes the conflict in its inbox.
    Column("resolved_seq", BigInteger),
    Index("ix_conflicts_scope_status", "scope", "status"),
    Index("ix_conflicts_loser_device", "loser_device", "id"),
    Index("ix_conflicts_resolved_seq", "resolved_seq"),
    # migration 5: a move re-scopes the record's conflicts (``scope`` is the record's current village)
    Index("ix_conflicts_record", "entity", "record_id"),
)

# Append-only field history (migration 3): one row per field change a push or a conflict
# resolution applied, and one per losing value of a conflict, written in the same transaction.
# Values are personal data: they live here only, never in a log line.
record_history = Table(
    # The append-only change history: one row per op (or conflict resolution) and record it
    # changed, with the changed fields as one JSON object — not one row per field, which made
    # the history ~12 rows per pushed record and the largest cost of a push.
    "record_history", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("entity", String(32), nullable=False),  # 32 since migration 17
    Column("record_id", String(64), nullable=False),
    Column("scope", String(13), nullable=False),  # the record's village when the change was made
    Column("version", BigInteger, nullable=False),  # record version (server_seq) the change produced
    Column("username", String(64), nullable=False),
    Column("device_id", String(36), nullable=False),
    Column("role", String(16), nullable=False),
    Column("op_seq", BigInteger),  # NULL for a change made by resolving a conflict
    Column("at", String(32), nullable=False),  # server time (UTC); device clocks are never trusted
    # applied | conflict_won (applied over a concurrent change: the old values are the losing ones) |
    # conflict_lost (not applied: the new values are the losing ones) | cascade (deleted with its parent)
    Column("outcome", String(16), nullable=False),
    # JSON object {field: [old, new]}, keys sorted; "deleted" for deletion and revival
    Column("changes", Text, nullable=False),
    Index("ix_record_history_record", "entity", "record_id", "id"),
)

# Move-out notices (migration 5): a record that left ``scope`` (its household's village changed,
# or it was re-parented into another village) at ``server_seq``. The old scope's pull merges
# these with its records in server_seq order, so its devices learn of the move exactly once,
# as a notice carrying no data, and nothing of the record afterwards. ``server_seq`` is a number
# of its own, taken just before the version of the move (``sync.state``): no record row has it.
scope_exits = Table(
    "scope_exits", metadata,
    Column("scope", String(13), nullable=False),
    Column("server_seq", BigInteger, nullable=False),
    Column("entity", String(32), nullable=False),  # 32 since migration 17
    Column("record_id", String(64), nullable=False),
    PrimaryKeyConstraint("scope", "server_seq"),
    # Added by migration 13: the report aggregates read the notices past their watermark.
    Index("ix_scope_exits_seq", "server_seq"),
)

# Report aggregates (migration 13; ``desmig_server.aggregates``): derived data,
# rebuilt from ``records`` at will. One row per area holding data, at every level: a village
# (``level_len`` 13), district (8), regency (5), province (2) and the nation ("", 0); ``figures`` is
# the area's report row as JSON. Villages are computed from the records, larger areas summed from
# the level below. ``area_values`` holds each area's multiset of the values a median is taken
# over ({value: count}), so a median of any union of villages is exact.
area_figures = Table(
    "area_figures", metadata,
    Column("code", String(13), primary_key=True),
    Column("level_len", Integer, nullable=False),
    Column("figures", Text, nullable=False),
    Index("ix_area_figures_level", "level_len", "code"),
)

area_values = Table(
    "area_values", metadata,
    Column("code", String(13), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("n", BigInteger, nullable=False),
    PrimaryKeyConstraint("code", "metric", "value"),
)

# The change-feed watermark of the aggregates: every change with ``server_seq`` at or below it
# (records and ``scope_exits``) is reflected in them. One row (id 1); missing means 0.
aggregate_state = Table(
    "aggregate_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("watermark", BigInteger, nullable=False),
)

# Every NIK held by a live member (migration 15): derived from ``records`` by the aggregates'
# catch-up, village by village (``desmig_server.aggregates.niks``), so HQ's duplicate list is one
# scan of the (nik, household_id) index instead of every member's JSON.
member_niks = Table(
    "member_niks", metadata,
    Column("member_id", String(64), primary_key=True),
    Column("nik", Text, nullable=False),
    Column("household_id", String(64)),
    Column("scope", String(13), nullable=False),
    Index("ix_member_niks_nik", "nik", "household_id"),
    Index("ix_member_niks_scope", "scope"),
)

# Every live member who is a child of PMI by relationship, with its birth date (migration 19):
# derived from ``records`` by the aggregates' catch-up, village by village
# (``desmig_server.aggregates.pmi_children``), so the programme figure ``children_in_parenting`` joins
# the period's attendance to it instead of deciding "child of PMI" from every household.
pmi_children = Table(
    "pmi_children", metadata,
    Column("member_id", String(64), primary_key=True),
    Column("scope", String(13), nullable=False),
    Column("birth_date", Text),
    Index("ix_pmi_children_scope", "scope"),
)

# Published app releases (migration 10). ``manifest`` is the exact text HQ signed
# (``desmig_desktop.domain.release``) and ``signature`` its base64 Ed25519 signature; the package
# itself lives in ``release_chunks`` so any worker serves any byte range of it without reading
# the rest (workers keep nothing between requests). ``version_key`` sorts like the version.
releases = Table(
    "releases", metadata,
    Column("version", String(24), primary_key=True),
    Column("version_key", BigInteger, nullable=False, unique=True),
    Column("min_version", String(24), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("manifest", Text, nullable=False),
    Column("signature", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("chunk_size", Integer, nullable=False),
    Column("published_at", String(32), nullable=False),
    Column("published_by", String(64), nullable=False),
)

release_chunks = Table(
    "release_chunks", metadata,
    Column("version", String(24), ForeignKey("releases.version"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("version", "idx"),
)

# What dashboard users did on the review desk (migration 11): user administration
# (create, scopes, password reset, disable/enable), device revocation and conflict resolutions.
# One row per action, written in the action's own transaction, never updated or deleted.
# ``detail`` is JSON with roles, village codes, counts and device ids only: never a password or
# a value of a record (a resolution's values live in ``record_history``).
admin_log = Table(
    "admin_log", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(100), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_admin_log_target", "target", "id"),
)

# Questionnaire versions HQ published (migration 16; ``desmig_server.questionnaires``). Version 1
# ships with the app (``resources/questionnaire/v1.json``) and has no row. A version is never
# changed once published: devices validated ops under it. ``document`` is the canonical JSON
# text, ``digest`` its SHA-256 (the ETag, the parsed-specs cache key), ``changes`` what
# ``questionnaire_compat.compare`` found against the version before (JSON list).
questionnaire_versions = Table(
    "questionnaire_versions", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("changes", Text, nullable=False),
    Column("published_at", String(32), nullable=False),
    Column("published_by", String(64), nullable=False),
)

seq_counter = Table(
    "seq_counter", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
)

# Rows that tests and operators may wipe to reset a server without reloading reference data.
DATA_TABLES = (questionnaire_versions, pmi_children, member_niks, area_values, area_figures, aggregate_state, admin_log,
               release_chunks, releases, record_history, applied_ops, conflicts, scope_exits, records, devices,
               user_scopes, login_attempts, web_sessions, users)
