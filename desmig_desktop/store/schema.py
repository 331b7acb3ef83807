"""Versioned migrations of the local database, each in its own transaction.

Every step is literal and frozen: it writes out the tables and columns it creates as they were
when it was released, and never reads the live field specs (``domain/fields.py``). So a database
created by any release, migrated forward, equals a fresh one, and a new question is a spec entry
plus a new step that adds its column (``tests/store/test_schema_drift.py`` names what is missing).
Never edit a released step; add one.
"""

from __future__ import annotations

import csv

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from desmig_desktop.domain.reference import RESOURCES_DIR

migrations = Migrations("desmig")

# One household's searchable text: head name, KK, and every live member's name and NIK. The FTS
# rowid is the household's stable integer key in search_keys (a TEXT-keyed table's own rowid may
# change on VACUUM), so refreshing one household is an indexed delete, not a scan.
SEARCH_ROWS_SQL = (
    "INSERT INTO household_search(rowid, body) SELECT k.key, h.head_name || ' ' ||"
    " coalesce(h.kk_number, '') || ' ' || coalesce((SELECT group_concat(m.name || ' ' ||"
    " coalesce(m.nik, ''), ' ') FROM members m WHERE m.household_id = h.id AND m.deleted = 0), '')"
    " FROM households h JOIN search_keys k ON k.household_id = h.id"
)
# A household's key, created if missing, with the head name the list sorts by (since m005):
# search_keys.head follows households.head_name wherever the search text is refreshed.
SEARCH_KEYS_SQL = (
    "INSERT INTO search_keys(household_id, head) SELECT h.id, h.head_name FROM households h"
    " WHERE h.id IN ({ids}) ON CONFLICT(household_id) DO UPDATE SET head = excluded.head"
)


# The four entity tables as the first release created them, written out: every release up to the
# one before m012 created exactly these (checked against each commit's own m001). A later question
# is a later step (an ADD COLUMN), never an edit here: a database created by an older release
# has only these, and a fresh one must end up with what the older one gets after migrating.
_M001_ENTITY_TABLES = (
    """CREATE TABLE households (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  village_code TEXT REFERENCES regions(code) DEFERRABLE INITIALLY DEFERRED,
  hamlet TEXT,
  rt TEXT,
  rw TEXT,
  address TEXT,
  kk_number TEXT,
  head_name TEXT,
  phone TEXT,
  latitude REAL,
  longitude REAL,
  visited_on TEXT,
  consent INTEGER,
  notes TEXT
)""",
    """CREATE TABLE members (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  household_id TEXT REFERENCES households(id) DEFERRABLE INITIALLY DEFERRED,
  nik TEXT,
  name TEXT,
  sex TEXT,
  birth_place TEXT,
  birth_date TEXT,
  relationship TEXT,
  education TEXT,
  marital_status TEXT,
  occupation TEXT,
  migration_status TEXT,
  phone TEXT
)""",
    """CREATE TABLE placements (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  member_id TEXT REFERENCES members(id) DEFERRABLE INITIALLY DEFERRED,
  country TEXT,
  job TEXT,
  sector TEXT,
  scheme TEXT,
  agency_name TEXT,
  departed_on TEXT,
  returned_on TEXT,
  monthly_remittance INTEGER,
  remittance_use TEXT,
  had_problem INTEGER,
  problem_kind TEXT,
  bpjs_ketenagakerjaan INTEGER
)""",
    """CREATE TABLE businesses (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  household_id TEXT REFERENCES households(id) DEFERRABLE INITIALLY DEFERRED,
  owner_member_id TEXT REFERENCES members(id) DEFERRABLE INITIALLY DEFERRED,
  name TEXT,
  kbli_category TEXT,
  kbli_code TEXT,
  products TEXT,
  started_year INTEGER,
  workers INTEGER,
  capital INTEGER,
  annual_turnover INTEGER,
  umkm_class TEXT,
  umkm_basis TEXT,
  capital_source TEXT,
  nib TEXT,
  export_ready INTEGER,
  exporting INTEGER,
  cooperative_member INTEGER,
  received_support INTEGER,
  status TEXT
)""",
)


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        "CREATE TABLE regions (code TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, level INTEGER NOT NULL,"
        " parent_code TEXT, kind TEXT NOT NULL)"
    )
    with open(RESOURCES_DIR / "regions.csv", newline="", encoding="utf-8") as fh:
        rows = ((r["code"], r["name"], int(r["level"]), r["parent_code"] or None, r["kind"])
                for r in csv.DictReader(fh))
        db.conn.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, ?)", rows)
    db.execute("CREATE INDEX idx_regions_parent ON regions(parent_code, name)")
    db.execute("CREATE INDEX idx_regions_level_name ON regions(level, name COLLATE NOCASE)")
    for statement in _M001_ENTITY_TABLES:
        db.execute(statement)
    db.execute("CREATE INDEX idx_households_village ON households(village_code, head_name COLLATE NOCASE)")
    db.execute("CREATE INDEX idx_households_head ON households(head_name COLLATE NOCASE)")
    db.execute("CREATE INDEX idx_households_kk ON households(kk_number)")
    db.execute("CREATE INDEX idx_members_household ON members(household_id)")
    db.execute("CREATE INDEX idx_members_nik ON members(nik)")
    db.execute("CREATE INDEX idx_members_name ON members(name COLLATE NOCASE)")
    db.execute("CREATE INDEX idx_placements_member ON placements(member_id)")
    db.execute("CREATE INDEX idx_businesses_household ON businesses(household_id)")
    db.execute(
        "CREATE TABLE sync_outbox (op_seq INTEGER PRIMARY KEY AUTOINCREMENT, entity TEXT NOT NULL,"
        " record_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('upsert','delete')),"
        " base_version INTEGER NOT NULL, fields TEXT NOT NULL, op_hash TEXT NOT NULL,"
        " captured_at TEXT NOT NULL, app_schema INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX idx_outbox_record ON sync_outbox(entity, record_id)")
    db.execute(
        "CREATE TABLE sync_journal (op_seq INTEGER PRIMARY KEY, entity TEXT NOT NULL, record_id TEXT NOT NULL,"
        " kind TEXT NOT NULL, base_version INTEGER NOT NULL, fields TEXT NOT NULL, op_hash TEXT NOT NULL,"
        " captured_at TEXT NOT NULL, app_schema INTEGER NOT NULL, acked_at TEXT NOT NULL,"
        " status TEXT, version INTEGER)"
    )
    db.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY NOT NULL, value TEXT)")
    db.execute(
        "CREATE TABLE sync_conflicts (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
        " entity TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT, mine TEXT, theirs TEXT,"
        " reason TEXT, op_seq INTEGER, status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX idx_conflicts_status ON sync_conflicts(status)")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT)")


