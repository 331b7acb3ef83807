"""Smoke test of the officer's app bundle ``dist/desmig/`` (``make bundle``, packaging/desmig.spec).

The bundled executable runs in a clean environment — no venv, no PYTHONPATH, only ``HOME``,
``QT_QPA_PLATFORM=offscreen`` and ``DESMIG_PASSPHRASE`` (``env -i``) — the way it runs on an
officer's laptop with no Python: it creates an encrypted database, makes demo data, reports its
status, exports and imports a spreadsheet, and opens the GUI until the household list has painted
(``gui --smoke-exit``), then quits. Skipped when no bundle is built; ``scripts/test.sh`` (so CI)
builds it first, and rebuilds it when the sources changed. The same tests run on the Windows and
macOS runners of ``.github/workflows/bundle.yml``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "desmig"
EXE = BUNDLE / ("desmig.exe" if sys.platform == "win32" else "desmig")
PASSPHRASE = "kata-sandi-uji-bundle-1"  # synthetic
HOUSEHOLDS = 50

pytestmark = pytest.mark.skipif(not EXE.is_file(), reason=f"no bundle at {EXE}: build it with `make bundle` "
                                                          "(scripts/test.sh builds it before the suite)")


def clean_env(home: Path) -> dict[str, str]:
    """Only what an officer's session would have: no PATH, no venv, no PYTHON* variables."""
    env = {"HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "DESMIG_PASSPHRASE": PASSPHRASE}
    if sys.platform == "win32":  # Windows processes need these to start at all (sockets, temp files)
        import os

        env.update(SYSTEMROOT=os.environ.get("SYSTEMROOT", r"C:\Windows"), USERPROFILE=str(home),
                   TEMP=str(home), TMP=str(home), APPDATA=str(home / "AppData" / "Roaming"),
                   LOCALAPPDATA=str(home / "AppData" / "Local"))
    return env


def data_args(home: Path) -> list[str]:
    """The default data folder is the platform's user folder: under ``HOME`` on Linux and macOS
    (so the frozen platformdirs path is exercised); on Windows it comes from the shell API, not the
    environment, so the test names a folder rather than write into the runner's real profile."""
    return ["--data-dir", str(home / "data")] if sys.platform == "win32" else []


def data_dir(home: Path) -> Path:
    if sys.platform == "win32":
        return home / "data"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "desmig"
    return home / ".local" / "share" / "desmig"


def run(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(EXE), *data_args(home), *args], env=clean_env(home), cwd=home,
                          capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout)
    assert proc.returncode == 0, f"desmig {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def status(home: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run(home, "status", "--json").stdout)
    return result


@pytest.fixture(scope="module")
def officer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh HOME where the bundle has created an encrypted database with the demo households."""
    home = tmp_path_factory.mktemp("officer-home")
    out = run(home, "demo", "--households", str(HOUSEHOLDS)).stdout
    assert str(HOUSEHOLDS) in out
    return home


@pytest.fixture(scope="module")
def set_up_officer(officer: Path) -> Path:
    """The same HOME after the first-run wizard (an officer's name), so the GUI opens on the list."""
    from desmig_desktop.services.database import open_local
    from desmig_desktop.services.paths import Paths
    from desmig_desktop.store import settings

    db = open_local(Paths.resolve(data_dir(officer)), PASSPHRASE)
    try:
        settings.put(db, "officer_name", "Petugas Uji")
    finally:
        db.conn.close()
    return officer


def run_gui(home: Path, env: dict[str, str]) -> None:
    """``gui --smoke-exit``: the list paints with every demo household, then the app closes the
    way an officer's close does, logging no error."""
    log_path = data_dir(home) / "logs" / "desmig.log"
    before = log_path.stat().st_size if log_path.exists() else 0
    proc = subprocess.run([str(EXE), *data_args(home), "gui", "--smoke-exit"], env=env, cwd=home,
                          capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=120)
    assert proc.returncode == 0, f"gui exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    assert f"list painted: {HOUSEHOLDS} rows" in proc.stdout
    with open(log_path, encoding="utf-8") as fh:
        fh.seek(before)
        log = fh.read()
    assert "GUI closed" in log  # the shell's own shutdown ran: tasks stopped, database closed
    assert " ERROR " not in log and " CRITICAL " not in log, log[-3000:]


def test_demo_creates_an_encrypted_database(officer: Path) -> None:
    database = data_dir(officer) / "desmig.db"
    assert database.is_file()
    assert not database.read_bytes()[:16].startswith(b"SQLite format 3"), "the database is not encrypted"


def test_status_json_counts_the_demo_households(officer: Path) -> None:
    result = status(officer)
    assert result["households"] == HOUSEHOLDS
    assert result["members"] >= HOUSEHOLDS
    assert result["pending_ops"] > 0  # the demo households wait in the outbox


def test_xlsx_export_imports_into_a_new_laptop(officer: Path, tmp_path: Path) -> None:
    """openpyxl in the bundle: the full-NIK workbook re-imports into a second, new encrypted database."""
    sheet = tmp_path / "rumah-tangga.xlsx"
    run(officer, "export", "--format", "xlsx", "--full-nik", "--out", str(sheet))
    assert sheet.stat().st_size > 0
    other = tmp_path / "other-home"
    other.mkdir()
    run(other, "import", str(sheet))
    before, after = status(officer), status(other)
    for key in ("households", "members", "placements", "businesses"):
        assert after[key] == before[key], key


def test_gui_paints_the_household_list_and_quits_cleanly(set_up_officer: Path) -> None:
    run_gui(set_up_officer, clean_env(set_up_officer))


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("Xvfb") is None,
                    reason="needs Linux and Xvfb (make test installs it)")
