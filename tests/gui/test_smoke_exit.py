"""``desmig gui --smoke-exit`` (the bundle smoke test's hook) from the venv: the real start path
runs to a painted household list, says how many rows it shows, and closes the way an officer's
close does. tests/bundle runs the same flag on the bundled executable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desmig_desktop.store import settings
from desmig_desktop.store.db import connect

ROOT = Path(__file__).resolve().parents[2]


def _desmig(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "DESMIG_ALLOW_PLAINTEXT": "1"}
    env.pop("DESMIG_PASSPHRASE", None)
    return subprocess.run([sys.executable, str(ROOT / "packaging" / "desmig_entry.py"), "--data-dir", str(data),
                           *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("households", [0, 7])
def test_smoke_exit_paints_the_list_then_quits(data_dir: Path, households: int) -> None:
    if households:
        assert _desmig(data_dir, "demo", "--households", str(households)).returncode == 0
    db = connect(data_dir / "desmig.db")
    settings.put(db, "officer_name", "Petugas Uji")
    db.conn.close()
    proc = _desmig(data_dir, "gui", "--smoke-exit")
    assert proc.returncode == 0, proc.stderr
    assert f"list painted: {households} rows" in proc.stdout
    assert "GUI closed" in (data_dir / "logs" / "desmig.log").read_text(encoding="utf-8")


def test_smoke_exit_is_not_in_the_help(tmp_path: Path) -> None:
    proc = _desmig(tmp_path, "gui", "--help")
    assert proc.returncode == 0 and "usage:" in proc.stdout
    assert "smoke" not in proc.stdout
