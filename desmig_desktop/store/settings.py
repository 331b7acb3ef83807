"""Small key/value stores in the local DB: app settings and sync state (JSON values)."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

_TABLES = ("settings", "sync_state")


def get(db: Database, key: str, default: Any = None, *, table: str = "settings") -> Any:
    assert table in _TABLES
    row = db.execute(f"SELECT value FROM {table} WHERE key = ?", [key]).fetchone()
    return default if row is None or row[0] is None else json.loads(row[0])


def put(db: Database, key: str, value: Any, *, table: str = "settings") -> None:
    assert table in _TABLES
    with db.atomic():
        db.execute(f"INSERT INTO {table}(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   [key, json.dumps(value, ensure_ascii=False)])
