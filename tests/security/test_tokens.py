"""Device tokens: expiry, rotation (with a lost reply), revocation, logging in again as the same device."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from desmig_server.db import tables as t
from desmig_server.settings import DAY, Settings
from tests.server.conftest import open_hq
from tests.server.support import PASSWORD, V1, Device, Hq, household


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hello(hq_app: Hq, token: str) -> httpx.Response:
    return hq_app.client.get("/v1/sync/hello", headers=bearer(token))


def rotate(hq_app: Hq, token: str) -> httpx.Response:
    return hq_app.client.post("/v1/devices/rotate", headers=bearer(token))


def rotated(hq_app: Hq, token: str) -> str:
    response = rotate(hq_app, token)
    assert response.status_code == 200, response.text
    new: str = response.json()["token"]
    return new


def device_row(hq_app: Hq, device_id: str) -> Any:
    with hq_app.ctx.db.read() as conn:
        return conn.execute(select(t.devices).where(t.devices.c.device_id == device_id)).one()


def set_device(hq_app: Hq, device_id: str, **values: Any) -> None:
    with hq_app.ctx.db.write() as conn:
        conn.execute(update(t.devices).where(t.devices.c.device_id == device_id).values(**values))


def assert_expired(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "token_expired"
    assert response.headers["www-authenticate"].startswith("Bearer")


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"


@pytest.fixture
def officer(hq_app: Hq) -> Device:
    return hq_app.user_device("ofc", "officer", villages=[V1])


def test_register_and_hello_tell_when_the_token_expires(hq_app: Hq) -> None:
    hq_app.add_user("ofc", "officer", villages=[V1])
    body = hq_app.client.post("/v1/devices/register", json={
        "username": "ofc", "password": PASSWORD, "device_name": "laptop"}).json()
    assert body["token_expires_at"].endswith("Z")
    assert hello(hq_app, body["token"]).json()["token_expires_at"] == body["token_expires_at"]
    row = device_row(hq_app, body["device_id"])
    assert row.token_expires_at > time.time() + 89 * DAY and row.prev_token_hash is None


@pytest.fixture
def short_lived(db_url: str) -> Iterator[Hq]:
    """A server whose tokens live 50 ms: the "short value in tests"."""
    yield from open_hq(db_url, Settings(argon2_fast=True, token_ttl_s=0.05))


def test_an_expired_token_gets_401_token_expired_everywhere(short_lived: Hq) -> None:
    hq_app = short_lived
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    with hq_app.ctx.db.write() as conn:  # rather than sleeping: the clock has passed the expiry
        conn.execute(update(t.devices).values(token_expires_at=t.devices.c.token_expires_at - 1))
    before = hq_app.snapshot()
    assert_expired(hello(hq_app, dev.token))
    assert_expired(dev.push(dev.op("households", "h1", household())))
    assert_expired(hq_app.client.get("/v1/sync/pull", params={"scope": V1}, headers=dev.headers))
    assert_expired(rotate(hq_app, dev.token))  # an expired token cannot buy itself a new one
    assert hq_app.snapshot() == before
    again = hq_app.register("ofc")  # logging in again with the password is the way back
    assert hello(hq_app, again.token).status_code == 200


def test_expiry_is_the_configured_lifetime(db_url: str) -> None:
    for hq_app in open_hq(db_url, Settings(argon2_fast=True, token_ttl_s=7 * DAY)):
        hq_app.add_user("ofc", "officer", villages=[V1])
        before = time.time()
        dev = hq_app.register("ofc")
        after = time.time()
        expires = device_row(hq_app, dev.device_id).token_expires_at
        assert before + 7 * DAY <= expires <= after + 7 * DAY
        renewed = time.time()
        rotated(hq_app, dev.token)
        assert device_row(hq_app, dev.device_id).token_expires_at >= renewed + 7 * DAY


def test_settings_read_the_lifetime_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESMIG_HQ_TOKEN_TTL_DAYS", "30")
    monkeypatch.setenv("DESMIG_HQ_TOKEN_GRACE_SECONDS", "600")
    settings = Settings.from_env()
    assert (settings.token_ttl_s, settings.token_rotation_grace_s) == (30 * DAY, 600)
    monkeypatch.setenv("DESMIG_HQ_TOKEN_TTL_DAYS", "0")
    with pytest.raises(ValueError, match="DESMIG_HQ_TOKEN_TTL_DAYS"):
        Settings.from_env()
    monkeypatch.setenv("DESMIG_HQ_TOKEN_TTL_DAYS", "nan")
    with pytest.raises(ValueError):
        Settings.from_env()


def test_rotation_gives_a_fresh_token_and_the_old_one_dies_at_its_first_use(hq_app: Hq, officer: Device) -> None:
    old = officer.token
    reply = rotate(hq_app, old).json()
    new = reply["token"]
    assert new != old and reply["device_id"] == officer.device_id and reply["token_expires_at"]
    assert hello(hq_app, old).status_code == 200  # not used yet: the old one still works
    assert hello(hq_app, new).status_code == 200  # first use of the new one...
    assert_unauthorized(hello(hq_app, old))  # ...ends the old one
    assert device_row(hq_app, officer.device_id).prev_token_hash is None
    assert hello(hq_app, new).status_code == 200


def test_a_lost_rotation_reply_costs_nothing(hq_app: Hq, officer: Device) -> None:
    old = officer.token
    lost = rotated(hq_app, old)  # the reply never reached the laptop
    grace = device_row(hq_app, officer.device_id).prev_token_valid_until
    # the laptop still holds the old token: it keeps syncing and rotates again
    assert officer.push(officer.op("households", "h1", household())).status_code == 200
    received = rotated(hq_app, old)
    assert device_row(hq_app, officer.device_id).prev_token_valid_until == grace  # no extension by retrying
    assert_unauthorized(hello(hq_app, lost))  # the unused token was replaced, never to work again
    assert hello(hq_app, received).status_code == 200
    assert_unauthorized(hello(hq_app, old))
    # the device is the same: its watermark carried on
    assert hello(hq_app, received).json()["last_op_seq"] == 1


def test_a_replaced_token_stops_at_the_end_of_the_grace_period(hq_app: Hq, officer: Device) -> None:
    old = officer.token
    new = rotated(hq_app, old)
    set_device(hq_app, officer.device_id, prev_token_valid_until=1.0)  # grace period over
    assert_expired(hello(hq_app, old))
    assert_expired(rotate(hq_app, old))
    assert hello(hq_app, new).status_code == 200


def test_grace_never_outlives_the_old_tokens_own_expiry(db_url: str) -> None:
    for hq_app in open_hq(db_url, Settings(argon2_fast=True, token_rotation_grace_s=30 * DAY)):
        dev = hq_app.user_device("ofc", "officer", villages=[V1])
        expiry = time.time() + 10 * DAY  # sooner than the 30-day grace period
        set_device(hq_app, dev.device_id, token_expires_at=expiry)
        rotated(hq_app, dev.token)
        assert device_row(hq_app, dev.device_id).prev_token_valid_until == pytest.approx(expiry)


def test_revocation_ends_both_the_new_and_the_replaced_token(hq_app: Hq, officer: Device) -> None:
    old = officer.token
    new = rotated(hq_app, old)
    assert hq_app.client.post("/v1/devices/revoke", headers=bearer(old)).status_code == 200
    for token in (old, new):
        assert_unauthorized(hello(hq_app, token))
        assert_unauthorized(rotate(hq_app, token))


def test_tokens_are_stored_only_hashed_after_rotation(hq_app: Hq, officer: Device) -> None:
    new = rotated(hq_app, officer.token)
    row = device_row(hq_app, officer.device_id)
    stored = " ".join(str(v) for v in row)
    assert officer.token not in stored and new not in stored
    assert len(row.token_hash) == len(row.prev_token_hash) == 64


def _login(hq_app: Hq, username: str, **extra: Any) -> httpx.Response:
    return hq_app.client.post("/v1/devices/register", json={
        "username": username, "password": PASSWORD, "device_name": "laptop", **extra})


def test_logging_in_again_as_the_same_device_keeps_its_op_numbering(hq_app: Hq, officer: Device) -> None:
    officer.push_ok(officer.op("households", "h1", household()))
    set_device(hq_app, officer.device_id, token_expires_at=1.0)  # months offline: the token expired
    assert_expired(hello(hq_app, officer.token))
    response = _login(hq_app, "ofc", device_id=officer.device_id)
    assert response.status_code == 200, response.text
    assert response.json()["device_id"] == officer.device_id
    assert_unauthorized(hello(hq_app, officer.token))  # the old token is gone
    officer.token = response.json()["token"]
    assert officer.hello()["last_op_seq"] == 1
    officer.push_ok(officer.op("households", "h2", household()))  # op 2 continues the same log
    with hq_app.ctx.db.read() as conn:
        assert conn.execute(select(t.devices.c.device_id)).scalars().all() == [officer.device_id]


@pytest.mark.parametrize("whose", ["another user's", "revoked", "unknown"])
def test_logging_in_again_refuses_a_device_that_is_not_the_users(hq_app: Hq, whose: str) -> None:
    mine = hq_app.user_device("ofc", "officer", villages=[V1])
    theirs = hq_app.user_device("ofc2", "officer", villages=[V1])
    device_id = {"another user's": theirs.device_id, "revoked": mine.device_id,
                 "unknown": "00000000-0000-0000-0000-000000000000"}[whose]
    if whose == "revoked":
        assert hq_app.client.post("/v1/devices/revoke", headers=mine.headers).status_code == 200
    response = _login(hq_app, "ofc", device_id=device_id)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert hello(hq_app, theirs.token).status_code == 200  # untouched
    assert _login(hq_app, "ofc").status_code == 200  # a refused device id is not a failed login


def test_a_wrong_password_cannot_take_over_a_device(hq_app: Hq, officer: Device) -> None:
    response = hq_app.client.post("/v1/devices/register", json={
        "username": "ofc", "password": "wrong-password", "device_name": "x", "device_id": officer.device_id})
    assert_unauthorized(response)
    assert hello(hq_app, officer.token).status_code == 200


def test_devices_list_shows_own_devices_and_hq_sees_all(hq_app: Hq, officer: Device) -> None:
    other = hq_app.user_device("ofc2", "officer", villages=[V1])
    boss = hq_app.user_device("pusat", "hq")
    mine = hq_app.client.get("/v1/devices", headers=officer.headers).json()["devices"]
    assert [d["device_id"] for d in mine] == [officer.device_id]
    assert hq_app.client.get("/v1/devices", params={"username": "ofc2"}, headers=officer.headers).json() == {
        "devices": []}
    everyone = hq_app.client.get("/v1/devices", headers=boss.headers).json()["devices"]
    assert {d["username"] for d in everyone} == {"ofc", "ofc2", "pusat"}
    theirs = hq_app.client.get("/v1/devices", params={"username": "ofc2"}, headers=boss.headers).json()["devices"]
    assert [d["device_id"] for d in theirs] == [other.device_id]
    assert "token" not in str(theirs).replace("token_expires_at", "")
