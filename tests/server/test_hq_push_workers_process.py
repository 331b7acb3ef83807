"""Push workers in a real ``desmig-hq serve`` (issue 21 §2): a large push starts them and is
answered as usual; when the server is killed (SIGKILL: no shutdown code runs) or stopped, no
worker or fork server outlives it — fault tests and field servers kill servers all the time.
And ``DESMIG_HQ_PUSH_PROCESSES`` is read strictly."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from bench.hq import PASSWORD as BENCH_PASSWORD
from bench.hq import HqServer, add_users
from desmig_server.settings import PUSH_PROCESSES_ENV, Settings, default_push_processes
from desmig_testing.serve import descendants

from .support import V1, Device, household, member

pytestmark = pytest.mark.e2e


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (reaping it is its new parent's business)


def _push_large(server: HqServer) -> None:
    with httpx.Client(base_url=server.url, timeout=120) as client:
        body = client.post("/v1/devices/register", json={"username": "ofc", "password": BENCH_PASSWORD,
                                                          "device_name": "laptop"}).json()
        device = Device(client, "ofc", body["device_id"], body["token"])
        ops = []
        for n in range(300):
            ops += [device.op("households", f"h{n}", household()), device.op("members", f"m{n}", member(f"h{n}"))]
        results = device.push_ok(*ops)
        assert [r["status"] for r in results] == ["ok"] * 600


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_no_push_worker_outlives_its_server(how: signal.Signals, tmp_path: Path, hq_sqlite_template: Path) -> None:
    server = HqServer.sqlite(tmp_path, hq_sqlite_template)
    server.env[PUSH_PROCESSES_ENV] = "2"
    add_users(server.db_url, {"ofc": ("officer", [V1])})
    with server:
        assert server.proc is not None
        before = descendants(server.proc.pid)
        _push_large(server)
        workers = descendants(server.proc.pid) - before
        assert len(workers) >= 2, server.log_tail()  # the fork server and its workers
        os.kill(server.proc.pid, how)
        server.proc.wait(timeout=60)
        deadline = time.monotonic() + 20
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if _alive(pid)]


@pytest.mark.parametrize("value, expected", [("", None), ("0", 0), ("3", 3), (" 2 ", 2), ("64", 64)])
def test_push_processes_setting(value: str, expected: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PUSH_PROCESSES_ENV, value)
    got = Settings.from_env().push_prepare_processes
    assert got == (default_push_processes() if expected is None else expected)


@pytest.mark.parametrize("value", ["-1", "65", "1.5", "abc", "2e1", "１", "0x2", "+2"])
def test_push_processes_setting_refuses_anything_else(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PUSH_PROCESSES_ENV, value)
    with pytest.raises(ValueError, match=PUSH_PROCESSES_ENV):
        Settings.from_env()


def test_default_push_processes_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, serving, expected in ((1, 1, 0), (2, 1, 1), (8, 1, 4), (8, 2, 3), (8, 4, 1), (4, 4, 0), (2, 3, 0)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        assert default_push_processes(serving) == expected, (cores, serving)
