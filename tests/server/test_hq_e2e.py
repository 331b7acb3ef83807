"""End to end: ``desmig-hq serve`` as a real process on 127.0.0.1, driven over HTTP."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import httpx
import pytest

from desmig_server.cli import main

from .support import PASSWORD, V1, household, make_op, member, serve


@pytest.mark.e2e
def test_register_push_pull_over_http(db_url: str, tmp_path: Path) -> None:
    assert main(["user", "add", "ani", "--role", "officer", "--villages", V1, "--password-stdin", "--db", db_url],
                stdin=io.StringIO(PASSWORD), stdout=io.StringIO()) == 0
    with serve(db_url, tmp_path / "server.log") as base, httpx.Client(base_url=base, timeout=30) as client:
        reg = client.post("/v1/devices/register", json={"username": "ani", "password": PASSWORD,
                                                        "device_name": "laptop"})
        assert reg.status_code == 200, reg.text
        auth = {"Authorization": f"Bearer {reg.json()['token']}"}
        ops = [make_op(1, "households", "h1", household()), make_op(2, "members", "m1", member("h1"))]
        body = gzip.compress(json.dumps({"device_id": reg.json()["device_id"], "app_schema": 1, "ops": ops}).encode())
        pushed = client.post("/v1/sync/push", content=body, headers={
            **auth, "Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["last_op_seq"] == 2
        assert [r["status"] for r in pushed.json()["results"]] == ["ok", "ok"]
        pulled = client.get("/v1/sync/pull", params={"scope": V1}, headers={**auth, "Accept-Encoding": "gzip"})
        assert pulled.status_code == 200 and pulled.headers.get("content-encoding") == "gzip"
        assert [(r["entity"], r["id"]) for r in pulled.json()["records"]] == [("households", "h1"), ("members", "m1")]
        assert client.get("/v1/sync/hello", headers=auth).json()["last_op_seq"] == 2
        openapi = client.get("/openapi.json").json()
        assert {"/v1/sync/push", "/v1/sync/pull", "/v1/devices/register", "/v1/reports"} <= set(openapi["paths"])
        assert client.get("/v1/sync/hello").status_code == 401
