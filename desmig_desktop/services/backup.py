"""Backup to a USB stick and restore, for the CLI and the GUI.

``create_backup`` writes one verified file of everything the laptop holds (``store.backup``).
``restore_backup`` checks a backup and stages it beside the database; the swap happens before the
database is next opened (``services.database.open_local`` calls ``apply_pending``), so a running
app never has its database replaced under it. The CLI swaps at once (nothing else is open).
After a restore the first sync reconciles with HQ (``sync_restore.reconcile_restore``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

from desmig_desktop.services.handle import Database
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import backup as store_backup
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.backup import BackupInfo, BackupInvalid

__all__ = ["BackupInfo", "BackupInvalid", "apply_pending", "create_backup", "default_name", "inspect_backup",
           "restore_backup", "restore_pending"]

log = logging.getLogger(__name__)
SUFFIX = ".desmig-backup"


def default_name(db: Database, now: dt.datetime | None = None) -> str:
    """``desmig-<officer>-<date>.desmig-backup``: what a file on a shared USB stick is."""
    who = re.sub(r"[^A-Za-z0-9_-]+", "-", str(st.state(db, st.K_USERNAME) or "laptop")).strip("-") or "laptop"
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M")
    return f"desmig-{who}-{stamp}{SUFFIX}"


def create_backup(db: Database, out: Path) -> BackupInfo:
    """Write and verify a backup of the open database to ``out``."""
    info = store_backup.write_backup(db, Path(out))
    log.info("backup written: %d tables, %d pending ops", len(info.counts), info.pending_ops)
    return info


def inspect_backup(path: Path, passphrase: str | None) -> BackupInfo:
    """Check a backup file (passphrase, integrity, schema) without changing anything."""
    return store_backup.inspect_file(Path(path), passphrase)


def restore_backup(paths: Paths, path: Path, passphrase: str | None, *, now: bool = True) -> BackupInfo:
    """Check ``path`` and stage it; with ``now`` (nothing has the database open) swap it in at once.
    The current database is kept as ``desmig.db.before-restore``."""
    paths.ensure()
    info = store_backup.stage_restore(paths.database, Path(path), passphrase)
    if now:
        apply_pending(paths)
    log.info("backup restored (%s): %d pending ops", "now" if now else "at next start", info.pending_ops)
    return info


def restore_pending(paths: Paths) -> bool:
    return paths.database.with_name(paths.database.name + store_backup.PENDING_SUFFIX).exists()


def apply_pending(paths: Paths) -> bool:
    """Swap a staged restore into place; run before the database is opened."""
    return store_backup.apply_pending_restore(paths.database)


def backup_job(out: Path) -> Any:
    """``create_backup`` as a background job ``(db, progress) -> BackupInfo`` (``services.jobs``)."""

    def run(db: Database, _progress: Any) -> BackupInfo:
        return create_backup(db, out)

    return run


def restore_job(paths: Paths, path: Path, passphrase: str | None) -> Any:
    """Check and stage a backup in the background; the swap happens at the next start."""

    def run(_db: Database, _progress: Any) -> BackupInfo:
        return restore_backup(paths, path, passphrase, now=False)

    return run
