"""A real ``desmig-hq serve`` process on 127.0.0.1, for the sync, e2e and fault tests and for the
benchmarks, and the environment its child processes run in.

Nothing here talks to any network but 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def script(name: str) -> list[str]:
    """The installed console script next to this interpreter (the real entry point)."""
    path = Path(sys.executable).with_name(name)
    if path.exists():
        return [str(path)]
    module = {"desmig": "desmig_desktop.cli", "desmig-hq": "desmig_server.cli"}[name]
    return [sys.executable, "-c", f"import sys; from {module} import main; sys.exit(main())"]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` — its children, theirs, … (Linux ``/proc``; a server's push
    workers are children of its fork server)."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        for task in Path(f"/proc/{frontier.pop()}/task").glob("*"):
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue  # ended meanwhile
            for child in children:
                if child not in found:
                    found.add(child)
                    frontier.append(child)
    return found


def child_env(base: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The environment of a child process: ours without crash points or
    a data home, plus ``base`` (the caller's fast password hashing and retries) and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESMIG_CRASH")}
    env.pop("DESMIG_HOME", None)
    env.update(base)
    env.update(extra)
    return env


class ServeProcess:
    """``desmig-hq serve`` on 127.0.0.1 in a subprocess, its log in ``log_path``: ``start`` waits
    until it answers, ``stop`` sends SIGTERM (SIGKILL after ``stop_wait`` seconds). ``base_env``
    and ``env`` are added to the child's environment (``child_env``)."""

    def __init__(self, db_url: str, log_path: Path, *, port: int | None = None, workers: int = 1,
                 env: Mapping[str, str] | None = None, base_env: Mapping[str, str] | None = None,
                 stop_wait: float = 30.0, log_level: str = "warning") -> None:
        self.db_url = db_url
        self.log_level = log_level
        self.log_path = log_path
        self.port = port or free_port()
        self.workers = workers
        self.env = dict(env or {})
        self.base_env = dict(base_env or {})
        self.stop_wait = stop_wait
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Self:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [*script("desmig-hq"), "serve", "--db", self.db_url, "--host", "127.0.0.1", "--port", str(self.port),
                 "--log-level", self.log_level, "--workers", str(self.workers)],
                stdout=log, stderr=subprocess.STDOUT, env=child_env(self.base_env, **self.env),
                cwd=self.log_path.parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"HQ server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/v1/sync/hello", timeout=1).status_code == 401:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("HQ server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(self.stop_wait)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
