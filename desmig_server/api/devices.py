"""``POST /v1/devices/register`` and ``POST /v1/devices/revoke``."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from desmig_server.api.deps import Caller, Ctx
from desmig_server.auth.users import register_device, revoke_device

router = APIRouter(prefix="/v1/devices", tags=["devices"])


class RegisterRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    device_name: str = Field(min_length=1, max_length=100)


class RegisterReply(BaseModel):
    device_id: str
    token: str
    username: str
    role: str


class RevokeRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    device_id: str | None = Field(default=None, max_length=36)


class RevokeReply(BaseModel):
    device_id: str
    revoked: bool


@router.post("/register", response_model=RegisterReply,
             responses={401: {"description": "wrong credentials"}, 429: {"description": "locked out"}})
def register(body: RegisterRequest, ctx: Ctx) -> RegisterReply:
    """Exchange a password for a per-device token (the only endpoint without a token)."""
    reg = register_device(ctx.db, ctx.passwords, ctx.settings, username=body.username, password=body.password,
                          device_name=body.device_name)
    return RegisterReply(device_id=reg.device_id, token=reg.token, username=reg.username, role=reg.role)


@router.post("/revoke", response_model=RevokeReply)
def revoke(caller: Caller, ctx: Ctx, body: RevokeRequest | None = None) -> RevokeReply:
    """Revoke the calling device (default) or another device of the same user (HQ: any device)."""
    device_id = body.device_id if body and body.device_id else caller.device_id
    with ctx.db.write() as conn:
        revoke_device(conn, device_id=device_id, actor_username=caller.username, actor_role=caller.role)
    return RevokeReply(device_id=device_id, revoked=True)
