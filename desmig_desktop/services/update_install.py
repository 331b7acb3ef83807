"""Installed versions side by side, switching at start, and rolling back a version that does not start.

Layout of an install root ``R``::

    R/current                 one line: the version to run (absent: the one started)
    R/update-state.json       {"staged", "trial", "refused", "notice"} (below)
    R/versions/X.Y.Z/         one unpacked bundle per version (``desmig`` or ``desmig.exe`` inside)
    R/downloads/X.Y.Z.part    a download in progress (resumed with HTTP Range)

``R`` is the bundle folder the officer installed (``dist/desmig/``), or, for a version that
was itself installed by an update, the folder above its ``versions/``: both resolve to the
same ``R`` (``install_root``), so every version reads and writes one ``current``.

Every change of ``current`` and of the state file is a write to a temporary file, fsync,
``os.replace``: a power cut leaves the old or the new content, never half of either.

At start (``launch``, first thing the ``desmig`` command does):

1. A *trial* already started and never confirmed means that version failed to start (crashed,
   froze, the laptop lost power): roll back — ``current`` back to the previous version, the
   failed one added to ``refused`` (never tried again) and a notice for the officer.
2. Else a *staged* version (verified and unpacked by ``services.updates``), newer than
   ``current`` and not refused, becomes ``current`` as a trial.
3. The version in ``current`` runs: in this process if it is this one, else as a child process
   with the same arguments. A trial child that exits without confirming is rolled back at
   once and this (old) version runs the command instead.

A version confirms (``confirm_started``) once its main window has painted, or once a command
(the GUI included) ran to its end — with success or with a handled error (a wrong passphrase is
the officer's problem, not a broken version); only a crash, an unexpected exception or a start
that never gets that far rolls back.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desmig_desktop.domain.release import ReleaseFormatError, is_older, parse_version

log = logging.getLogger(__name__)

CURRENT_FILE = "current"
STATE_FILE = "update-state.json"
VERSIONS_DIR = "versions"
DOWNLOADS_DIR = "downloads"
VERSION_FILE = "VERSION"  # inside every package: the version it is
LAUNCHED_ENV = "DESMIG_LAUNCHED"  # set by the launcher for the child it starts: the decision is made


def executable_name() -> str:
    return "desmig.exe" if sys.platform == "win32" else "desmig"


@dataclass(frozen=True)
class UpdateConfig:
    """How this app updates itself, chosen by the composition root (tests inject their own).

    Attributes:
        root: the install root (module doc); None where the app cannot replace itself (a
            developer's venv): updates are still announced, not installed.
        version: the running app's version.
        public_key: the raw 32-byte Ed25519 key HQ's release signatures must verify with.
    """

    root: Path | None
    version: str
    public_key: bytes


def install_root(executable: Path) -> Path:
    """The install root of a bundle whose executable is ``executable`` (module doc)."""
    bundle = executable.resolve().parent
    return bundle.parent.parent if bundle.parent.name == VERSIONS_DIR else bundle


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class InstallState:
    """The state file: ``staged`` version, running ``trial`` ({version, previous}),
    ``refused`` versions (failed a start or a check) and a ``notice`` for the officer."""

    staged: str | None = None
    trial: dict[str, Any] | None = None
    refused: list[str] | None = None
    notice: str | None = None


class Install:
    """One install root: read and change ``current`` and the state file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def versions(self) -> Path:
        return self.root / VERSIONS_DIR

    @property
    def downloads(self) -> Path:
        return self.root / DOWNLOADS_DIR

    def folder(self, version: str) -> Path:
        return self.versions / version

    def current(self, default: str) -> str:
        try:
            text = (self.root / CURRENT_FILE).read_text(encoding="utf-8").strip()
            parse_version(text)
            return text
        except (OSError, ReleaseFormatError):
            return default

    def set_current(self, version: str) -> None:
        _write_atomic(self.root / CURRENT_FILE, version + "\n")

    def state(self) -> InstallState:
        try:
            raw = json.loads((self.root / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return InstallState(refused=[])
        if not isinstance(raw, dict):
            return InstallState(refused=[])
        trial = raw.get("trial") if isinstance(raw.get("trial"), dict) else None
        refused = [v for v in raw.get("refused") or [] if isinstance(v, str)]
        staged, notice = raw.get("staged"), raw.get("notice")
        return InstallState(staged if isinstance(staged, str) else None, trial, refused,
                            notice if isinstance(notice, str) else None)

    def save(self, state: InstallState) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.root / STATE_FILE, json.dumps(
            {"staged": state.staged, "trial": state.trial, "refused": state.refused or [],
             "notice": state.notice}, indent=1))

    def runnable(self, version: str, own: str) -> bool:
        return version == own or (self.folder(version) / executable_name()).is_file()

    def rollback(self, state: InstallState, why: str) -> str:
        """End the failed trial in ``state``: back to its previous version; returns that version."""
        trial = state.trial or {}
        failed, previous = str(trial.get("version")), str(trial.get("previous"))
        log.warning("version %s did not start (%s); rolling back to %s", failed, why, previous)
        state.refused = sorted({*(state.refused or []), failed})
        state.trial = None
        state.notice = f"rolled_back:{failed}:{previous}"
        self.set_current(previous)
        self.save(state)
        return previous


def _plan(install: Install, own: str) -> str:
    """Steps 1 and 2 of the module doc; returns the version to run now."""
    state = install.state()
    current = install.current(own)
    if state.trial is not None:  # recorded by an earlier start, and that start never confirmed
        return install.rollback(state, "its last start never confirmed")
    staged = state.staged
    if staged is not None:
        state.staged = None
        try:
            newer = is_older(current, staged)
        except ReleaseFormatError:
            newer = False
        if newer and staged not in (state.refused or []) and install.runnable(staged, own):
            state.trial = {"version": staged, "previous": current}
            install.save(state)  # the trial is recorded before ``current`` moves: a crash between rolls back
            install.set_current(staged)
            log.info("switching from %s to staged version %s (trial)", current, staged)
            return staged
        install.save(state)
    return current


def launch(config: UpdateConfig | None, argv: Sequence[str]) -> int | None:
    """Run the start-up step of the module doc. Returns the exit code of a child version that
    ran the command, or None: this process runs the command itself."""
    if config is None or config.root is None or os.environ.get(LAUNCHED_ENV):
        return None
    install = Install(config.root)
    try:
        target = _plan(install, config.version)
    except OSError:
        log.exception("update state unreadable or unwritable; running %s", config.version)
        return None
    for _attempt in range(2):  # the target, then (after a failed trial) the version it replaced
        if target == config.version:
            return None
        exe = install.folder(target) / executable_name()
        state = install.state()
        on_trial = state.trial is not None and state.trial.get("version") == target
        if not exe.is_file():
            if not on_trial:
                log.error("version %s in %s has no executable; running %s", target, CURRENT_FILE, config.version)
                return None
            target = install.rollback(state, "its executable is missing")
            continue
        code = subprocess.call([str(exe), *argv], env={**os.environ, LAUNCHED_ENV: "1"})
        state = install.state()
        if not (state.trial is not None and state.trial.get("version") == target):
            return code
        target = install.rollback(state, f"exit code {code} before it confirmed")  # the command runs again there
    return None


def confirm_started(config: UpdateConfig | None) -> None:
    """This version started properly: end its trial and remove versions older than the previous one."""
    if config is None or config.root is None:
        return
    install = Install(config.root)
    state = install.state()
    if state.trial is None or state.trial.get("version") != config.version:
        return
    keep = {config.version, str(state.trial.get("previous"))}
    state.trial = None
    install.save(state)
    log.info("version %s confirmed after its first start", config.version)
    if install.versions.is_dir():
        for folder in install.versions.iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)  # a running old copy on Windows stays; no matter


def take_notice(config: UpdateConfig | None) -> tuple[str, str] | None:
    """``(failed, restored)`` versions of a rollback not yet shown to the officer (then forgotten)."""
    if config is None or config.root is None:
        return None
    install = Install(config.root)
    state = install.state()
    if not state.notice:
        return None
    parts = state.notice.split(":")
    state.notice = None
    install.save(state)
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "rolled_back" else None
