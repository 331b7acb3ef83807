"""``/v1/devices``: register (log in), rotate the token, revoke (log out), list."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from desmig_server.api.deps import Caller, Ctx, Token, Updater
from desmig_server.api.responses import error_responses
from desmig_server.auth import tokens
from desmig_server.auth.lineage import MAX_ADOPTED, LineageClaim
from desmig_server.auth.users import USERNAME_PATTERN, list_devices, register_device, revoke_device
from desmig_server.sync.models import JsonInt

router = APIRouter(prefix="/v1/devices", tags=["devices"])

DEVICE_ID_PATTERN = r"^[A-Za-z0-9-]{1,36}$"
# Any text but control characters (PostgreSQL text cannot hold NUL; none belong in a name).
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"


def iso_utc(epoch: float | None) -> str | None:
    """Epoch seconds as UTC ISO-8601 (what clients read); ``None`` stays ``None``."""
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


OP_SEQ_MAX = 2**62  # op numbers are BIGINT on the server


class EarlierDevice(BaseModel):
    model_config = ConfigDict(strict=True)

    device_id: str = Field(pattern=DEVICE_ID_PATTERN)
    base: JsonInt = Field(ge=0, le=OP_SEQ_MAX)


class LineageRequest(BaseModel):
    """The laptop database registering (``auth.lineage``): its registrations share one numbering."""

    model_config = ConfigDict(strict=True)

    id: str = Field(pattern=DEVICE_ID_PATTERN, description="made once by the laptop database, kept in its backups")
    base: JsonInt = Field(ge=0, le=OP_SEQ_MAX, description="where a lineage new to HQ starts (the laptop's numbering)")
    devices: list[EarlierDevice] = Field(default_factory=list, max_length=MAX_ADOPTED, description=(
        "this laptop's earlier devices on this server, adopted into the lineage if an older app registered them"))

    def claim(self) -> LineageClaim:
        return LineageClaim(self.id, self.base, tuple((d.device_id, d.base) for d in self.devices))


class RegisterRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    username: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    password: str = Field(min_length=1, max_length=1024)
    device_name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    device_id: str | None = Field(default=None, pattern=DEVICE_ID_PATTERN, description=(
        "log in again as this existing, unrevoked device of the user (its token expired): the device keeps "
        "its last_op_seq; omitted = register a new device. With lineage: only a wish, never a 404"))
    lineage: LineageRequest | None = Field(default=None, description=(
        "the laptop database: the named device carries on if it is the lineage's live one, else a new device"
        " continues the lineage's op numbering at its watermark (lineage_base) and the others are revoked"))


class RegisterReply(BaseModel):
    device_id: str
    token: str
    username: str
    role: str
    token_expires_at: str = Field(description="UTC ISO-8601; rotate before, or log in again after")
    lineage_base: int | None = Field(default=None, description=(
        "with a lineage: this device's op n is the lineage's op lineage_base + n; the lineage's ops up to"
        " lineage_base were applied under earlier devices (never send them again)"))


class RotateReply(BaseModel):
    device_id: str
    token: str
    token_expires_at: str


class RevokeRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    device_id: str | None = Field(default=None, pattern=DEVICE_ID_PATTERN)


class RevokeReply(BaseModel):
    device_id: str
    revoked: bool


class DeviceInfo(BaseModel):
    device_id: str
    username: str
    device_name: str
    revoked: bool
    created_at: str
    last_seen: str | None
    last_op_seq: int
    token_expires_at: str | None


class DeviceList(BaseModel):
    devices: list[DeviceInfo]


@router.post("/register", response_model=RegisterReply, responses=error_responses(404, 429))
def register(body: RegisterRequest, ctx: Ctx) -> RegisterReply:
    """Exchange a password for a per-device token (the only endpoint without a token)."""
    reg = register_device(ctx.db, ctx.passwords, ctx.settings, username=body.username, password=body.password,
                          device_name=body.device_name, device_id=body.device_id,
                          lineage=body.lineage.claim() if body.lineage else None)
    return RegisterReply(device_id=reg.device_id, token=reg.token, username=reg.username, role=reg.role,
                         token_expires_at=iso_utc(reg.token_expires_at) or "", lineage_base=reg.lineage_base)


@router.post("/rotate", response_model=RotateReply)
def rotate(caller: Updater, token: Token, ctx: Ctx) -> RotateReply:
    """Replace the calling device's token with a fresh one (fresh lifetime). Open to an app too
    old to sync, like hello: its token must stay alive until it has updated.

    The old token keeps working until the new one is first used (at most the rotation grace
    period), so if this reply is lost the client simply rotates again with the old token.
    """
    with ctx.db.write() as conn:  # re-checked under the row lock: concurrent rotations serialise
        issued = tokens.rotate(conn, token, ctx.settings, time.time())
    return RotateReply(device_id=issued.device_id, token=issued.token,
                       token_expires_at=iso_utc(issued.expires_at) or "")


@router.post("/revoke", response_model=RevokeReply, responses=error_responses(404))
def revoke(caller: Updater, ctx: Ctx, body: RevokeRequest | None = None) -> RevokeReply:
    """Revoke the calling device (default) or another device of the same user (HQ: any device);
    an app too old to sync may still log out."""
    device_id = body.device_id if body and body.device_id else caller.device_id
    with ctx.db.write() as conn:
        revoke_device(conn, device_id=device_id, actor_username=caller.username, actor_role=caller.role)
    return RevokeReply(device_id=device_id, revoked=True)


@router.get("", response_model=DeviceList)
def devices(
    caller: Caller,
    ctx: Ctx,
    username: Annotated[str | None, Query(pattern=USERNAME_PATTERN, description="HQ only: one user's")] = None,
) -> DeviceList:
    """The caller's own devices; HQ sees every user's (e.g. to revoke a stolen laptop's device)."""
    with ctx.db.read() as conn:
        rows = list_devices(conn, actor_username=caller.username, actor_role=caller.role, username=username)
    return DeviceList(devices=[DeviceInfo(
        device_id=r.device_id, username=r.username, device_name=r.device_name, revoked=bool(r.revoked),
        created_at=r.created_at, last_seen=r.last_seen, last_op_seq=int(r.last_op_seq),
        token_expires_at=iso_utc(r.token_expires_at)) for r in rows])
