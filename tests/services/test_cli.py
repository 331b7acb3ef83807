"""The ``desmig`` command: figures agree, bad input gives a one-line error and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desmig_desktop.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> Any:
    code, out, _err = run(capsys, "--data-dir", str(data_dir), *args, "--json")
    assert code == 0
    return json.loads(out)


def test_demo_then_status_and_report_agree(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data-dir", str(data_dir), "demo", "--households", "1000", "--seed", "5")
    assert code == 0 and "1000" in out
    status = as_json(capsys, data_dir, "status")
    assert status["households"] == 1000 and status["pending_ops"] > 1000 and status["last_sync_at"] is None
    assert set(status) >= {"households", "members", "placements", "businesses", "pending_ops", "open_conflicts",
                           "last_sync_at"}
    for level in ("province", "regency", "district", "village"):
        report = as_json(capsys, data_dir, "report", "--level", level)
        totals = report["totals"]
        assert report["level"] == level
        assert totals["households"] == status["households"] and totals["members"] == status["members"]
        # status counts every business record; the report, active ones and closed ones apart
        assert totals["businesses"] + totals["businesses_closed"] == status["businesses"]
        assert sum(totals["businesses_by_kbli"].values()) == totals["businesses"]
        assert sum(r["households"] for r in report["rows"]) == 1000
        assert all(len(r["code"]) == {"province": 2, "regency": 5, "district": 8, "village": 13}[level]
                   for r in report["rows"])
    assert 0 < totals["households_with_business"] <= totals["businesses"]


def test_status_names_the_questionnaire_version_the_database_is_on(data_dir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from desmig_desktop.store import questionnaire_store
    from desmig_desktop.store.db import connect
    from tests.sync.qversions import v2_document

    assert as_json(capsys, data_dir, "status")["questionnaire_version"] == 1  # bundled until a sync applies one
    db = connect(data_dir / "desmig.db")
    questionnaire_store.apply_document(db, v2_document())  # what a sync does when HQ published version 2
    db.conn.close()
    assert as_json(capsys, data_dir, "status")["questionnaire_version"] == 2
    code, out, _err = run(capsys, "--data-dir", str(data_dir), "status")
    assert code == 0 and "questionnaire_version: 2" in out


def _files(data_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in data_dir.iterdir() if p.is_file()}


@pytest.mark.parametrize("args, fragment", [
    (["demo", "--households", "5", "--villages", "32.01.05.9999"], "32.01.05.9999"),
    (["demo", "--households", "5", "--villages", "3201052003"], "3201052003"),
    (["import", "/nonexistent/file.jsonl"], "tidak ditemukan"),
])
def test_bad_input_fails_with_one_line_and_writes_nothing(data_dir: Path, capsys: pytest.CaptureFixture[str],
                                                         args: list[str], fragment: str) -> None:
    before = as_json(capsys, data_dir, "status")
    code, _out, err = run(capsys, "--data-dir", str(data_dir), *args)
    assert code == 1 and fragment in err and err.count("\n") == 1
    assert as_json(capsys, data_dir, "status") == before


def test_invalid_nik_import_writes_nothing(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        {"entity": "households", "id": "h1", "data": {"village_code": "32.01.05.2003", "head_name": "Budi",
                                                      "visited_on": "2026-01-02", "consent": True}},
        {"entity": "members", "id": "m1", "data": {"household_id": "h1", "name": "Budi", "sex": "L",
                                                   "relationship": "kepala", "migration_status": "bukan",
                                                   "nik": "3201050512900000"}},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, _out, err = run(capsys, "--data-dir", str(data_dir), "import", str(path))
    assert code == 1 and "baris 2, kolom nik" in err and err.count("\n") == 1
    assert as_json(capsys, data_dir, "status")["households"] == 0


@pytest.mark.parametrize("args", [["--bogus"], ["demo"], ["demo", "--households", "-3"], ["report", "--level", "moon"],
                                  ["export", "--format", "pdf", "--out", "x"], ["frobnicate"]])
def test_usage_errors_exit_2(data_dir: Path, args: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--data-dir", str(data_dir), *args])
    assert info.value.code == 2


def test_console_script_and_data_dir_env(tmp_path: Path, template_db: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "desmig.db").write_bytes(template_db.read_bytes())
    env = {"DESMIG_HOME": str(home), "PATH": "/usr/bin:/bin", "DESMIG_ALLOW_PLAINTEXT": "1"}
    done = subprocess.run([sys.executable, "-m", "desmig_desktop.cli", "status", "--json"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["households"] == 0
    assert (home / "logs" / "desmig.log").exists()
    english = subprocess.run([sys.executable, "-m", "desmig_desktop.cli", "--lang", "en", "import", "/nope"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert english.returncode == 1 and english.stderr.strip() == "desmig: File not found: /nope"