@migrations()
def m002_search_index(db: Database) -> None:
    """Full-text index over head name, member names, NIKs and KK, one row per household."""
    db.execute("CREATE TABLE search_keys (key INTEGER PRIMARY KEY, household_id TEXT NOT NULL UNIQUE)")
    db.execute("CREATE VIRTUAL TABLE household_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO search_keys(household_id) SELECT id FROM households ORDER BY rowid")
    db.execute(SEARCH_ROWS_SQL + " WHERE h.deleted = 0")


@migrations()
def m003_audit_log(db: Database) -> None:
    """Append-only field history: who changed which field from what to what, and when."""
    db.execute(
        "CREATE TABLE audit_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT,"
        " source TEXT NOT NULL, entity TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL,"
        " old TEXT, new TEXT, op_seq INTEGER)"
    )
    db.execute("CREATE INDEX idx_audit_record ON audit_log(entity, record_id, seq)")
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log"
            " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


@migrations()
def m004_drafts(db: Database) -> None:
    """Unsaved editor contents; kept in the (encrypted) database rather than in plain files."""
    db.execute("CREATE TABLE drafts (key TEXT PRIMARY KEY NOT NULL, saved_at TEXT NOT NULL, data TEXT NOT NULL)")


@migrations()
def m005_search_index_without_positions(db: Database) -> None:
    """The full-text index without token positions (``detail=none``): every search is a set of
    single-word prefixes, which need no positions, and the smaller index is faster to match and
    to refresh (measured at 100k households: match p95 8.3 → 5.8 ms, refresh −10 %). Beside
    each key, ``search_keys.head`` keeps the household's head name, so a page of a few thousand
    matches is sorted without reading the households table (2,729 matches: ~15 → 6 ms a page).
    Rebuilt from the records in this migration's transaction; the keys themselves stay."""
    db.execute("DROP TABLE household_search")
    db.execute("CREATE VIRTUAL TABLE household_search USING fts5(body,"
               " tokenize = 'unicode61 remove_diacritics 2', detail = none)")
    db.execute("ALTER TABLE search_keys ADD COLUMN head TEXT")
    db.execute("INSERT OR IGNORE INTO search_keys(household_id) SELECT id FROM households ORDER BY rowid")
    db.execute("UPDATE search_keys SET head = (SELECT h.head_name FROM households h"
               " WHERE h.id = search_keys.household_id)")
    db.execute(SEARCH_ROWS_SQL + " WHERE h.deleted = 0")


