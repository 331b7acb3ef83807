"""Wire models of the sync endpoints (also what /openapi.json documents).

Strict: a string where a number belongs is refused rather than guessed. Unknown keys are
ignored so a newer client may add keys (DESIGN §6: keys may be added, never renamed).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
VILLAGE_PATTERN = r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$"


class PushOp(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    op_seq: int = Field(ge=1)
    entity: str = Field(max_length=32)
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["upsert", "delete"]
    base_version: int = Field(ge=0)
    fields: dict[str, Any]
    op_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    captured_at: str | None = Field(default=None, max_length=40)


class PushRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    device_id: str = Field(max_length=36)
    app_schema: int
    ops: list[PushOp]


class OpResult(BaseModel):
    op_seq: int
    status: Literal["ok", "merged", "conflict", "rejected"]
    version: int
    reason: str | None = None
    conflicts: list[dict[str, Any]] | None = None


class PushReply(BaseModel):
    last_op_seq: int
    results: list[OpResult]


class PulledRecord(BaseModel):
    entity: str
    id: str
    data: dict[str, Any]
    version: int
    deleted: bool
    server_seq: int


class PullReply(BaseModel):
    records: list[PulledRecord]
    next: int
    more: bool
    last_op_seq: int


class HelloReply(BaseModel):
    server_time: str
    min_schema: int
    max_schema: int
    last_op_seq: int
    scopes: list[str]
    username: str
    role: str
    device_id: str
