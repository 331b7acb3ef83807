"""Updates from HQ, signed: what is on offer, download, verify, stage.

The chain of trust, each step refusing with its own message (``UpdateRefused``):

1. hello's announcement (kept by the sync engine in ``sync_state``) carries a manifest and
   HQ's Ed25519 signature of it; the signature must verify with the key built into the app
   (``update_key``; ``UpdateConfig.public_key``) — no signature, or one by another key: refused
   before a byte is downloaded.
2. The signed manifest must name the announced version, size and hash, and a version newer
   than the running one (never a downgrade).
3. The package is downloaded into ``downloads/X.Y.Z.part`` (resumed with HTTP Range after a
   broken connection) and must have exactly the signed size and SHA-256.
4. It must be a zip holding that version (``VERSION``) and an executable, with no path that
   leaves its folder. Unpacked into ``versions/X.Y.Z.staging``, renamed into place, then
   recorded as *staged*: ``update_install.launch`` switches to it at the next start.

A refused package is deleted; nothing of it is ever staged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import shutil
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.release import Announcement, Manifest, ReleaseFormatError, is_older
from desmig_desktop.errors import KnownError
from desmig_desktop.services.handle import Database
from desmig_desktop.services.update_install import VERSION_FILE, Install, UpdateConfig, executable_name
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.client import SyncClient
from desmig_desktop.sync.errors import ErrorKind, SyncError

log = logging.getLogger(__name__)
DOWNLOAD_ATTEMPTS = 6


class UpdateRefused(KnownError):
    """A package (or its announcement) failed a check; ``reason`` is a stable code for tests and logs."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _refused(reason: str, what: str) -> UpdateRefused:
    return UpdateRefused(reason, _("Paket pembaruan ditolak dan tidak dipasang: {what}", what=what))


@dataclass(frozen=True)
class Offer:
    """What the update prompt shows."""

    version: str
    notes: str
    size: int
    staged: bool  # downloaded, verified and unpacked: it starts at the next start
    installable: bool  # this app can install it itself (an install root); else: ask HQ for the installer
    required: bool  # this app is below the minimum version: it cannot sync until updated


def announced(db: Database) -> Announcement | None:
    """The newest release the server announced (from the last hello), or None."""
    raw = st.state(db, st.K_UPDATE)
    try:
        return Announcement.parse(raw) if raw is not None else None
    except ReleaseFormatError:
        return None


def offer(db: Database, config: UpdateConfig) -> Offer | None:
    """The update to offer the officer, or None (nothing newer, or already refused)."""
    update = announced(db)
    if update is None or not is_older(config.version, update.version):
        return None
    staged = False
    if config.root is not None:
        state = Install(config.root).state()
        if update.version in (state.refused or []):
            return None
        staged = state.staged == update.version
    return Offer(update.version, update.notes, update.size, staged, config.root is not None,
                 is_older(config.version, update.min_version))


def trusted_manifest(update: Announcement, config: UpdateConfig) -> Manifest:
    """Steps 1 and 2 of the module doc: the signed manifest of ``update``, or ``UpdateRefused``."""
    if not update.signature:
        raise _refused("unsigned", _("paket tidak bertanda tangan HQ."))
    try:
        signature = base64.b64decode(update.signature, validate=True)
        Ed25519PublicKey.from_public_bytes(config.public_key).verify(signature, update.manifest.encode("utf-8"))
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise _refused("bad_signature", _("tanda tangan paket tidak sah (bukan dari HQ).")) from exc
    try:
        manifest = Manifest.parse(update.manifest.encode("utf-8"))
    except ReleaseFormatError as exc:
        raise _refused("bad_manifest", _("keterangan paket tidak terbaca.")) from exc
    if (manifest.version, manifest.size, manifest.sha256) != (update.version, update.size, update.sha256):
        raise _refused("mismatch", _("keterangan paket tidak cocok dengan pengumuman server."))
    if not is_older(config.version, manifest.version):
        raise _refused("downgrade", _("versi {version} tidak lebih baru dari versi terpasang {current}.",
                                      version=manifest.version, current=config.version))
    return manifest


def verify_package(path: Path, manifest: Manifest) -> None:
    """Step 3: exactly the signed size and SHA-256."""
    size = path.stat().st_size
    if size < manifest.size:
        raise _refused("truncated", _("paket tidak lengkap ({got} dari {size} bita).", got=size, size=manifest.size))
    if size > manifest.size:
        raise _refused("oversized", _("paket lebih besar dari yang ditandatangani HQ."))
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1024 * 1024):
            digest.update(block)
    if digest.hexdigest() != manifest.sha256:
        raise _refused("hash_mismatch", _("isi paket berbeda dari yang ditandatangani HQ (rusak atau diubah)."))


