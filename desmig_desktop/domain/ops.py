"""Sync operation identity, shared by the desktop outbox and the HQ server."""

from __future__ import annotations

import hashlib
import json
from typing import Any

APP_SCHEMA = 1  # questionnaire/schema version this app speaks
OP_KINDS = ("upsert", "delete")


# Built once: ``json.dumps`` with non-default arguments builds a new encoder on every call,
# which cost as much as the encoding itself for an op (the server hashes every op it receives).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON (UTF-8 text, non-ASCII kept) used for hashing."""
    return _CANONICAL.encode(value)


def op_hash(entity: str, record_id: str, kind: str, base_version: int, fields: dict[str, Any]) -> str:
    """Hex SHA-256 of ``[entity, id, kind, base_version, fields]`` (DESIGN §4)."""
    payload = canonical_json([entity, record_id, kind, base_version, fields])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
