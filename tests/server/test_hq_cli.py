"""``desmig-hq`` subcommands, run in-process through ``main()`` (the e2e test runs the real process)."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from desmig_server.cli import main

from .support import PASSWORD, V1, Hq, household


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


def test_user_add_then_register(hq_app: Hq, db_url: str) -> None:
    code, out = run("user", "add", "ani", "--role", "officer", "--villages", f"{V1},32.01.01.1002",
                    "--password-stdin", "--db", db_url, stdin=PASSWORD + "\n")
    assert (code, out) == (0, "user ani added (officer)\n")
    dev = hq_app.register("ani")
    assert dev.hello()["scopes"] == [V1, "32.01.01.1002"]
    code, _ = run("user", "add", "sup", "--role", "supervisor", "--regency", "32.01", "--password-stdin",
                  "--db", db_url, stdin=PASSWORD)
    assert code == 0 and hq_app.register("sup").hello()["role"] == "supervisor"


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["ani", "--role", "officer", "--villages", V1], "short\n", "at least 8"),
    (["ani", "--role", "officer", "--villages", "3201011001"], PASSWORD, "not Kemendagri village codes"),
    (["ani", "--role", "officer"], PASSWORD, "needs --villages"),
    (["sup", "--role", "supervisor", "--regency", "99.99"], PASSWORD, "not a Kemendagri regency"),
    (["boss", "--role", "hq", "--villages", V1], PASSWORD, "no --villages"),
    (["Ani Budi", "--role", "hq"], PASSWORD, "username must be"),
])
def test_user_add_failures_exit_1_with_one_line(db_url: str, capsys: pytest.CaptureFixture[str], args: list[str],
                                                stdin: str, message: str) -> None:
    code, _ = run("user", "add", *args, "--password-stdin", "--db", db_url, stdin=stdin)
    err = capsys.readouterr().err
    assert code == 1 and message in err and err.count("\n") == 1 and err.startswith("desmig-hq: ")


def test_duplicate_user_exits_1(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("user", "add", "boss", "--role", "hq", "--password-stdin", "--db", db_url, stdin=PASSWORD)[0] == 0
    assert run("user", "add", "boss", "--role", "hq", "--password-stdin", "--db", db_url, stdin=PASSWORD)[0] == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    [],
    ["frobnicate"],
    ["user", "add", "ani", "--password-stdin"],  # --role missing
    ["user", "add", "ani", "--role", "admin", "--password-stdin"],
    ["report", "--level", "planet"],
    ["serve", "--port", "eighty"],
    ["conflicts", "--status", "maybe"],
])
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: desmig-hq" in capsys.readouterr().err


def test_report_json_matches_the_api(hq_app: Hq, db_url: str) -> None:
    boss = hq_app.user_device("pusat", "hq")
    boss.push_ok(boss.op("households", "h1", household()), boss.op("households", "h2", household("33.02.01.2001")))
    code, out = run("report", "--level", "regency", "--json", "--db", db_url)
    assert code == 0
    body = json.loads(out)
    api = hq_app.client.get("/v1/reports", params={"level": "regency"}, headers=boss.headers).json()
    assert body == api
    assert [(r["code"], r["households"]) for r in body["rows"]] == [("32.01", 1), ("33.02", 1)]
    assert body["totals"]["households"] == 2
    code, out = run("report", "--level", "village", "--prefix", "33", "--db", db_url)
    assert code == 0 and "33.02.01.2001" in out and V1 not in out and "TOTAL" in out


def test_report_bad_prefix_exits_1(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("report", "--level", "province", "--prefix", "32.01", "--db", db_url)[0] == 1
    assert "invalid_request" in capsys.readouterr().err


def test_conflicts_json(hq_app: Hq, db_url: str) -> None:
    assert json.loads(run("conflicts", "--json", "--db", db_url)[1]) == {"conflicts": []}
    a = hq_app.user_device("ani", "officer", villages=[V1])
    b = hq_app.user_device("bayu", "officer", villages=[V1])
    [created] = a.push_ok(a.op("households", "h1", household()))
    a.push_ok(a.op("households", "h1", {"head_name": "Versi A"}))
    b.push_ok(b.op("households", "h1", {"head_name": "Versi B"}, base=created["version"]))
    code, out = run("conflicts", "--json", "--db", db_url)
    [conflict] = json.loads(out)["conflicts"]
    assert code == 0
    assert (conflict["field"], conflict["losing_value"], conflict["winning_value"]) == ("head_name", "Versi A",
                                                                                         "Versi B")
    assert (conflict["loser"]["username"], conflict["winner"]["username"], conflict["status"]) == ("ani", "bayu",
                                                                                                  "open")
    code, out = run("conflicts", "--db", db_url)
    assert code == 0 and "1 conflict(s)" in out


def test_default_db_is_hq_db_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       hq_sqlite_template: Path) -> None:
    shutil.copy(hq_sqlite_template, tmp_path / "hq.db")  # a migrated DB: skip loading regions again
    monkeypatch.chdir(tmp_path)
    assert run("user", "add", "boss", "--role", "hq", "--password-stdin", stdin=PASSWORD)[0] == 0
    with sqlite3.connect(tmp_path / "hq.db") as conn:
        assert conn.execute("SELECT role FROM users WHERE username = 'boss'").fetchall() == [("hq",)]


def test_unreachable_database_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/missing-dir/hq.db"
    assert run("conflicts", "--db", url)[0] == 1
    err = capsys.readouterr().err
    assert err.startswith("desmig-hq: ") and err.count("\n") == 1


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_tunes_the_collector_of_serving_processes_only(monkeypatch: pytest.MonkeyPatch, db_url: str,
                                                            workers: str) -> None:
    """``serve`` freezes the loaded web stack and raises the collector's thresholds before serving
    (a single process) or in each worker's app factory; merely building an app changes nothing."""
    import gc

    import uvicorn

    from desmig_server import app as app_module

    served: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append((app, kw)))
    monkeypatch.delenv(app_module.DB_URL_ENV, raising=False)  # serve sets it for its workers; undone after
    before = gc.get_threshold()
    try:
        app_module.create_app(db_url).state.hq.db.dispose()
        assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)
        assert run("serve", "--db", db_url, "--workers", workers, "--port", "0")[0] == 0
        [(app, options)] = served
        if workers == "2":
            assert (app, options["factory"]) == ("desmig_server.app:serving_app_from_env", True)
            assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)
            monkeypatch.setenv(app_module.DB_URL_ENV, db_url)
            app = app_module.serving_app_from_env()
        assert gc.get_threshold() == app_module.GC_THRESHOLD and gc.get_freeze_count() > 0
        app.state.hq.db.dispose()  # type: ignore[attr-defined]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
