"""The protocol client against a tiny scripted HTTP server: wire format, retries, error kinds."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from desmig_desktop.domain.ops import APP_SCHEMA
from desmig_desktop.sync.client import SyncClient, make_retry, make_session
from desmig_desktop.sync.errors import ErrorKind, SyncError
from tests.sync.harness import free_port

HELLO = {"server_time": "2026-01-01T00:00:00Z", "min_schema": 1, "max_schema": APP_SCHEMA, "last_op_seq": 0,
         "scopes": ["35.01.01.2001"]}


class Script:
    """Per path, a queue of replies: (status, body dict, headers) or "hangup" / ("sleep", s, reply)."""

    def __init__(self) -> None:
        self.replies: dict[str, deque[Any]] = {}
        self.seen: list[dict[str, Any]] = []

    def on(self, path: str, *replies: Any) -> None:
        self.replies.setdefault(path, deque()).extend(replies)


@pytest.fixture
def fake() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def _handle(self) -> None:
            path = self.path.split("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(gzip.decompress(raw)) if self.headers.get("Content-Encoding") == "gzip" else None
            script.seen.append({"path": self.path, "headers": dict(self.headers), "body": body, "raw": raw})
            queue = script.replies.get(path)
            reply = queue.popleft() if queue else (200, HELLO, {})
            if isinstance(reply, tuple) and reply[0] == "sleep":
                time.sleep(reply[1])
                reply = reply[2]
            if reply == "hangup":  # read the request, answer nothing: a lost response
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            status, payload, headers = reply
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()


def client(url: str, **kw: Any) -> SyncClient:
    return SyncClient(url, "tok-123", session=make_session(make_retry(0.001)), **kw)


def test_push_is_gzip_json_with_bearer_token(fake) -> None:
    url, script = fake
    script.on("/v1/sync/push", (200, {"last_op_seq": 2, "results": [
        {"op_seq": 1, "status": "ok", "version": 7}, {"op_seq": 2, "status": "conflict", "version": 8,
                                                     "conflicts": [{"field": "name", "won": False}]}]}, {}))
    ops = [{"op_seq": 1, "entity": "households", "id": "h1", "kind": "upsert", "base_version": 0,
            "fields": {"head_name": "Siti Aminah"}, "op_hash": "0" * 64, "captured_at": "x"}]
    reply = client(url).push("dev-1", 1, ops)
    seen = script.seen[-1]
    assert seen["headers"]["Content-Encoding"] == "gzip" and seen["headers"]["Authorization"] == "Bearer tok-123"
    assert seen["body"] == {"device_id": "dev-1", "app_schema": 1, "ops": ops, "compact": True}
    outcomes = reply.outcomes(base=10)
    assert [(o.op_seq, o.status, o.version) for o in outcomes] == [(11, "ok", 7), (12, "conflict", 8)]
    assert outcomes[1].clashes == (("name", False),)


def test_a_compact_push_reply_stands_for_each_ok_result(fake) -> None:
    """Issue 21 §1: plain "ok" results come as runs ``[op_seq, version, n]``; each op still gets its outcome."""
    url, script = fake
    script.on("/v1/sync/push", (200, {"last_op_seq": 6, "ok_runs": [[1, 20, 3], [5, 30, 2]], "results": [
        {"op_seq": 4, "status": "rejected", "version": 0, "reason": "x"}]}, {}),
        (200, {"last_op_seq": 1, "ok_runs": [[1, 2]], "results": []}, {}))
    outcomes = client(url).push("dev-1", 1, []).outcomes(base=100)
    assert sorted((o.op_seq, o.status, o.version) for o in outcomes) == [
        (101, "ok", 20), (102, "ok", 21), (103, "ok", 22), (104, "rejected", 0), (105, "ok", 30), (106, "ok", 31)]
    with pytest.raises(SyncError):
        client(url).push("dev-1", 1, [])  # a malformed run is a protocol error, never a guess


def test_5xx_and_429_are_retried_by_the_transport(fake) -> None:
    url, script = fake
    script.on("/v1/sync/hello", (503, {"error": "busy"}, {}), (429, {}, {"Retry-After": "0"}), (200, HELLO, {}))
    assert client(url).hello().scopes == ("35.01.01.2001",)
    assert len(script.seen) == 3


def test_a_lost_response_is_retried_even_for_post(fake) -> None:
    url, script = fake
    script.on("/v1/sync/push", "hangup", (200, {"last_op_seq": 0, "results": []}, {}))
    assert client(url).push("d", 1, []).last_op_seq == 0
    assert [s["path"] for s in script.seen] == ["/v1/sync/push", "/v1/sync/push"]
    assert script.seen[0]["raw"] == script.seen[1]["raw"]  # the very same (idempotent) body


def test_persistent_5xx_becomes_a_server_error(fake) -> None:
    url, script = fake
    script.on("/v1/sync/hello", *[(502, {}, {})] * 10)
    with pytest.raises(SyncError) as err:
        client(url).hello()
    assert err.value.kind is ErrorKind.SERVER and err.value.status == 502
    assert len(script.seen) == 4  # 1 + 3 status retries: bounded, no storm


@pytest.mark.parametrize(("status", "body", "kind", "attr"), [
    (401, {"error": "unauthorized"}, ErrorKind.AUTH, None),
    (403, {"error": "forbidden", "detail": {"scope": "35.01.01.2009"}}, ErrorKind.AUTH, None),
    (426, {"error": "upgrade_required"}, ErrorKind.TOO_OLD, None),
    (413, {"error": "body_too_large"}, ErrorKind.SERVER, "too_large"),
    (409, {"error": "gap", "detail": {"last_op_seq": 41}}, ErrorKind.SERVER, "gap"),
    (409, {"error": "replay_mismatch", "detail": {"op_seq": 3}}, ErrorKind.AUTH, "device_mismatch"),
    (400, {"error": "bad_gzip"}, ErrorKind.SERVER, None),
])
def test_http_statuses_map_to_error_kinds(fake, status, body, kind, attr) -> None:
    url, script = fake
    script.on("/v1/sync/push", (status, body, {}))
    with pytest.raises(SyncError) as err:
        client(url).push("d", 1, [])
    assert err.value.kind is kind and err.value.status in (status, None)
    if attr == "too_large":
        assert err.value.too_large
    elif attr == "gap":
        assert err.value.code == "gap" and err.value.server_watermark == 41
    elif attr == "device_mismatch":
        assert err.value.code == "device_mismatch"


def test_register_wrong_password_and_lockout_are_auth_errors_without_retry(fake) -> None:
    url, script = fake
    script.on("/v1/devices/register", (401, {"error": "unauthorized"}, {}), (429, {"error": "locked"}, {"Retry-After": "900"}))
    c = SyncClient(url)
    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(SyncError) as err:
            c.register("ana", "x", "laptop")
        assert err.value.kind is ErrorKind.AUTH and time.monotonic() - started < 5
    assert len(script.seen) == 2


def test_unreachable_server_is_a_network_error(fake) -> None:
    port = free_port()
    with pytest.raises(SyncError) as err:
        client(f"http://127.0.0.1:{port}").hello()
    assert err.value.kind is ErrorKind.NETWORK and err.value.unreachable


def test_read_timeout_is_flagged_so_the_engine_can_halve_its_batch(fake) -> None:
    url, script = fake
    script.on("/v1/sync/push", *[("sleep", 0.6, (200, {"last_op_seq": 0, "results": []}, {}))] * 5)
    with pytest.raises(SyncError) as err:
        client(url, timeout=(2, 0.2)).push("d", 1, [])
    assert err.value.kind is ErrorKind.NETWORK and err.value.timeout


def test_lost_value_detail_is_parsed_and_a_malformed_one_is_a_server_error(fake) -> None:
    url, script = fake
    lost = {"field": "rw", "won": False, "id": 9, "kind": "conflict", "theirs": "011", "rule": "higher_role",
            "winner": {"role": "hq", "username": "pusat"}}
    script.on("/v1/sync/push", (200, {"last_op_seq": 1, "results": [
        {"op_seq": 1, "status": "conflict", "version": 8, "conflicts": [lost, {"field": "rt", "won": True}]}]}, {}))
    [outcome] = client(url).push("dev-1", 1, []).outcomes(base=10)
    assert outcome.clashes == (("rw", False), ("rt", True))
    [detail] = outcome.lost
    assert (detail.server_id, detail.field, detail.theirs, detail.winner_role, detail.winner_user, detail.rule) == (
        9, "rw", "011", "hq", "pusat", "higher_role")
    script.on("/v1/sync/conflicts", (200, {"conflicts": [{**lost, "entity": "households", "record_id": "h1",
                                                         "mine": "003", "op_seq": 4, "status": "open"}],
                                           "next": 9, "more": False}, {}))
    page = client(url).lost_values(0, 10, base=10)
    assert (page.next, page.more, page.items[0].op_seq, page.items[0].mine) == (9, False, 14, "003")
    for bad in ([{"field": "rw", "won": False, "id": "9"}], "nope", [{"won": False, "id": 9}]):
        script.on("/v1/sync/push", (200, {"last_op_seq": 1, "results": [
            {"op_seq": 1, "status": "conflict", "version": 8, "conflicts": bad}]}, {}))
        with pytest.raises(SyncError) as err:
            client(url).push("dev-1", 1, [])
        assert err.value.kind is ErrorKind.SERVER
    script.on("/v1/sync/conflicts", (200, {"conflicts": [lost], "next": 9, "more": False}, {}))  # no record
    with pytest.raises(SyncError):
        client(url).lost_values(0, 10, base=0)


def test_a_200_with_the_wrong_shape_is_a_server_error(fake) -> None:
    url, script = fake
    script.on("/v1/sync/pull", (200, {"records": "nope"}, {}), (200, b"<html>", {}))
    for _ in range(2):
        with pytest.raises(SyncError) as err:
            client(url).pull("35.01.01.2001", 0, 10)
        assert err.value.kind is ErrorKind.SERVER
