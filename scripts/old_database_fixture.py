"""Dump a database as an older release created it, for the schema drift test.

    .venv/bin/python scripts/old_database_fixture.py COMMIT NAME

writes ``tests/fixtures/old_databases/NAME.sql``. COMMIT's own code (``git archive``, into a
temporary directory) creates a plain database with that commit's migrations, in a child process
that has that code first on its path; a few synthetic records go in (made-up names and numbers,
no real person), only the regions they use are kept, and the sqlite3 shell's ``.dump`` writes
it out (the full-text table and its shadow tables included, as the shell restores them). The
records are written with SQL, not the app's services, whose API changed between releases.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "old_databases"

# Runs inside the old commit's code. Every row is filtered to the tables and columns that commit has.
_CHILD = r'''
import json, sqlite3, sys
from sqlite_utils import Database
from desmig_desktop.store import schema

path = sys.argv[1]
db = Database(sqlite3.connect(path))
schema.migrations.apply(db)
tables = set(db.table_names())
T = "2025-03-04T05:06:07Z"
COMMON = {"deleted": 0, "server_version": 2, "created_at": T, "updated_at": T}
ROWS = {
    "households": [
        {"id": "h-old-1", **COMMON, "village_code": "32.01.05.2003", "hamlet": "Dusun Contoh", "rt": "001",
         "rw": "002", "address": "Jl. Contoh 1", "kk_number": "3201050101200001", "head_name": "Warga Contoh",
         "phone": "081200000001", "latitude": -6.6, "longitude": 106.8, "visited_on": "2025-03-01",
         "consent": 1, "notes": "data sintetis"},
        {"id": "h-old-2", **COMMON, "deleted": 1, "village_code": "32.01.05.2003", "head_name": "Warga Dihapus",
         "visited_on": "2025-03-02", "consent": 1},
    ],
    "members": [
        {"id": "m-old-1", **COMMON, "household_id": "h-old-1", "nik": "3201054512900001", "name": "Anggota Contoh",
         "sex": "P", "birth_place": "Bogor", "birth_date": "1990-12-05", "relationship": "kepala",
         "migration_status": "pmi_purna"},
    ],
    "placements": [
        {"id": "p-old-1", **COMMON, "member_id": "m-old-1", "country": "MY"},
    ],
    "businesses": [
        {"id": "b-old-1", **COMMON, "household_id": "h-old-1", "owner_member_id": "m-old-1", "name": "Warung Contoh",
         "kbli_category": "G", "capital": 5000000, "status": "aktif"},
    ],
    "sync_outbox": [
        {"entity": "households", "record_id": "h-old-1", "kind": "upsert", "base_version": 2,
         "fields": json.dumps({"notes": "data sintetis"}), "op_hash": "0" * 64, "captured_at": T, "app_schema": 1},
    ],
    "sync_state": [{"key": "device_id", "value": "dev-fixture"}],
    "settings": [{"key": "language", "value": "id"}],
    "audit_log": [
        {"at": T, "actor": "petugas", "source": "form", "entity": "households", "record_id": "h-old-1",
         "field": "notes", "old": None, "new": "data sintetis"},
    ],
    "drafts": [{"key": "household:new", "saved_at": T, "data": "{}"}],
    "sync_conflicts": [
        {"kind": "lost", "entity": "households", "record_id": "h-old-1", "field": "phone", "mine": "081200000002",
         "theirs": "081200000001", "reason": "server_newer", "created_at": T, "server_id": 7,
         "winner_role": "supervisor", "winner_user": "pengawas"},
    ],
}
for table, rows in ROWS.items():
    if table in tables:
        have = {c.name for c in db[table].columns}
        for row in rows:
            db[table].insert({k: v for k, v in row.items() if k in have})
if "search_keys" in tables:
    head = "head" in {c.name for c in db["search_keys"].columns}
    db.execute("INSERT INTO search_keys(household_id" + (", head" if head else "") + ") SELECT id"
               + (", head_name" if head else "") + " FROM households ORDER BY rowid")
    db.execute(schema.SEARCH_ROWS_SQL + " WHERE h.deleted = 0")
db.execute("DELETE FROM regions WHERE code NOT IN ('32', '32.01', '32.01.05', '32.01.05.2003')")
db.conn.commit()
db.execute("VACUUM")
print(json.dumps([m.name for m in schema.migrations.applied(db)]))
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commit")
    parser.add_argument("name")
    args = parser.parse_args()
    if shutil.which("sqlite3") is None:
        sys.exit("the sqlite3 shell is needed for .dump (apt install sqlite3)")
    sha = subprocess.run(["git", "rev-parse", args.commit], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="desmig-old-") as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(code, filter="data")
        db_path = Path(tmp) / "old.db"
        done = subprocess.run([sys.executable, "-c", _CHILD, str(db_path)], cwd=code, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(code)})
        if done.returncode != 0:
            sys.exit(done.stderr)
        dump = subprocess.run(["sqlite3", str(db_path), ".dump"], capture_output=True, text=True, check=True).stdout
    OUT.mkdir(parents=True, exist_ok=True)
    header = (f"-- A database as commit {sha} created it (migrations: {done.stdout.strip()}),\n"
              f"-- with synthetic records only. Made by scripts/old_database_fixture.py; do not edit.\n")
    (OUT / f"{args.name}.sql").write_text(header + dump, encoding="utf-8")
    print(OUT / f"{args.name}.sql")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
