"""Several officers on one laptop: profile names, ``--profile``, ``desmig profiles``, and a laptop
that used Desmig before profiles existed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from desmig_desktop.cli import main
from desmig_desktop.errors import KnownError
from desmig_desktop.services.profiles import DEFAULT, NAME_MAX, WINDOWS_RESERVED, ProfileHome, check_name, remember
from desmig_desktop.store import settings
from desmig_desktop.store.db import connect

VILLAGE = "32.01.05.2001"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("DESMIG_HOME", str(root))
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def add_profile(home: Path, name: str, template: Path, officer: str = "") -> Path:
    """A profile as ``desmig profile add`` leaves it, from the template (creating a DB takes ~1 s)."""
    paths = ProfileHome(home).create(name)
    shutil.copy(template, paths.database)
    if officer:
        db = connect(paths.database)
        settings.put(db, "officer_name", officer)
        settings.put(db, "villages", [VILLAGE])
        remember(paths, db)
        db.conn.close()
    return paths.root


# -- names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, name", [
    ("ana", "ana"), ("Ana", "ana"), ("  budi-2  ", "budi-2"), ("petugas_1", "petugas_1"), ("7desa", "7desa"),
    ("a" * NAME_MAX, "a" * NAME_MAX), ("con1", "con1"), ("console", "console"), ("default", "default"),
])
def test_valid_profile_names(typed: str, name: str) -> None:
    assert check_name(typed) == name


@pytest.mark.parametrize("typed, fragment", [
    ("", "kosong"), ("   ", "kosong"),
    ("a" * (NAME_MAX + 1), "terlalu panjang"),
    ("../ana", "hanya boleh"), ("ana/budi", "hanya boleh"), ("ana\\budi", "hanya boleh"), ("..", "hanya boleh"),
    (".ana", "hanya boleh"), ("ana.", "hanya boleh"), ("ana.txt", "hanya boleh"), ("-ana", "hanya boleh"),
    ("_ana", "hanya boleh"), ("ana budi", "hanya boleh"), ("ana:1", "hanya boleh"), ("ana*", "hanya boleh"),
    ("a\"b", "hanya boleh"), ("a<b>", "hanya boleh"), ("a|b", "hanya boleh"), ("a?b", "hanya boleh"),
    ("siti\u00e9", "hanya boleh"), ("\u0430na", "hanya boleh"),  # é, Cyrillic а that looks like a
    ("ana\x00", "hanya boleh"), ("a\nb", "hanya boleh"), ("ｃｏｎ", "hanya boleh"),  # full-width
    ("CON", "nama khusus di Windows"), ("nul", "nama khusus di Windows"), ("Aux", "nama khusus di Windows"),
    ("prn", "nama khusus di Windows"), ("com1", "nama khusus di Windows"), ("LPT9", "nama khusus di Windows"),
    ("com0", "nama khusus di Windows"), ("conin$", "hanya boleh"),
])
def test_unsafe_profile_names_are_refused_in_bahasa(typed: str, fragment: str) -> None:
    with pytest.raises(KnownError) as info:
        check_name(typed)
    assert fragment in str(info.value)


@hsettings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40),
                 st.text(alphabet="abcnulonpr019AZ-_. /\\:*?<>|$\"\x00\u212a\u0130", max_size=40)))
def test_an_accepted_name_is_always_one_plain_folder_inside_profiles(text: str) -> None:
    """Whatever is typed: either refused, or a lower-case name that stays one folder below ``profiles/``."""
    try:
        name = check_name(text)
    except KnownError:
        return
    home = Path("/srv/desmig-home")
    assert 1 <= len(name) <= NAME_MAX and name == name.lower() and name.isascii()
    assert name.split(".")[0] not in WINDOWS_RESERVED and not name.endswith((".", " "))
    assert not set(name) & set("/\\:*?\"<>|. \t\n\r\x00")
    if name != DEFAULT:
        target = ProfileHome(home).paths_of(name).root
        assert target.parent == home / "profiles" and target.name == name


# -- the CLI ----------------------------------------------------------------------------------

def test_profile_add_creates_its_own_database_then_profile_selects_it(home: Path, capsys: Any) -> None:
    code, out, err = run(capsys, "profile", "add", "Ana", "--officer", "Ana Petugas")
    assert code == 0 and err == "" and "desmig --profile ana" in out
    assert (home / "profiles" / "ana" / "desmig.db").stat().st_size > 0
    code, out, _err = run(capsys, "--profile", "ana", "demo", "--households", "3", "--villages", VILLAGE)
    assert code == 0
    code, out, _err = run(capsys, "--profile", "ANA", "status", "--json")
    assert code == 0 and json.loads(out)["households"] == 3
    # The default profile (the home itself) is another database: it holds none of ana's households.
    code, out, _err = run(capsys, "status", "--json")
    assert code == 0 and json.loads(out)["households"] == 0
    code, out, _err = run(capsys, "--profile", "default", "status", "--json")
    assert code == 0 and json.loads(out)["households"] == 0
    assert (home / "profiles" / "ana" / "logs" / "desmig.log").exists()
    code, _out, err = run(capsys, "profile", "add", "ana")
    assert code == 1 and "sudah ada" in err


def test_profiles_lists_names_officers_villages_and_last_sync_but_nothing_else(
        home: Path, template_db: Path, capsys: Any) -> None:
    add_profile(home, "siti", template_db, officer="Siti Aminah")
    add_profile(home, "budi", template_db, officer="Budi Santoso")
    code, out, _err = run(capsys, "profiles", "--json")
    assert code == 0
    listed = json.loads(out)
    assert listed["home"] == str(home)
    assert [p["name"] for p in listed["profiles"]] == ["budi", "siti"]  # no database at the home root: no "default"
    siti = listed["profiles"][1]
    assert siti["officer_name"] == "Siti Aminah" and siti["villages"] == [{"code": VILLAGE, "name": "Cijayanti"}]
    assert siti["last_sync_at"] is None and siti["has_database"] is True
    info = json.loads((home / "profiles" / "siti" / "profile.json").read_text(encoding="utf-8"))
    assert set(info) == {"officer_name", "villages", "last_sync_at"}  # display info only: no token, NIK, passphrase
    code, out, _err = run(capsys, "profiles")
    assert code == 0 and out.splitlines()[1].split("\t") == ["siti", "Siti Aminah", "Cijayanti", "belum pernah sinkron"]


@pytest.mark.parametrize("name", ["../ana", "con", "ana/..", "a" * 40, "", "ana budi"])
def test_bad_profile_names_fail_with_one_line_and_create_nothing(home: Path, capsys: Any, name: str) -> None:
    for args in (["--profile", name, "status"], ["profile", "add", name]):
        code, out, err = run(capsys, *args)
        assert code == 1 and err.startswith("desmig: ") and err.count("\n") == 1 and out == ""
        assert "Nama profil" in err or "belum ada" in err
    assert not (home / "profiles").exists() or not any((home / "profiles").iterdir())
    assert not (home.parent / "ana").exists() and not (home / "desmig.db").exists()


def test_unknown_profile_is_not_created_on_the_fly(home: Path, capsys: Any) -> None:
    code, _out, err = run(capsys, "--profile", "sitti", "status")
    assert code == 1 and "Profil sitti belum ada" in err and "desmig profile add sitti" in err
    assert not (home / "profiles" / "sitti").exists()


def test_data_dir_wins_over_profile(home: Path, data_dir: Path, template_db: Path, capsys: Any) -> None:
    add_profile(home, "ana", template_db)
    code, out, _err = run(capsys, "--profile", "ana", "demo", "--households", "2", "--villages", VILLAGE)
    assert code == 0
    code, out, err = run(capsys, "--data-dir", str(data_dir), "--profile", "ana", "status", "--json")
    assert code == 0 and json.loads(out)["households"] == 0 and "--profile diabaikan" in err


def test_profile_add_without_a_passphrase_leaves_no_half_made_profile(home: Path, capsys: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESMIG_ALLOW_PLAINTEXT")  # production policy: a passphrase is needed, none is given
    code, _out, err = run(capsys, "profile", "add", "ana")
    assert code == 1 and "kata sandi" in err.lower()
    assert not (home / "profiles" / "ana").exists()


# -- a laptop from before profiles ------------------------------------------------------------

def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_existing_data_dir_is_the_default_profile_untouched(home: Path, template_db: Path, capsys: Any) -> None:
    """Today's laptops keep their database where it is: it becomes the "default" profile, never moved."""
    shutil.copy(template_db, home / "desmig.db")
    assert run(capsys, "demo", "--households", "4", "--villages", VILLAGE)[0] == 0  # an officer's earlier work
    db = connect(home / "desmig.db")
    settings.put(db, "officer_name", "Petugas Lama")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    before = _digest(home / "desmig.db")
    inode = os.stat(home / "desmig.db").st_ino
    add_profile(home, "budi", template_db, officer="Budi Santoso")
    code, out, _err = run(capsys, "profiles", "--json")
    listed = json.loads(out)["profiles"]
    assert [p["name"] for p in listed] == ["default", "budi"]
    assert listed[0]["data_dir"] == str(home) and listed[0]["has_database"]
    assert _digest(home / "desmig.db") == before and os.stat(home / "desmig.db").st_ino == inode
    for args in ([], ["--profile", "default"]):
        code, out, _err = run(capsys, *args, "status", "--json")
        assert code == 0 and json.loads(out)["households"] == 4
    code, out, _err = run(capsys, "--profile", "budi", "status", "--json")
    assert json.loads(out)["households"] == 0
    assert (home / "desmig.db").exists() and not (home / "profiles" / "default").exists()
