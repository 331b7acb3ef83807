"""Sync operation identity, shared by the desktop outbox and the HQ server."""

from __future__ import annotations

import hashlib
from typing import Any

from desmig_desktop.domain.jsontext import compact_sorted

# The questionnaire version this app speaks. 2: households gained location_accuracy_m,
# location_at, interview_started_at, interview_ended_at. An app refuses to sync
# with a server whose max_schema is lower (that server would reject every op carrying the new
# fields as unknown); a server keeps accepting apps down to MIN_APP_SCHEMA, whose ops simply
# lack the new fields (and which keep the fields they pull but do not know in ``extra``).
APP_SCHEMA = 2
MIN_APP_SCHEMA = 1


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON (UTF-8 text, non-ASCII kept) used for hashing: exactly
    ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``."""
    return compact_sorted(value)


def op_hash(entity: str, record_id: str, kind: str, base_version: int, fields: dict[str, Any]) -> str:
    """Hex SHA-256 of ``[entity, id, kind, base_version, fields]`` (DESIGN §4); ``kind``: an
    ``OpKind`` value (``domain.wire``), passed as plain text to keep the fast encoder.

    A lone UTF-16 surrogate (``"\\ud800"``, valid in JSON text, not in UTF-8) is hashed as its
    ``surrogatepass`` bytes rather than failing: any text a client can send gets a checkable hash,
    so the server can consume such an op as a rejection instead of failing the request. Text
    without lone surrogates hashes exactly as UTF-8, so no existing hash changes."""
    payload = canonical_json([entity, record_id, kind, base_version, fields])
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()
