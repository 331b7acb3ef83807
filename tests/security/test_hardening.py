"""API hardening: security headers, request size caps, login lockout under concurrency, hostile values."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.responses import HTMLResponse

from desmig_server.api.headers import HSTS, HTML_CSP, JSON_CSP
from desmig_server.app import create_app
from desmig_server.auth.users import register_device
from desmig_server.errors import ApiError
from desmig_server.settings import Settings
from tests.server.conftest import open_hq
from tests.server.support import PASSWORD, V1, Device, Hq, household, make_op

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SMALL = dataclasses.replace(Settings.from_env(), max_body_bytes=4096, max_decompressed_bytes=8192)


def assert_security_headers(headers: Any, *, html: bool = False, https: bool = False) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == (HTML_CSP if html else JSON_CSP)
    if not html:
        assert headers["cache-control"] == "no-store"
    assert headers.get("strict-transport-security") == (HSTS if https else None)


@pytest.fixture
def officer(hq_app: Hq) -> Device:
    return hq_app.user_device("ofc", "officer", villages=[V1])


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/sync/hello", 200),
    ("GET", "/v1/sync/pull?scope=32.01.01.1001", 200),
    ("GET", "/v1/reference/kbli", 200),
    ("GET", "/openapi.json", 200),
    ("GET", "/v1/sync/pull?scope=33.02.01.2001", 403),
    ("GET", "/v1/nothing", 404),
    ("DELETE", "/v1/sync/hello", 405),
    ("GET", "/v1/sync/pull?since=-1&scope=32.01.01.1001", 422),
])
def test_every_api_reply_carries_the_security_headers(hq_app: Hq, officer: Device, method: str, path: str,
                                                      status: int) -> None:
    response = hq_app.client.request(method, path, headers=officer.headers)
    assert response.status_code == status
    assert_security_headers(response.headers)


def test_401_413_and_415_from_the_outer_layers_carry_them_too(db_url: str) -> None:
    for hq_app in open_hq(db_url, SMALL):
        assert_security_headers(hq_app.client.get("/v1/sync/hello").headers)
        big = hq_app.client.post("/v1/sync/push", content=b"x" * 5000, headers={"Content-Type": "application/json"})
        assert big.status_code == 413
        assert_security_headers(big.headers)
        br = hq_app.client.post("/v1/sync/push", content=b"{}", headers={"Content-Encoding": "br"})
        assert br.status_code == 415
        assert_security_headers(br.headers)


def test_a_500_carries_them_and_no_detail(db_url: str) -> None:
    app = create_app(db_url)

    def boom() -> None:
        raise RuntimeError("secret 3201014101900001")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500 and response.json() == {"error": "internal", "detail": None}
    assert_security_headers(response.headers)


def test_html_gets_a_restrictive_csp_unless_the_page_sets_its_own(db_url: str) -> None:
    app = create_app(db_url)
    app.add_api_route("/page", lambda: HTMLResponse("<p>hi</p>"))
    app.add_api_route("/own", lambda: HTMLResponse("<p>hi</p>", headers={
        "Content-Security-Policy": "default-src 'self'; script-src 'nonce-abc'"}))
    with TestClient(app) as client:
        page = client.get("/page")
        assert_security_headers(page.headers, html=True)
        assert "cache-control" not in page.headers  # the dashboard decides its own caching
        own = client.get("/own")
        assert own.headers["content-security-policy"] == "default-src 'self'; script-src 'nonce-abc'"
        assert own.headers.get_list("content-security-policy") == [own.headers["content-security-policy"]]


def test_hsts_only_over_https(hq_app: Hq, officer: Device) -> None:
    with TestClient(hq_app.client.app, base_url="https://testserver") as client:
        assert_security_headers(client.get("/v1/sync/hello", headers=officer.headers).headers, https=True)
    assert_security_headers(hq_app.client.get("/v1/sync/hello", headers=officer.headers).headers, https=False)


def test_no_interactive_docs_that_would_load_a_cdn(hq_app: Hq) -> None:
    assert hq_app.client.get("/docs").status_code == 404
    assert hq_app.client.get("/redoc").status_code == 404
    assert hq_app.client.get("/openapi.json").status_code == 200


def test_size_caps_hold_without_content_length(db_url: str) -> None:
    """A chunked body (no Content-Length) is cut off at the cap, not buffered whole."""
    for hq_app in open_hq(db_url, SMALL):
        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b"x" * 1000

        response = hq_app.client.post("/v1/sync/push", content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and response.json()["error"] == "body_too_large"
        lying = hq_app.client.post("/v1/sync/push", content=b"{}", headers={"Content-Length": "999999999"})
        assert lying.status_code in (400, 413)


def test_concurrent_guesses_cannot_outrun_the_lockout(hq_app: Hq) -> None:
    """20 parallel wrong passwords: at most the threshold of them get a password check."""
    hq_app.add_user("ofc", "officer", villages=[V1])
    outcomes: list[int] = []
    barrier = threading.Barrier(20)

    def guess() -> None:
        barrier.wait()
        try:
            register_device(hq_app.ctx.db, hq_app.ctx.passwords, hq_app.ctx.settings, username="ofc",
                            password="wrong-password", device_name="x")
            outcomes.append(200)
        except ApiError as exc:
            outcomes.append(exc.status)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(set(outcomes)) == [401, 429] and len(outcomes) == 20
    assert outcomes.count(401) <= hq_app.ctx.settings.lockout_threshold
    response = hq_app.client.post("/v1/devices/register", json={
        "username": "ofc", "password": PASSWORD, "device_name": "x"})
    assert response.status_code == 429  # the right password too, until the lock expires


def test_failed_logins_log_no_password_typed_as_a_username(hq_app: Hq, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for name in ("Rahasia Saya!23", "bad\nINFO forged line"):
        response = hq_app.client.post("/v1/devices/register", json={
            "username": name, "password": "x", "device_name": "x"})
        assert response.status_code in (401, 422)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Rahasia" not in logged and "forged" not in logged


def _push_raw(hq_app: Hq, dev: Device, fields_json: str) -> Any:
    """Push one household op whose fields are given as raw JSON text (NaN and 1e999 included)."""
    fields = json.loads(fields_json)
    op = make_op(dev.next_seq, "households", f"h{dev.next_seq}", fields)
    dev.next_seq += 1
    body = json.dumps({"device_id": dev.device_id, "app_schema": 1, "ops": [op]})
    body = body.replace(json.dumps(fields), fields_json)
    return hq_app.client.post("/v1/sync/push", content=body, headers={**dev.headers, "Content-Type": "application/json"})


@pytest.mark.parametrize("value", [
    '"a\\u0000b"', '"bell\\u0007"', '["x\\u0000"]', "NaN", "Infinity", "-Infinity", "1e999",
])
def test_values_no_record_may_hold_are_rejected_per_op(hq_app: Hq, officer: Device, value: str) -> None:
    """NUL (which PostgreSQL text refuses) and non-finite numbers (which no JSON reply can carry)
    are rejected per op — the queue moves on and the village's feed keeps working."""
    field = "latitude" if value[0] not in '"[' else ("notes" if value[0] == '"' else "hamlet")
    fields = dict(household())
    fields_json = json.dumps(fields)[:-1] + f', "{field}": {value}}}'
    response = _push_raw(hq_app, officer, fields_json)
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == "rejected"
    good = officer.op("households", "ok1", household())
    assert officer.push_ok(good)[0]["status"] == "ok"
    assert hq_app.client.get("/v1/sync/pull", params={"scope": V1}, headers=officer.headers).status_code == 200
    assert hq_app.client.get("/v1/reports", params={"level": "village"}, headers=officer.headers).status_code == 200


