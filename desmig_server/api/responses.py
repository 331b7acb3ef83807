"""The error body every endpoint may answer with, declared in ``/openapi.json``.

``SHARED`` lists what the shared layers can return on *any* route — the body guard (400
``bad_gzip``/``invalid_request``, 413, 415), the bearer check (401), request validation (400
``malformed_json``, 422), the app-schema header (400, 426) and a scope or role refusal (403) —
and is attached to every router by the composition root; routes add their own (404, 409, 429).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

_DESCRIPTIONS = {
    304: "not modified (If-None-Match matched the ETag)",
    400: "bad_gzip, malformed_json, hash_mismatch, unsupported_schema or a bad header",
    401: "unauthorized (missing, unknown or revoked token; wrong credentials) or token_expired",
    403: "forbidden: outside the caller's scopes or role",
    404: "not_found (also for what exists but lies outside the caller's scopes)",
    409: "conflict with the stored state (see error)",
    413: "body_too_large or too_many_ops",
    415: "unsupported_encoding (Content-Encoding other than gzip)",
    422: "invalid_request, unknown_entity or rejected",
    426: "upgrade_required: the app schema is too old",
    416: "range_not_satisfiable: the Range starts beyond the end (Content-Range gives the size)",
    429: "locked_out (see Retry-After)",
}


class ErrorBody(BaseModel):
    """``{"error": code, "detail": ...}``: a stable machine code and optional detail."""

    error: str = Field(description="stable machine-readable code, e.g. token_expired")
    detail: Any = None


def error_responses(*codes: int, descriptions: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for ``codes`` (304 has no body); ``descriptions`` override."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"description": (descriptions or {}).get(code, _DESCRIPTIONS[code])}
        if code != 304:
            entry["model"] = ErrorBody
        out[code] = entry
    return out


SHARED = error_responses(400, 401, 403, 413, 415, 422, 426)
