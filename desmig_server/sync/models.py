"""Wire models of the sync endpoints (also what /openapi.json documents).

The op, its result and the pulled record are ``desmig_desktop.domain.wire``'s shapes; these
models validate and document them, with the same enums (as ``Literal`` members, so the schema
stays an inline ``enum``), and ``tests/contract/test_wire_contract.py`` holds the two together.

Strict: a string where a number belongs is refused rather than guessed. Unknown keys are
ignored so a newer client may add keys (DESIGN §6: keys may be added, never renamed).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.wire import OpKind, OpStatus

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# ``[0-9]``, not ``\d``: the request validator's ``\d`` also matches other scripts' digits ("٣٢"),
# which no Kemendagri code holds.
VILLAGE_PATTERN = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
# "" or a whole Kemendagri code of any level (province PP, regency PP.KK, district PP.KK.CC, village)
REGION_PREFIX_PATTERN = r"^([0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?)?$"
# Largest value of a BIGINT column: a bigger cursor or sequence number is refused as invalid
# input rather than failing inside the database driver.
MAX_INT64 = 2**63 - 1
MAX_INT32 = 2**31 - 1  # conflicts.id is an INTEGER


def _integral(value: Any) -> Any:
    """``7.0`` is the integer 7 in JSON (RFC 8259 has one number type; JSON Schema counts it as an
    integer), so it is taken as 7; a fraction or a string is still refused by the strict check."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer as JSON defines it (see ``_integral``); strict otherwise.
JsonInt = Annotated[int, BeforeValidator(_integral)]


