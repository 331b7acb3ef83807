"""Several officers on one laptop: named profiles, each a complete data dir of its own.

Layout under the data home (``DESMIG_HOME``, else the platform's user data folder)::

    <home>/                    the profile "default": the data dir every earlier version used
    <home>/profiles/<name>/    each further profile

Each profile dir holds what a data dir always held — its own database (so its own passphrase,
device registration, sync state, drafts and settings), ``config.json`` and ``logs/`` — plus
``profile.json``: display info only (officer name, village codes and names, last sync), readable
before the database is unlocked so the profile chooser can show it. Never a NIK, a token or a
passphrase: those stay inside the encrypted database.

Why "default" stays at the root instead of being moved into ``profiles/``: an existing laptop
keeps its database exactly where it was, so nothing is ever moved (moving a live SQLite file with
its ``-wal`` beside it can lose the last commits, and Windows refuses to move an open file), and an
older app version — after an update rolled back — still finds the officer's data.

Profile names are folder names on Windows, Linux and macOS alike: 1–32 characters of ``a–z``,
``0–9``, ``-`` and ``_``, starting with a letter or digit, not a Windows device name (``CON``,
``NUL``, ``COM1``…). Typed capitals are folded to lower case, because Windows folders ignore case:
``Ana`` and ``ana`` are one profile everywhere.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.handle import Database
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import regions as region_store
from desmig_desktop.store import settings

log = logging.getLogger(__name__)
DEFAULT = "default"
PROFILES_DIR = "profiles"
INFO_FILE = "profile.json"
NAME_MAX = 32
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", "conin$", "conout$",
                              *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))})


@dataclass(frozen=True)
class Village:
    code: str
    name: str


@dataclass(frozen=True)
class Profile:
    """One profile as the chooser and ``desmig profiles`` show it (nothing secret)."""

    name: str
    paths: Paths
    officer_name: str = ""
    villages: tuple[Village, ...] = ()
    last_sync_at: str | None = None
    has_database: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "officer_name": self.officer_name,
                "villages": [{"code": v.code, "name": v.name} for v in self.villages],
                "last_sync_at": self.last_sync_at, "has_database": self.has_database,
                "data_dir": str(self.paths.root)}


def check_name(text: str) -> str:
    """The profile name ``text`` stands for (lower case); ``KnownError`` saying why it cannot be one."""
    name = text.strip().lower()
    if not name:
        raise KnownError(_("Nama profil kosong."))
    if len(name) > NAME_MAX:
        raise KnownError(_("Nama profil terlalu panjang: paling banyak {count} karakter.", count=NAME_MAX))
    if not _NAME.fullmatch(name):
        raise KnownError(_("Nama profil hanya boleh berisi huruf a–z, angka, tanda - dan _, dan harus diawali "
                           "huruf atau angka: {name}", name=text.strip()))
    if name in WINDOWS_RESERVED:
        raise KnownError(_("Nama profil {name} tidak bisa dipakai (nama khusus di Windows).", name=name))
    return name


class ProfileHome:
    """The profiles under one data home: list, select, create, and their display info."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    @property
    def folder(self) -> Path:
        return self.home / PROFILES_DIR

    def paths_of(self, name: str) -> Paths:
        """Where profile ``name`` lives (whether or not it exists yet); ``KnownError`` for a bad name."""
        name = check_name(name)
        return Paths(self.home if name == DEFAULT else self.folder / name)

    def exists(self, name: str) -> bool:
        name = check_name(name)
        return True if name == DEFAULT else self.paths_of(name).root.is_dir()

    def select(self, name: str) -> Paths:
        """The data dir of an existing profile; ``KnownError`` (with how to create it) otherwise.

        Unknown names are refused rather than created on the fly: a mistyped ``--profile`` would
        otherwise make a new empty database, and a ``login`` there a second device registration.
        """
        if not self.exists(name):
            name = check_name(name)
            raise KnownError(_("Profil {name} belum ada. Buat dulu dengan: desmig profile add {name}", name=name))
        return self.paths_of(name)

    def names(self) -> list[str]:
        """Every profile: "default" when its database exists or no other profile does, then the rest by name."""
        others: list[str] = []
        if self.folder.is_dir():
            for entry in self.folder.iterdir():
                try:
                    if entry.is_dir() and check_name(entry.name) == entry.name and entry.name != DEFAULT:
                        others.append(entry.name)
                except KnownError:
                    continue  # a folder someone made by hand: not a profile
        default = Paths(self.home)
        keep_default = _has_database(default) or not others
        return ([DEFAULT] if keep_default else []) + sorted(others)

    def profiles(self) -> list[Profile]:
        return [self.info(name) for name in self.names()]

    def info(self, name: str) -> Profile:
        """Profile ``name`` with its last remembered display info (empty when none was written yet)."""
        paths = self.paths_of(name)
        try:
            data = json.loads((paths.root / INFO_FILE).read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            villages = tuple(Village(str(v["code"]), str(v.get("name") or v["code"]))
                             for v in data.get("villages") or [] if isinstance(v, dict) and v.get("code"))
            officer = str(data.get("officer_name") or "")
            last = data.get("last_sync_at")
        except (OSError, ValueError, KeyError, TypeError):
            villages, officer, last = (), "", None
        return Profile(check_name(name), paths, officer, villages, str(last) if last else None, _has_database(paths))

    def create(self, name: str) -> Paths:
        """Make the folder of a new profile (its database comes with its passphrase); ``KnownError`` if taken."""
        name = check_name(name)
        if name == DEFAULT or self.paths_of(name).root.exists():
            raise KnownError(_("Profil {name} sudah ada.", name=name))
        paths = self.paths_of(name)
        paths.root.mkdir(parents=True, exist_ok=False)
        return paths.ensure()

    def discard_unfinished(self, paths: Paths) -> bool:
        """Remove a profile folder whose database was never made (a cancelled setup); True if removed."""
        if paths.root.parent != self.folder or _has_database(paths) or paths.database.exists():
            return False
        shutil.rmtree(paths.root, ignore_errors=True)
        return True


def _has_database(paths: Paths) -> bool:
    return paths.database.is_file() and paths.database.stat().st_size > 0


def remember(paths: Paths, db: Database) -> None:
    """Write the profile's display info from its open database (after setup, a sync, at close).

    Written atomically; a failure (read-only folder) only costs a stale line in the chooser, so it
    is logged, never raised.
    """
    try:
        # The server's assignment when logged in (as the GUI's villages follow it), else the officer's choice.
        scopes = settings.get(db, "scopes", [], table="sync_state") or settings.get(db, "villages", []) or []
        codes = [str(c) for c in scopes]
        names = region_store.names(db, codes)
        info = {"officer_name": settings.get(db, "officer_name", "") or "",
                "villages": [{"code": c, "name": names.get(c, c)} for c in codes],
                "last_sync_at": settings.get(db, "last_success", table="sync_state")}
        tmp = paths.root / (INFO_FILE + ".tmp")
        tmp.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, paths.root / INFO_FILE)
    except (OSError, ValueError) as exc:
        log.warning("profile display info not written: %s", exc)
    except Exception as exc:  # noqa: BLE001 — e.g. sqlite3.Error on a closed or foreign database: display info only
        log.warning("profile display info not read: %s", type(exc).__name__)
