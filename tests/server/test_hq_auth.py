"""Authorization matrix (role × endpoint × own/other scope × token state), lockout, revocation."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from desmig_desktop.domain.ops import APP_SCHEMA
from desmig_server.app import create_app
from desmig_server.db import tables as t

from .conftest import TestClient, open_hq
from .support import PASSWORD, REGENCY, V1, V_OTHER, Device, Hq, household

ROLES = ("officer", "supervisor", "hq")
SCOPED = ("push", "pull", "reports", "conflicts", "resolve")
UNSCOPED = ("hello", "reference", "revoke")

# Expected status with a valid token: (endpoint, scope) -> per role. "own" is a village the
# role covers (V1: the officer's village, inside the supervisor's regency); "other" is a
# village of another province (only HQ covers it).
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("push", "own"): {"officer": 200, "supervisor": 200, "hq": 200},
    # an op outside the caller's scopes is rejected per op, never the whole push (DESIGN §4)
    ("push", "other"): {"officer": 200, "supervisor": 200, "hq": 200},
    ("pull", "own"): {"officer": 200, "supervisor": 200, "hq": 200},
    ("pull", "other"): {"officer": 403, "supervisor": 403, "hq": 200},
    ("reports", "own"): {"officer": 200, "supervisor": 200, "hq": 200},
    ("reports", "other"): {"officer": 403, "supervisor": 403, "hq": 200},
    ("conflicts", "own"): {"officer": 200, "supervisor": 200, "hq": 200},
    ("conflicts", "other"): {"officer": 403, "supervisor": 403, "hq": 200},
    ("resolve", "own"): {"officer": 403, "supervisor": 200, "hq": 200},
    # a conflict outside the caller's scopes reads as absent (404), so a refusal never tells it
    # exists elsewhere; an officer is refused by role (403) whatever the id
    ("resolve", "other"): {"officer": 403, "supervisor": 404, "hq": 200},
    ("hello", "-"): {"officer": 200, "supervisor": 200, "hq": 200},
    ("reference", "-"): {"officer": 200, "supervisor": 200, "hq": 200},
    ("revoke", "-"): {"officer": 200, "supervisor": 200, "hq": 200},
}


def _cases() -> Iterator[Any]:
    for (endpoint, scope), by_role in EXPECTED.items():
        for role in ROLES:
            yield pytest.param(role, endpoint, scope, "valid", by_role[role], id=f"{role}-{endpoint}-{scope}-valid")
    for role, endpoint, token in itertools.product(ROLES, (*SCOPED, *UNSCOPED), ("none", "garbage", "revoked")):
        scope = "own" if endpoint in SCOPED else "-"
        yield pytest.param(role, endpoint, scope, token, 401, id=f"{role}-{endpoint}-{token}")
    for role in ROLES:  # a valid token pushing under another device's id
        yield pytest.param(role, "push", "own", "wrong_device", 403, id=f"{role}-push-wrong_device")


@dataclass
class Matrix:
    hq: Hq
    devices: dict[str, Device]  # role -> its main device
    revoked: dict[str, Device]
    peers: dict[str, Device]  # role -> a second device of the same user
    writers: dict[str, tuple[Device, Device]] = field(default_factory=dict)  # scope -> two officer devices
    ids: Iterator[int] = field(default_factory=itertools.count)

    def conflict_in(self, village: str) -> int:
        """A fresh open conflict in ``village`` (two officer devices editing one field)."""
        first, second = self.writers[village]
        rid = f"c{next(self.ids)}"
        [created] = first.push_ok(first.op("households", rid, household(village)))
        first.push_ok(first.op("households", rid, {"head_name": "satu"}))
        second.push_ok(second.op("households", rid, {"head_name": "dua"}, base=created["version"]))
        return int(self.hq.conflicts()[-1]["id"])


@pytest.fixture(scope="module")
def matrix(module_db_url: str) -> Iterator[Matrix]:
    for hq_app in open_hq(module_db_url):
        hq_app.add_user("ofc", "officer", villages=[V1])
        hq_app.add_user("ofc2", "officer", villages=[V_OTHER])
        hq_app.add_user("sup", "supervisor", regency=REGENCY)
        hq_app.add_user("pusat", "hq")
        users = {"officer": "ofc", "supervisor": "sup", "hq": "pusat"}
        devices = {role: hq_app.register(name) for role, name in users.items()}
        peers = {role: hq_app.register(name, device_name="peer") for role, name in users.items()}
        revoked = {role: hq_app.register(name, device_name="lost") for role, name in users.items()}
        for dev in revoked.values():
            assert hq_app.client.post("/v1/devices/revoke", headers=dev.headers).status_code == 200
        m = Matrix(hq_app, devices, revoked, peers)
        m.writers = {V1: (hq_app.register("ofc", device_name="w1"), hq_app.register("ofc", device_name="w2")),
                     V_OTHER: (hq_app.register("ofc2", device_name="w1"), hq_app.register("ofc2", device_name="w2"))}
        yield m


def _call(m: Matrix, role: str, endpoint: str, village: str, headers: dict[str, str],
          device: Device) -> httpx.Response:
    client = m.hq.client
    if endpoint == "push":
        op = device.op("households", f"x{next(m.ids)}", household(village))
        return client.post("/v1/sync/push", headers=headers,
                           json={"device_id": device.device_id, "app_schema": 1, "ops": [op]})
    if endpoint == "pull":
        return client.get("/v1/sync/pull", params={"scope": village}, headers=headers)
    if endpoint == "reports":
        return client.get("/v1/reports", params={"level": "village", "prefix": village}, headers=headers)
    if endpoint == "conflicts":
        return client.get("/v1/conflicts", params={"scope": village}, headers=headers)
    if endpoint == "resolve":
        conflict_id = m.conflict_in(village) if headers.get("Authorization", "").startswith("Bearer ") else 1
        return client.post(f"/v1/conflicts/{conflict_id}/resolve", json={"action": "dismiss"}, headers=headers)
    if endpoint == "hello":
        return client.get("/v1/sync/hello", headers=headers)
    if endpoint == "reference":
        return client.get("/v1/reference/kbli", headers=headers)
    assert endpoint == "revoke"
    return client.post("/v1/devices/revoke", headers=headers)


@pytest.mark.parametrize(("role", "endpoint", "scope", "token", "expected"), list(_cases()))
def test_authorization_matrix(matrix: Matrix, role: str, endpoint: str, scope: str, token: str,
                              expected: int) -> None:
    m = matrix
    village = V_OTHER if scope == "other" else V1
    device = m.devices[role]
    if endpoint == "revoke" and token == "valid":
        device = m.hq.register({"officer": "ofc", "supervisor": "sup", "hq": "pusat"}[role], device_name="tmp")
    headers = {
        "valid": device.headers, "wrong_device": m.peers[role].headers, "none": {},
        "garbage": {"Authorization": "Bearer not-a-token"}, "revoked": m.revoked[role].headers,
    }[token]
    before = m.hq.snapshot() if expected != 200 and endpoint != "resolve" else None
    response = _call(m, role, endpoint, village, headers, device)
    assert response.status_code == expected, response.text
    if expected != 200:
        assert response.json()["error"] == {401: "unauthorized", 403: "forbidden", 404: "not_found"}[expected]
        if before is not None:
            assert m.hq.snapshot() == before  # refused requests store nothing
        if expected == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    elif endpoint == "revoke":
        assert m.hq.client.get("/v1/sync/hello", headers=device.headers).status_code == 401
    elif endpoint == "push":
        [result] = response.json()["results"]
        outside = scope == "other" and role != "hq"
        assert result["status"] == ("rejected" if outside else "ok"), result
        if outside:
            assert result["reason"] == "Di luar desa tugas Anda." and result["version"] == 0


def test_officer_pull_and_conflicts_only_show_own_scopes(hq_app: Hq) -> None:
    mine = hq_app.user_device("ofc", "officer", villages=[V1])
    theirs = hq_app.user_device("ofc2", "officer", villages=[V_OTHER])
    boss = hq_app.user_device("pusat", "hq")
    for dev, village in ((mine, V1), (theirs, V_OTHER)):
        rid = "h" + village.replace(".", "")
        [c] = dev.push_ok(dev.op("households", rid, household(village)))
        dev.push_ok(dev.op("households", rid, {"head_name": "satu"}))
        boss.push_ok(boss.op("households", rid, {"head_name": "pusat"}, base=c["version"]))
    listed = hq_app.client.get("/v1/conflicts", headers=mine.headers).json()["conflicts"]
    assert {c["scope"] for c in listed} == {V1}
    assert len(hq_app.client.get("/v1/conflicts", headers=boss.headers).json()["conflicts"]) == 2


def test_hello_lists_each_roles_scopes(hq_app: Hq) -> None:
    officer = hq_app.user_device("ofc", "officer", villages=[V_OTHER, V1])
    supervisor = hq_app.user_device("sup", "supervisor", regency=REGENCY)
    boss = hq_app.user_device("pusat", "hq")
    assert officer.hello()["scopes"] == [V1, V_OTHER]
    sup_scopes = supervisor.hello()["scopes"]
    assert V1 in sup_scopes and all(s.startswith(REGENCY + ".") for s in sup_scopes) and len(sup_scopes) > 100
    officer.push_ok(officer.op("households", "h1", household(V_OTHER)))
    hello = boss.hello()
    assert hello["scopes"] == [V_OTHER] and hello["role"] == "hq"
    # apps of the first questionnaire still sync; the newest is this code's (issue 20 §7 added fields)
    assert (hello["min_schema"], hello["max_schema"], hello["last_op_seq"]) == (1, APP_SCHEMA, 0)


def test_too_old_app_schema_gets_426(hq_app: Hq) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    response = dev.push(dev.op("households", "h1", household()), app_schema=0)
    assert response.status_code == 426 and response.json()["error"] == "upgrade_required"
    headers = {**dev.headers, "X-Desmig-App-Schema": "0"}
    assert hq_app.client.get(f"/v1/sync/pull?scope={V1}", headers=headers).status_code == 426
    # hello still answers (with the schema window): an app too old to sync learns of the update there
    hello = hq_app.client.get("/v1/sync/hello", headers=headers)
    assert hello.status_code == 200 and hello.json()["min_schema"] == 1
    assert hq_app.record("households", "h1") is None


def _login(client: Any, username: str, password: str) -> httpx.Response:
    return client.post("/v1/devices/register", json={"username": username, "password": password,
                                                      "device_name": "x"})


@pytest.mark.parametrize("username", ["ofc", "no-such-user"])
def test_lockout_after_five_failures_is_shared_by_all_workers(hq_app: Hq, db_url: str, username: str) -> None:
    hq_app.add_user("ofc", "officer", villages=[V1])
    for _ in range(5):
        assert _login(hq_app.client, username, "wrong-password").status_code == 401
    # a second app on the same database stands for another stateless worker
    with TestClient(create_app(db_url)) as other_worker:
        response = _login(other_worker, username, PASSWORD)
    assert response.status_code == 429
    assert response.json()["error"] == "locked_out" and int(response.headers["retry-after"]) > 0
    with hq_app.ctx.db.write() as conn:  # fifteen minutes later
        conn.execute(update(t.login_attempts).values(locked_until=0))
    expected = 200 if username == "ofc" else 401
    assert _login(hq_app.client, username, PASSWORD).status_code == expected


def test_failures_outside_the_window_do_not_accumulate(hq_app: Hq) -> None:
    hq_app.add_user("ofc", "officer", villages=[V1])
    for _ in range(4):
        assert _login(hq_app.client, "ofc", "wrong-password").status_code == 401
    with hq_app.ctx.db.write() as conn:  # the first four were more than fifteen minutes ago
        conn.execute(update(t.login_attempts).values(window_started_at=0))
    assert _login(hq_app.client, "ofc", "wrong-password").status_code == 401
    assert _login(hq_app.client, "ofc", PASSWORD).status_code == 200


def test_success_resets_the_failure_count(hq_app: Hq) -> None:
    hq_app.add_user("ofc", "officer", villages=[V1])
    for _ in range(4):
        _login(hq_app.client, "ofc", "wrong-password")
    assert _login(hq_app.client, "ofc", PASSWORD).status_code == 200
    for _ in range(4):
        assert _login(hq_app.client, "ofc", "wrong-password").status_code == 401
    assert _login(hq_app.client, "ofc", PASSWORD).status_code == 200


def test_tokens_and_passwords_are_stored_hashed(hq_app: Hq) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    with hq_app.ctx.db.read() as conn:
        stored = conn.execute(t.devices.select()).one()
        user = conn.execute(t.users.select()).one()
    assert dev.token not in stored.token_hash and len(stored.token_hash) == 64
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_hq_may_revoke_another_users_device_but_an_officer_may_not(hq_app: Hq) -> None:
    victim = hq_app.user_device("ofc", "officer", villages=[V1])
    other = hq_app.user_device("ofc2", "officer", villages=[V1])
    boss = hq_app.user_device("pusat", "hq")
    body = {"device_id": victim.device_id}
    assert hq_app.client.post("/v1/devices/revoke", json=body, headers=other.headers).status_code == 404
    assert victim.hello()["username"] == "ofc"
    assert hq_app.client.post("/v1/devices/revoke", json=body, headers=boss.headers).status_code == 200
    assert hq_app.client.get("/v1/sync/hello", headers=victim.headers).status_code == 401
