"""One error type for the API, rendered as ``{"error": code, "detail": ...}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A client-visible failure with an HTTP status, a stable machine code and optional detail."""

    def __init__(self, status: int, code: str, detail: Any = None, headers: dict[str, str] | None = None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail}


def unauthorized(detail: str = "missing, invalid or revoked token") -> ApiError:
    return ApiError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: Any = None) -> ApiError:
    return ApiError(403, "forbidden", detail)
