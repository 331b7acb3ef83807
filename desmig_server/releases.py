"""Signed app releases: key generation, publishing, hello's announcement, ranged reads.

Where releases live: in the database (``releases`` + ``release_chunks``), not a folder. HQ
workers keep nothing between requests and may run on several machines behind one PostgreSQL;
the database is the one store they already share, so no shared folder must be mounted and
named in settings, and a backup of the database backs up the releases too. The package is kept
in 1 MiB chunks so a ranged download (a resume) reads only the chunks it needs.

The signing key never reaches the server process: ``desmig-hq release publish`` signs with a
private key file on the HQ machine that runs it and stores only the signature. ``serve`` holds
no key at all, so a compromised server can withhold or corrupt releases (which the apps refuse)
but cannot make one they would install.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, insert, select

from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.release import (
    Manifest,
    ReleaseFormatError,
    is_older,
    manifest_bytes,
    parse_version,
    version_key,
)
from desmig_server.db import tables as t
from desmig_server.db.engine import Database

CHUNK_SIZE = 1024 * 1024
PRIVATE_KEY_FILE = "release-signing-key.pem"
PUBLIC_KEY_FILE = "release-public-key.txt"
MAX_NOTES_CHARS = 4000


class ReleaseError(Exception):
    """A release that cannot be published or served (one line, for the CLI or a 404)."""


@dataclass(frozen=True)
class Release:
    version: str
    min_version: str
    size: int
    sha256: str
    manifest: str
    signature: str
    notes: str
    chunk_size: int
    published_at: str

    def announcement(self) -> dict[str, Any]:
        """hello's ``update`` object (``desmig_desktop.domain.release.Announcement``)."""
        return {"version": self.version, "min_version": self.min_version, "size": self.size,
                "sha256": self.sha256, "notes": self.notes, "manifest": self.manifest,
                "signature": self.signature, "url": f"/v1/releases/{self.version}"}


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64: what is built into the app."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def keygen(out_dir: Path) -> str:
    """Write a new signing key (PEM, mode 0600) into ``out_dir``; return the public key text.

    Refuses to overwrite an existing key: replacing it would orphan every installed app.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    private_path = out_dir / PRIVATE_KEY_FILE
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ReleaseError(f"{private_path} already exists; refusing to replace a signing key") from exc
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(private_path, 0o600)  # in case the umask widened nothing; explicit either way
    public = public_key_text(key)
    (out_dir / PUBLIC_KEY_FILE).write_text(public + "\n", encoding="ascii")
    return public


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ReleaseError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError(f"{path}: not an Ed25519 key")
    return key


def _digest(f: BinaryIO) -> tuple[int, str]:
    h, size = hashlib.sha256(), 0
    while block := f.read(CHUNK_SIZE):
        h.update(block)
        size += len(block)
    return size, h.hexdigest()


def publish(db: Database, package: Path, *, version: str, min_version: str, key: Ed25519PrivateKey,
            notes: str = "", by: str = "desmig-hq") -> Release:
    """Sign ``package`` as ``version`` and store it, all in one transaction (never half published).

    Refused: a malformed version, ``min_version`` above ``version``, a version already published
    (a release is immutable: apps may hold half of its bytes), a version not newer than the
    newest published one (apps never go backwards), an empty or oversized package.
    """
    try:
        parse_version(version)
        parse_version(min_version)
    except ReleaseFormatError as exc:
        raise ReleaseError(str(exc)) from exc
    if is_older(version, min_version):
        raise ReleaseError(f"--min-version {min_version} is above --version {version}")
    if len(notes) > MAX_NOTES_CHARS:
        raise ReleaseError(f"release notes longer than {MAX_NOTES_CHARS} characters")
    with package.open("rb") as f:
        size, sha256 = _digest(f)
    manifest = Manifest(version, min_version, size, sha256)
    try:
        manifest.check()
    except ReleaseFormatError as exc:
        raise ReleaseError(f"{package}: {exc}") from exc
    signed = manifest_bytes(manifest)
    signature = base64.b64encode(key.sign(signed)).decode("ascii")
    release = Release(version, min_version, size, sha256, signed.decode("utf-8"), signature, notes, CHUNK_SIZE,
                      utc_now())
    with db.write() as conn:
        newest = _latest(conn)
        if newest is not None and not is_older(newest.version, version):
            raise ReleaseError(f"version {version} is not newer than the published {newest.version}")
        conn.execute(insert(t.releases).values(
            version=version, version_key=version_key(version), min_version=min_version, size=size, sha256=sha256,
            manifest=release.manifest, signature=signature, notes=notes, chunk_size=CHUNK_SIZE,
            published_at=release.published_at, published_by=by))
        with package.open("rb") as f:
            idx = 0
            while block := f.read(CHUNK_SIZE):
                conn.execute(insert(t.release_chunks).values(version=version, idx=idx, data=block))
                idx += 1
        stored = hashlib.sha256()
        for first in range(0, size, CHUNK_SIZE):  # one chunk in memory at a time
            for block in _read(conn, version, first, min(first + CHUNK_SIZE, size) - 1):
                stored.update(block)
        if stored.hexdigest() != sha256:
            raise ReleaseError(f"{package} changed while it was being published")
    return release


def _row(row: Any) -> Release:
    return Release(row.version, row.min_version, int(row.size), row.sha256, row.manifest, row.signature, row.notes,
                   int(row.chunk_size), row.published_at)


def _latest(conn: Connection) -> Release | None:
    row = conn.execute(select(t.releases).order_by(t.releases.c.version_key.desc()).limit(1)).first()
    return _row(row) if row is not None else None


def latest(conn: Connection) -> Release | None:
    """The newest published release (what hello announces), or None."""
    return _latest(conn)


def min_version(conn: Connection) -> str | None:
    """The oldest app version allowed to sync: the newest release's ``min_version``."""
    return conn.execute(select(t.releases.c.min_version).order_by(t.releases.c.version_key.desc())
                        .limit(1)).scalar()


def find(db: Database, version: str) -> Release | None:
    with db.read() as conn:
        row = conn.execute(select(t.releases).where(t.releases.c.version == version)).first()
    return _row(row) if row is not None else None


def list_releases(db: Database) -> list[Release]:
    with db.read() as conn:
        return [_row(r) for r in conn.execute(select(t.releases).order_by(t.releases.c.version_key.desc()))]


def _read(conn: Connection, version: str, first: int, last: int) -> Iterator[bytes]:
    """Bytes ``first..last`` (inclusive) of a package, chunk by chunk."""
    c = t.release_chunks.c
    lo, hi = first // CHUNK_SIZE, last // CHUNK_SIZE
    rows = conn.execute(select(c.idx, c.data).where(c.version == version, c.idx >= lo, c.idx <= hi)
                        .order_by(c.idx))
    for idx, data in rows:
        start = idx * CHUNK_SIZE
        yield bytes(data)[max(first - start, 0):last - start + 1]


def stream(db: Database, version: str, first: int, last: int) -> Iterator[bytes]:
    """Bytes ``first..last`` of a package, one chunk read (one short transaction) at a time, so a
    slow download holds no database connection between chunks."""
    pos = first
    while pos <= last:
        end = min(last, (pos // CHUNK_SIZE + 1) * CHUNK_SIZE - 1)
        with db.read() as conn:
            block = b"".join(_read(conn, version, pos, end))
        if len(block) != end - pos + 1:
            raise ReleaseError(f"release {version} is missing bytes at {pos}")
        yield block
        pos = end + 1