@migrations()
def m006_households_by_name_and_id(db: Database) -> None:
    """The household list's name index also holds the id, the list's tie-break: a page in name
    order (``ORDER BY head_name, id``) is read off the index without sorting ties, and a walk
    of it tests each household's id without reading its row first. (A partial index of live
    households only was faster still for those pages, but the planner then preferred it for
    counts and other orders and read every row through it: a count 23 → 207 ms.)"""
    db.execute("DROP INDEX idx_households_head")
    db.execute("CREATE INDEX idx_households_name ON households(head_name COLLATE NOCASE, id)")


@migrations()
def m007_lost_values_from_the_server(db: Database) -> None:
    """Each lost value as the server decided it (issue 13 §6): the server's conflict id, who won
    (role, username) and by which rule. A conflict reaches the laptop in a push result, a replayed
    one, or the server's per-device feed — maybe more than once: the id (with the record and field,
    which a server restored from a backup cannot give to a different loss) makes the second a no-op."""
    for column in ("server_id INTEGER", "winner_role TEXT", "winner_user TEXT", "rule TEXT"):
        db.execute(f"ALTER TABLE sync_conflicts ADD COLUMN {column}")
    db.execute("CREATE UNIQUE INDEX idx_conflicts_server_id ON sync_conflicts(server_id, entity, record_id, field)")


@migrations()
def m012_location_fix_and_interview_times(db: Database) -> None:
    """Households record where their coordinates came from and when the interview took place
    (issue 20 §7): the location service's accuracy radius and the time of its fix (both empty
    for typed coordinates), and the interview's start and end (set by the editor, never typed).
    Columns written out here, not read from the specs: this step stays what it is.

    The guard (only missing columns are added) stays although m001 is now frozen without them:
    the releases from this step's own until the freeze built m001's tables from the live specs, so a
    database created by one of them got all four columns from m001. This step normally ran right
    after, but each step is its own transaction: a power cut between m001's commit and this one's
    leaves such a database with the columns and this step pending, and an unconditional ADD
    COLUMN would then fail at every start. Both shapes end up equal (the drift test checks)."""
    have = {column.name for column in db["households"].columns}
    for name, sql_type in (("location_accuracy_m", "REAL"), ("location_at", "TEXT"), ("interview_started_at", "TEXT"),
                           ("interview_ended_at", "TEXT")):
        if name not in have:
            db.execute(f"ALTER TABLE households ADD COLUMN {name} {sql_type}")


