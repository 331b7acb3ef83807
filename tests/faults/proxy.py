"""A small TCP proxy on 127.0.0.1 that breaks HTTP exchanges on purpose.

Each client connection carries one request (the proxy rewrites ``Connection: close``), so the
response is simply everything the server sends until it closes. ``rule(method, path)`` picks an
action per request:

* ``None`` — pass through;
* ``"cut"`` — forward the whole request, wait until the server starts answering (it has
  committed), then reset the client connection: a response lost after commit;
* ``"truncate"`` — forward only half the body, then close both sides;
* a callable — forward the whole request, then call it (e.g. SIGKILL the server mid-push)
  and reset the client connection;
* ``("cut_after", n)`` — pass the first ``n`` bytes of the response (headers included), then
  reset the client connection: a download broken mid-transfer;
* ``("rewrite", fn)`` — read the whole response, send ``fn(response_bytes)`` instead (a
  corrupting cache or a man in the middle).

``heads`` keeps each request's header block (e.g. to see a ``Range`` header).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

Action = Any  # None | "cut" | "truncate" | Callable[[], None]


def _recv_until(sock: socket.socket, marker: bytes, limit: int = 1 << 20) -> tuple[bytes, bytes]:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the header ended")
        data += chunk
        if len(data) > limit:
            raise ConnectionError("header too long")
    head, _sep, rest = data.partition(marker)
    return head + marker, rest


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
        sock.close()
    except OSError:
        pass


class TcpProxy:
    def __init__(self, target_port: int, rule: Callable[[str, str], Action] | None = None) -> None:
        self.target_port = target_port
        self.rule = rule or (lambda _m, _p: None)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.log: list[tuple[str, str, str]] = []
        self.heads: list[str] = []
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            head, body = _recv_until(client, b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            length = 0
            kept = [lines[0]]
            for line in lines[1:]:
                if not line:
                    continue
                name = line.split(":", 1)[0].strip().lower()
                if name == "content-length":
                    length = int(line.split(":", 1)[1])
                if name in ("connection", "keep-alive"):
                    continue
                kept.append(line)
            kept.append("Connection: close")
            while len(body) < length:
                chunk = client.recv(65536)
                if not chunk:
                    raise ConnectionError("client went away")
                body += chunk
            request = ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1") + body
            action = self.rule(method, path.split("?")[0])
            self.heads.append(head.decode("latin-1"))
            self.log.append((method, path.split("?")[0], action if isinstance(action, str) else
                             str(action[0]) if isinstance(action, tuple) else ("hook" if action else "pass")))
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
            except OSError:
                _reset(client)  # the server is down: the client sees a refused/reset connection
                return
            if action == "truncate":
                upstream.sendall(request[: len(request) - max(1, length // 2)])
                _reset(upstream)
                _reset(client)
                return
            upstream.sendall(request)
            if callable(action):
                action()
                _reset(client)
                return
            if isinstance(action, tuple):
                self._pass_changed(upstream, client, action)
                return
            first = upstream.recv(65536)
            if action == "cut":
                _reset(client)
                return
            while first:
                client.sendall(first)
                first = upstream.recv(65536)
            client.close()
        except (OSError, ConnectionError, ValueError):
            _reset(client)
        finally:
            if upstream is not None:
                with contextlib.suppress(OSError):
                    upstream.close()


    @staticmethod
    def _pass_changed(upstream: socket.socket, client: socket.socket, action: tuple[str, Any]) -> None:
        kind, arg = action
        data = b""
        while chunk := upstream.recv(65536):
            data += chunk
            if kind == "cut_after" and len(data) >= arg:
                client.sendall(data[:arg])
                _reset(client)
                return
        client.sendall(arg(data) if kind == "rewrite" else data)
        client.close()


def times(action: Action, n: int, path_suffix: str = "/v1/sync/push") -> Callable[[str, str], Action]:
    """A rule applying ``action`` to the first ``n`` requests to ``path_suffix``."""
    left = [n]
    lock = threading.Lock()

    def rule(_method: str, path: str) -> Action:
        with lock:
            if path.endswith(path_suffix) and left[0] > 0:
                left[0] -= 1
                return action
        return None
    return rule