def test_unknown_field_names_with_control_characters_are_rejected_without_echo(hq_app: Hq, officer: Device) -> None:
    [result] = officer.push_ok(officer.op("households", "h1", {**household(), "bad\u0000key": 1}))
    assert result["status"] == "rejected" and "\u0000" not in result["reason"]
    [result] = officer.push_ok(officer.op("households", "h2", {**household(), "colour": "red"}))
    assert result["status"] == "rejected" and "colour" not in result["reason"]  # reported, never echoed
    assert result["reason"] == "Ada isian yang tidak dikenal."


@pytest.mark.parametrize("path", [
    f"/v1/sync/pull?scope={V1}&since={2**63}",
    f"/v1/sync/pull?scope={V1}&limit={2**70}",
    "/v1/conflicts?after=2147483648",
    f"/v1/records/households/h1/history?after={2**63}",
])
def test_out_of_range_numbers_are_invalid_input_not_server_errors(hq_app: Hq, officer: Device, path: str) -> None:
    response = hq_app.client.get(path, headers=officer.headers)
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("header", ["²".encode("latin-1"), b"1.0", b"-1", b"9" * 20])
def test_a_malformed_app_schema_header_is_invalid_input(hq_app: Hq, officer: Device, header: bytes) -> None:
    # "²" (sent as Latin-1, as HTTP allows) passes str.isdigit() but not int()
    response = hq_app.client.get("/v1/sync/hello", headers={**officer.headers, "X-Desmig-App-Schema": header})
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    ok = hq_app.client.get("/v1/sync/hello", headers={**officer.headers, "X-Desmig-App-Schema": " 1 "})
    assert ok.status_code == 200