def stage(config: UpdateConfig, package: Path, manifest: Manifest) -> Path:
    """Step 4: unpack a verified package into ``versions/X.Y.Z`` and mark it staged."""
    assert config.root is not None
    install = Install(config.root)
    target = install.folder(manifest.version)
    work = target.with_name(target.name + ".staging")
    shutil.rmtree(work, ignore_errors=True)
    bad = _refused("bad_content", _("paket tidak berisi aplikasi versi {version}.", version=manifest.version))
    try:
        with zipfile.ZipFile(package) as zf:
            for info in zf.infolist():
                parts = Path(info.filename).parts
                if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                    raise bad
            zf.extractall(work)
            for info in zf.infolist():  # zipfile drops the executable bits; the package's own are kept
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    os.chmod(work / info.filename, mode)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise bad from exc
    except UpdateRefused:
        shutil.rmtree(work, ignore_errors=True)
        raise
    version_file, exe = work / VERSION_FILE, work / executable_name()
    if not version_file.is_file() or version_file.read_text(encoding="utf-8").strip() != manifest.version \
            or not exe.is_file():
        shutil.rmtree(work, ignore_errors=True)
        raise bad
    if os.name == "posix":
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(work, target)
    state = install.state()
    state.staged = manifest.version
    install.save(state)
    log.info("update %s verified and staged; it starts at the next start", manifest.version)
    return target


@dataclass(frozen=True)
class DownloadPlan:
    """Everything a background download needs, read on the caller's thread (no database after)."""

    server_url: str
    token: str
    update: Announcement


def plan_download(db: Database, config: UpdateConfig) -> DownloadPlan:
    """What to download, checked before any byte moves (signature, version); ``KnownError`` otherwise."""
    update = announced(db)
    if update is None or not is_older(config.version, update.version):
        raise KnownError(_("Tidak ada pembaruan yang tersedia."))
    if config.root is None:
        raise KnownError(_("Aplikasi ini dijalankan dari folder pengembang; pasang versi baru dengan penginstal dari HQ."))
    trusted_manifest(update, config)
    url, token = st.state(db, st.K_SERVER_URL), st.state(db, st.K_TOKEN)
    if not url or not token:
        raise SyncError(ErrorKind.AUTH, _("Belum masuk ke server. Masuk dulu untuk mengunduh pembaruan."),
                        detail="no token")
    return DownloadPlan(url, token, update)


def download_and_stage(plan: DownloadPlan, config: UpdateConfig, *, session: Any = None,
                       progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
                       attempts: int = DOWNLOAD_ATTEMPTS) -> str | None:
    """Download (resuming after broken connections), verify and stage; the staged version, or
    None when ``cancel()`` turned true (the part file stays for the next try).

    Raises ``UpdateRefused`` (the part file is deleted) or ``SyncError`` (network: the part
    file stays, and the next call resumes it).
    """
    assert config.root is not None
    manifest = trusted_manifest(plan.update, config)
    install = Install(config.root)
    install.downloads.mkdir(parents=True, exist_ok=True)
    part = install.downloads / f"{manifest.version}.part"
    client = SyncClient(plan.server_url, plan.token, session=session, app_version=config.version)

    def report(done: int, total: int) -> bool:
        if progress is not None:
            progress(done, total)
        return not (cancel is not None and cancel())

    try:
        for attempt in range(1, attempts + 1):
            try:
                client.download(f"v1/releases/{manifest.version}", part, size=manifest.size, progress=report)
                break
            except SyncError as exc:
                if exc.kind is not ErrorKind.NETWORK or attempt == attempts or (cancel is not None and cancel()):
                    raise
                log.info("update download interrupted (%s); resuming, attempt %d", exc.detail, attempt + 1)
    finally:
        if session is None:
            client.close()
    if cancel is not None and cancel():
        return None  # the part file stays: the next try resumes it
    try:
        verify_package(part, manifest)
        stage(config, part, manifest)
    except UpdateRefused as exc:
        log.warning("update %s refused: %s", manifest.version, exc.reason)
        part.unlink(missing_ok=True)
        raise
    part.unlink(missing_ok=True)
    return manifest.version
