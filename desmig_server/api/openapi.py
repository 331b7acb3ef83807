"""``/openapi.json`` says what the server does, not just what its parameter types are.

Two corrections FastAPI cannot make by itself, applied once when the document is first built:

* **Integer bounds stay integers.** FastAPI writes the bounds of request-body models as floats
  (``op_seq`` ``maximum: 9.223372036854776e+18``), which is a *different* number from the
  int64 bound the server enforces (2**63 - 1) — generators then send values the server refuses.
  Every integral ``minimum``/``maximum`` of an integer schema is written back as an integer.
* **The app schema window is the server's.** ``app_schema`` in a push and the
  ``X-Desmig-App-Schema`` header are published with this server's bounds (``Settings``):
  a value below ``min_schema`` is answered 426 ``upgrade_required`` and a push above
  ``max_schema`` 400 ``unsupported_schema`` — refusals of an out-of-range value, so the document
  marks those values as outside the schema instead of pretending any integer is accepted.
  The optional ``X-Desmig-App-Version`` header is published as a plain pattern-checked string.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from desmig_server.api.deps import SCHEMA_HEADER, VERSION_HEADER, VERSION_HEADER_PATTERN
from desmig_server.settings import Settings

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
HEADER_MAX = 999_999_999  # the header's pattern allows at most 9 digits


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Replace ``app.openapi`` by the corrected document (built once, like FastAPI's)."""
    build = app.openapi

    def corrected() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            _integer_bounds(document)
            _app_schema_window(document, settings)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = corrected  # type: ignore[method-assign]


def _integer_bounds(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in _BOUNDS:
                value = node.get(key)
                if isinstance(value, float) and value.is_integer():
                    node[key] = _exact_int(value)
        for child in node.values():
            _integer_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _integer_bounds(child)


def _exact_int(value: float) -> int:
    """The int64 bound a float stands for (±2**63 is what ±(2**63 - 1) becomes as a float)."""
    as_int = int(value)
    if as_int == 2**63:
        return 2**63 - 1
    if as_int == -(2**63):
        return -(2**63 - 1)
    return as_int


def _app_schema_window(document: dict[str, Any], settings: Settings) -> None:
    header = {"type": "integer", "minimum": settings.min_schema, "maximum": HEADER_MAX}
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "header" and parameter.get("name") == SCHEMA_HEADER:
                    parameter["schema"] = {**header, "description": parameter["schema"].get("description", "")}
                if parameter.get("in") == "header" and parameter.get("name") == VERSION_HEADER:
                    # An optional header is absent or a version; FastAPI's ``anyOf [string, null]``
                    # invites generators to send the text "null", which is neither.
                    parameter["schema"] = {"type": "string", "pattern": VERSION_HEADER_PATTERN,
                                           "description": parameter["schema"].get("description", "")}
    push = document.get("components", {}).get("schemas", {}).get("PushRequest", {}).get("properties", {})
    if "app_schema" in push:
        push["app_schema"].update(minimum=settings.min_schema, maximum=settings.max_schema)