# The programme's records (four pillars and the officer's own work), written out as they were
# when this step was released: a later question is a later step, never an edit here.
_M013_TABLES = (
    """CREATE TABLE village_profiles (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  village_code TEXT REFERENCES regions(code) DEFERRABLE INITIALLY DEFERRED,
  joined_year INTEGER,
  facilitators TEXT,
  centre_address TEXT,
  centre_days TEXT,
  head_name TEXT,
  head_phone TEXT,
  status TEXT,
  notes TEXT
)""",
    """CREATE TABLE services (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  village_code TEXT REFERENCES regions(code) DEFERRABLE INITIALLY DEFERRED,
  served_on TEXT,
  member_id TEXT REFERENCES members(id) DEFERRABLE INITIALLY DEFERRED,
  walk_in_name TEXT,
  walk_in_sex TEXT,
  walk_in_age_band TEXT,
  walk_in_nik TEXT,
  service_type TEXT,
  document_kind TEXT,
  case_kind TEXT,
  destination_country TEXT,
  referral TEXT,
  status TEXT,
  follow_up_on TEXT,
  notes TEXT
)""",
    """CREATE TABLE business_supports (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  business_id TEXT REFERENCES businesses(id) DEFERRABLE INITIALLY DEFERRED,
  support_type TEXT,
  received_on TEXT,
  provider TEXT,
  topic TEXT,
  source TEXT,
  amount INTEGER
)""",
    """CREATE TABLE parenting_activities (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  village_code TEXT REFERENCES regions(code) DEFERRABLE INITIALLY DEFERRED,
  held_on TEXT,
  activity_type TEXT,
  facilitator TEXT,
  topic TEXT,
  walk_in_children INTEGER,
  walk_in_caregivers INTEGER,
  notes TEXT
)""",
    """CREATE TABLE parenting_attendance (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  activity_id TEXT REFERENCES parenting_activities(id) DEFERRABLE INITIALLY DEFERRED,
  member_id TEXT REFERENCES members(id) DEFERRABLE INITIALLY DEFERRED,
  role TEXT
)""",
    """CREATE TABLE cooperatives (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  village_code TEXT REFERENCES regions(code) DEFERRABLE INITIALLY DEFERRED,
  name TEXT,
  group_kind TEXT,
  legal_status TEXT,
  legal_number TEXT,
  founded_on TEXT,
  capital INTEGER,
  status TEXT,
  notes TEXT
)""",
    """CREATE TABLE cooperative_members (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  cooperative_id TEXT REFERENCES cooperatives(id) DEFERRABLE INITIALLY DEFERRED,
  member_id TEXT REFERENCES members(id) DEFERRABLE INITIALLY DEFERRED,
  role TEXT,
  joined_on TEXT
)""",
    """CREATE TABLE cooperative_businesses (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  cooperative_id TEXT REFERENCES cooperatives(id) DEFERRABLE INITIALLY DEFERRED,
  business_id TEXT REFERENCES businesses(id) DEFERRABLE INITIALLY DEFERRED,
  support TEXT
)""",
    """CREATE TABLE officer_activities (
  id TEXT PRIMARY KEY NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  server_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT,
  village_code TEXT REFERENCES regions(code) DEFERRABLE INITIALLY DEFERRED,
  held_on TEXT,
  activity_kind TEXT,
  partners TEXT,
  topic TEXT,
  attendance INTEGER,
  follow_up TEXT,
  follow_up_on TEXT
)""",
)
_M013_INDEXES = (
    "CREATE INDEX idx_village_profiles_village ON village_profiles(village_code)",
    "CREATE INDEX idx_services_village ON services(village_code)",
    "CREATE INDEX idx_services_member_id ON services(member_id)",
    "CREATE INDEX idx_business_supports_parent ON business_supports(business_id)",
    "CREATE INDEX idx_parenting_activities_village ON parenting_activities(village_code)",
    "CREATE INDEX idx_parenting_attendance_parent ON parenting_attendance(activity_id)",
    "CREATE INDEX idx_parenting_attendance_member_id ON parenting_attendance(member_id)",
    "CREATE INDEX idx_cooperatives_village ON cooperatives(village_code)",
    "CREATE INDEX idx_cooperative_members_parent ON cooperative_members(cooperative_id)",
    "CREATE INDEX idx_cooperative_members_member_id ON cooperative_members(member_id)",
    "CREATE INDEX idx_cooperative_businesses_parent ON cooperative_businesses(cooperative_id)",
    "CREATE INDEX idx_cooperative_businesses_business_id ON cooperative_businesses(business_id)",
    "CREATE INDEX idx_officer_activities_village ON officer_activities(village_code)",
)


@migrations()
def m013_programme_records(db: Database) -> None:
    """The Desmigratif village profile, the four pillars' records (migration services, business
    training and support, parenting activities and their attendance, cooperatives with their
    members and supported businesses) and the officer's activity log."""
    for statement in (*_M013_TABLES, *_M013_INDEXES):
        db.execute(statement)


@migrations()
def m014_questionnaire_versions(db: Database) -> None:
    """The questionnaire versions this device applied (issue 16 §3), and the version each op was
    validated under. A database without a row here is on version 1, the questionnaire the app
    ships; the highest stored version is the active one (``store.questionnaire_store``). The
    columns a version adds are not a step here: they are added by applying the version, in the
    same transaction as its row. Outbox and journal ops made before this step were validated
    under version 1."""
    db.execute(
        "CREATE TABLE questionnaire_documents (version INTEGER PRIMARY KEY NOT NULL, digest TEXT NOT NULL,"
        " document TEXT NOT NULL, changes TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    db.execute("ALTER TABLE sync_outbox ADD COLUMN questionnaire_version INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE sync_journal ADD COLUMN questionnaire_version INTEGER NOT NULL DEFAULT 1")
