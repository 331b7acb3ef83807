"""A full demo + login + sync run at DEBUG leaves no NIK, KK or phone number in any log file."""

from __future__ import annotations

import re
from pathlib import Path

from tests.sync.fixtures import hq_module, hq_server, hq_template, make_device  # noqa: F401  (fixtures)
from tests.sync.harness import PASSWORD, VILLAGE_1, VILLAGE_2

SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
PHONE = re.compile(r"(?<!\d)(?:\+?62|0)8\d{7,11}(?!\d)")


def test_debug_logs_hold_no_identifiers(hq_server, make_device) -> None:  # type: ignore[no-untyped-def]
    device = make_device("ana-laptop")
    made = device.cli("-v", "demo", "--households", "40", "--villages", f"{VILLAGE_1},{VILLAGE_2}", "--seed", "11")
    assert made.returncode == 0, made.stderr
    login = device.cli("-v", "login", "--server", hq_server.url, "--username", "ana", "--password-stdin",
                       stdin=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    synced = device.cli("-v", "sync", "--json")
    assert synced.returncode == 0, synced.stderr
    assert '"pending_ops": 0' in synced.stdout
    niks = [r[0] for r in device.db.execute("SELECT nik FROM members WHERE nik IS NOT NULL")]
    assert len(niks) > 80
    logs = [*Path(device.root, "logs").glob("*.log*"), hq_server.log_path]
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)
    assert "DEBUG" in text  # the run really logged at DEBUG
    assert not SIXTEEN_DIGITS.search(text)
    assert not PHONE.search(text)
    assert not any(n in text for n in niks)
