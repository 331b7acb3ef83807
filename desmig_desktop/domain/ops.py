"""Sync operation identity, shared by the desktop outbox and the HQ server."""

from __future__ import annotations

import hashlib
from typing import Any

from desmig_desktop.domain.jsontext import compact_sorted

APP_SCHEMA = 1  # questionnaire/schema version this app speaks
OP_KINDS = ("upsert", "delete")


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON (UTF-8 text, non-ASCII kept) used for hashing: exactly
    ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``."""
    return compact_sorted(value)


def op_hash(entity: str, record_id: str, kind: str, base_version: int, fields: dict[str, Any]) -> str:
    """Hex SHA-256 of ``[entity, id, kind, base_version, fields]`` (DESIGN §4)."""
    payload = canonical_json([entity, record_id, kind, base_version, fields])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