def test_gui_on_an_x_display_uses_the_bundled_xcb_plugin(set_up_officer: Path) -> None:
    """What an Ubuntu laptop does: DISPLAY instead of QT_QPA_PLATFORM, so Qt loads the bundled xcb
    platform plugin and its libraries."""
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert xvfb.stdout is not None
        display = xvfb.stdout.readline().strip()
        assert display.isdigit(), "Xvfb did not start"
        env = clean_env(set_up_officer)
        del env["QT_QPA_PLATFORM"]
        env["DISPLAY"] = f":{display}"
        run_gui(set_up_officer, env)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=30)


def test_translations_and_subcommands_are_bundled(tmp_path: Path) -> None:
    """resources/i18n is found in the frozen app, and it takes every subcommand of ``desmig``
    (login and sync come from ``desmig_desktop.commands``)."""
    from desmig_desktop import cli

    proc = subprocess.run([str(EXE), *data_args(tmp_path), "--lang", "en", "import", str(tmp_path / "none.xlsx")],
                          env=clean_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "File not found" in proc.stderr, proc.stderr
    expected = set(cli.command_table())
    helptext = run(tmp_path, "--help").stdout
    assert {"gui", "demo", "status", "export", "import", "login", "sync"} <= expected
    missing = [name for name in expected if name not in helptext]
    assert not missing, f"subcommands missing from the bundle: {missing}"


def test_bundle_holds_no_server_test_or_unused_qt_parts() -> None:
    pytest.importorskip("PyInstaller", reason="reading the bundle's module archive needs PyInstaller")
    from PyInstaller.archive.readers import CArchiveReader

    try:
        modules = set(CArchiveReader(str(EXE)).open_embedded_archive("PYZ.pyz").toc)
    except Exception as exc:  # the archive's place in the executable differs by platform; Linux proves the spec
        if sys.platform.startswith("linux"):
            raise
        pytest.skip(f"cannot read the module archive of {EXE.name} here: {exc}")
    tops = {name.split(".")[0] for name in modules}
    assert "desmig_desktop.commands.sync" in modules and "desmig_desktop.ui.shell" in modules
    unwanted = {"desmig_server", "fastapi", "starlette", "uvicorn", "sqlalchemy", "psycopg", "argon2", "jinja2",
                "httpx", "pytest", "_pytest", "pytestqt", "hypothesis", "schemathesis", "selenium", "tests", "bench",
                "desmig_testing"}
    assert not tops & unwanted, sorted(tops & unwanted)
    files = [p.name for p in BUNDLE.rglob("*")]
    unused_qt = ("WebEngine", "Qml", "Quick", "3D", "Multimedia", "Pdf", "VirtualKeyboard")
    found = sorted(name for name in files if "Qt" in name and any(part in name for part in unused_qt))
    assert not found, found