class PushOp(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    op_seq: JsonInt = Field(ge=1, le=MAX_INT64)
    # Published as the list of tables; any other name is answered 422 ``unknown_entity``.
    entity: str = Field(max_length=32, json_schema_extra={"enum": list[JsonValue](sorted(ENTITIES))})
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal[OpKind.UPSERT, OpKind.DELETE]
    base_version: JsonInt = Field(ge=0, le=MAX_INT64)
    fields: dict[str, Any]
    # Optional: the server computes it from the op itself (it always did, to
    # check it), so a client may leave it out — a third of a push body on a slow link. When
    # sent it must match (400 ``hash_mismatch``): an app that sends it keeps that check.
    op_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    # informational device time; no control characters (PostgreSQL text cannot hold NUL)
    captured_at: str | None = Field(default=None, max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$")
    # The questionnaire version the device validated the op under; the server validates it under
    # the same version (``desmig_server.questionnaires``). Absent: 1, as every app before versions.
    questionnaire_version: JsonInt = Field(default=1, ge=1, le=MAX_INT32)


class PushRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    device_id: str = Field(max_length=36)
    app_schema: JsonInt = Field(ge=-MAX_INT64, le=MAX_INT64)  # published with the server's window (api/openapi)
    ops: list[PushOp]
    # Answer plain "ok" results as runs (``PushReply.ok_runs``); an older server
    # ignores the key and answers every result in ``results``, which such a client still reads.
    compact: bool = False


class OpResult(BaseModel):
    op_seq: int
    # pruned: a replay of an op applied so long ago that its result is no longer kept (never re-applied)
    status: Literal[OpStatus.OK, OpStatus.MERGED, OpStatus.CONFLICT, OpStatus.REJECTED, OpStatus.PRUNED]
    version: int
    reason: str | None = None
    conflicts: list[dict[str, Any]] | None = None


class PushReply(BaseModel):
    last_op_seq: int
    results: list[OpResult]
    ok_runs: list[list[int]] | None = Field(default=None, description=(
        "only when the request asked `compact`: `[op_seq, version, n]` stands for n results `ok` of ops"
        " op_seq.. op_seq+n-1 with versions version.. version+n-1 (no reason, no conflicts); they are"
        " then not in `results`"))


class PulledRecord(BaseModel):
    entity: str
    id: str
    data: dict[str, Any]
    version: int
    deleted: bool
    server_seq: int
    moved_out: bool = Field(default=False, description=(
        "a move-out notice: the record left this scope at `server_seq` (= `version`); `data` is empty and"
        " `deleted` true. Drop a local copy older than `version`, with its children; nothing of it follows"))
    by: str | None = Field(default=None, description=(
        "username whose op last changed the record; absent for records not changed since the server learned it"))


class PullReply(BaseModel):
    records: list[PulledRecord]
    next: int
    more: bool
    last_op_seq: int


class ScopesPullReply(BaseModel):
    records: list[PulledRecord]
    cursors: dict[str, int] = Field(description=(
        "each scope this page read (complete or cut) and its cursor after it; scopes not reached are absent"))
    unfinished: list[str] = Field(description="scopes with more to read, in the order asked (the cut one first)")
    more: bool
    last_op_seq: int


class ReleaseAnnouncement(BaseModel):
    version: str
    min_version: str = Field(description="apps older than this may not push or pull (426); they still update")
    size: int
    sha256: str
    notes: str
    manifest: str = Field(description="the signed manifest (compact JSON text)")
    signature: str = Field(description="base64 Ed25519 signature of manifest by the HQ release key")
    url: str = Field(description="where to download the package (GET, Range supported)")


class HelloReply(BaseModel):
    server_time: str
    min_schema: int
    max_schema: int
    last_op_seq: int
    scopes: list[str]
    username: str
    role: str
    device_id: str
    token_expires_at: str | None = Field(default=None, description=(
        "UTC ISO-8601 expiry of the token this call used: rotate (POST /v1/devices/rotate) well before"))
    scope_seqs: dict[str, int] | None = Field(default=None, description=(
        "newest server_seq a pull of each scope could return (scopes without records left out); a client"
        " whose cursor has reached it may skip that pull. Absent for callers with many scopes"))
    conflict_seq: int = Field(default=0, description=(
        "newest conflict id in which this device's value lost (0: none); a client whose"
        " /v1/sync/conflicts cursor has reached it may skip that call"))
    update: ReleaseAnnouncement | None = Field(default=None, description=(
        "the newest published app release; absent when none was published"))
    resolution_seq: int = Field(default=0, description=(
        "newest resolution number of a conflict this device lost (0: none); a client whose"
        " /v1/sync/resolutions cursor has reached it may skip that call"))
    features: list[str] = Field(default_factory=list, description=(
        "protocol additions this server speaks: `changes` (GET /v1/sync/changes, several scopes per page,"
        " and the `own_after`/`own_through` window on pulls), `optional_op_hash`, `resolutions`,"
        " `questionnaire` (GET /v1/questionnaire, ops' `questionnaire_version`)"))
    questionnaire_version: int = Field(default=1, description=(
        "the current questionnaire version (GET /v1/questionnaire); a device on an older one fetches it"))


class LostWinner(BaseModel):
    role: str | None
    username: str | None


class LostValue(BaseModel):
    """A field where the caller device's value lost (``sync/lost``); the push result of the op
    that lost on arrival carries the same keys but the record's, ``mine``, ``op_seq``, ``status``."""

    id: int = Field(description="conflict id (the feed cursor)")
    entity: str
    record_id: str
    field: str = Field(description='questionnaire field, or "*" for a delete racing an edit')
    won: Literal[False]
    kind: Literal["conflict", "delete_edit"]
    mine: Any = Field(default=None, description="the losing value (this device's)")
    theirs: Any = Field(default=None, description="the winning value")
    winner: LostWinner
    rule: Literal["higher_role", "later_arrival", "delete_edit"]
    op_seq: int | None = Field(description="the op that lost on arrival; null when the value lost later")
    status: Literal["open", "resolved"]


class Resolution(BaseModel):
    id: int = Field(description="conflict id (as in /v1/sync/conflicts)")
    seq: int = Field(description="resolution number (the cursor)")


class ResolutionsReply(BaseModel):
    resolved: list[Resolution]
    next: int
    more: bool


class LostValuesReply(BaseModel):
    conflicts: list[LostValue]
    next: int
    more: bool


class HistoryEntry(BaseModel):
    id: int = Field(description="history row id (the `after` cursor); the fields one op changed share it")
    at: str = Field(description="server time (UTC) of the change")
    version: int = Field(description="record version the change produced")
    username: str
    device_id: str
    role: str
    op_seq: int | None = Field(description="the device's op; null for a change made by resolving a conflict")
    field: str = Field(description='questionnaire field, or "deleted" for deletion/revival')
    old_value: Any = None
    new_value: Any = None
    outcome: Literal["applied", "conflict_won", "conflict_lost", "cascade"]


class HistoryReply(BaseModel):
    entity: str
    id: str
    scope: str
    version: int | None
    deleted: bool | None
    history: list[HistoryEntry]
    next: int
    more: bool
