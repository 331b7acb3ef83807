"""Every printing command of ``desmig`` and ``desmig-hq`` stops quietly when its stdout's reader
has gone away (``desmig sync --json | head -c 10``): exit code 1, nothing on stderr, no
"unexpected error" or ``BrokenPipeError`` in the log — and the command's work is still done.

The pipe's read end is closed before the child starts printing, so every write fails
(deterministic; a ``head`` that reads a few bytes first may or may not leave room for the output).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.sync.fixtures import hq_module, hq_server, hq_template, make_device  # noqa: F401  (fixtures)
from tests.sync.harness import PASSWORD, VILLAGE_1, Device, HqServer, child_env, script

NOISE = ("Traceback", "Exception ignored", "BrokenPipe", "Broken pipe", "unexpected", "tak terduga")


def run_into_closed_pipe(cmd: list[str], *, stdin: str | None = None, cwd: Path | None = None) -> tuple[int, str]:
    """Run ``cmd`` with stdout a pipe nobody reads any more; its exit code and stderr."""
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(cmd, stdout=write_end, stderr=subprocess.PIPE, text=True, env=child_env(),
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, cwd=cwd)
    finally:
        os.close(write_end)
    os.close(read_end)  # the reader is gone before the child (still starting Python) prints anything
    _out, err = proc.communicate(stdin, timeout=180)
    return proc.returncode, err


def assert_quiet(code: int, err: str, log_text: str = "") -> None:
    assert code == 1, err
    assert err.strip() == "", err
    for word in NOISE:
        assert word not in log_text, log_text[-2000:]


@pytest.fixture
def device(hq_server: HqServer, make_device) -> Device:  # type: ignore[no-untyped-def]
    dev: Device = make_device("ana-laptop")
    dev.login(hq_server, "ana", password=PASSWORD)
    dev.create_household(VILLAGE_1, members=2)
    dev.close()
    return dev


def _log(dev: Device) -> str:
    path = dev.root / "logs" / "desmig.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


DESKTOP = [
    ["sync", "--json"],
    ["sync"],
    ["status", "--json"],
    ["status"],
    ["report", "--json"],
    ["report", "--level", "village"],
    ["demo", "--households", "2", "--villages", VILLAGE_1, "--seed", "3"],
    ["export", "--format", "jsonl", "--out", "{root}/out.jsonl"],
    ["import", "{root}/copy.jsonl"],
    ["login", "--server", "{url}", "--username", "ana", "--password-stdin", "--device-name", "laptop-2"],
    ["profiles"],
    ["profiles", "--json"],
    ["--help"],
    ["report", "--help"],
]


@pytest.mark.e2e
@pytest.mark.parametrize("args", DESKTOP, ids=" ".join)
def test_desktop_command_into_a_closed_pipe_exits_quietly(hq_server: HqServer, device: Device,
                                                         args: list[str]) -> None:
    argv = [a.format(root=device.root, url=hq_server.url) for a in args]
    if argv[0] == "import":  # a copy of the laptop's own records to read back
        made = device.cli("export", "--format", "jsonl", "--out", str(device.root / "copy.jsonl"), "--full-nik")
        assert made.returncode == 0, made.stderr
    stdin = PASSWORD + "\n" if "--password-stdin" in argv else None
    code, err = run_into_closed_pipe([*script("desmig"), "--data-dir", str(device.root), *argv], stdin=stdin)
    assert_quiet(code, err, _log(device))
    if argv[0] == "sync":  # the work was done even though nobody read its summary
        assert device.db.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] == 0
    elif argv[0] == "export":
        assert (device.root / "out.jsonl").stat().st_size > 0
    # control: the same command with a reader succeeds, so the case above really printed
    if argv[0] not in ("demo", "export", "import", "login"):
        done = device.cli(*argv)
        assert done.returncode == 0 and done.stdout, done.stderr


HQ = [
    ["report", "--json"],
    ["report", "--level", "village"],
    ["conflicts"],
    ["conflicts", "--json", "--status", "all"],
    ["user", "add", "wulan", "--role", "hq", "--password-stdin"],
    ["user", "passwd", "ana", "--password-stdin"],
    ["user", "disable", "budi"],
    ["user", "enable", "budi"],
    ["duplicates"],
    ["duplicates", "--json"],
    ["prune"],
    ["prune", "--json"],
    ["--help"],
]


@pytest.mark.e2e
@pytest.mark.parametrize("args", HQ, ids=" ".join)
def test_hq_command_into_a_closed_pipe_exits_quietly(hq_server: HqServer, args: list[str]) -> None:
    db = [] if args == ["--help"] else ["--db", hq_server.db_url]
    stdin = PASSWORD + "\n" if "--password-stdin" in args else None
    code, err = run_into_closed_pipe([*script("desmig-hq"), *args, *db], stdin=stdin, cwd=hq_server.db_path.parent)
    assert_quiet(code, err)
    if args[:2] == ["user", "add"]:
        assert hq_server.query("SELECT count(*) FROM users WHERE username = 'wulan'")[0][0] == 1
    elif args[:2] in (["user", "disable"], ["user", "enable"]):
        assert hq_server.query("SELECT disabled FROM users WHERE username = 'budi'")[0][0] == (args[1] == "disable")
