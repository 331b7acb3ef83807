"""Release versions, the signed release manifest and hello's update announcement.

One definition for both sides: HQ (``desmig_server.releases``) builds and signs the manifest,
the app (``services.updates``) checks it. Pure stdlib: the Ed25519 signing and verifying live
with each side (``cryptography``), over the exact bytes ``manifest_bytes`` returns.

What is signed is the manifest, not the package: ``{"format", "version", "min_version",
"size", "sha256"}``. The package is then checked against the manifest's size and hash, so a
flipped byte, a truncated or padded download, a manifest announced for another version and a
signature by another key are each caught at one named step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MANIFEST_FORMAT = 1
_VERSION = re.compile(r"^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PACKAGE_BYTES = 2 * 1024 ** 3  # a bundle is ~200 MB; anything near 2 GiB is not one of ours


class ReleaseFormatError(ValueError):
    """A version, manifest or announcement that does not have the documented shape."""


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` → ``(1, 2, 3)``; only plain ``MAJOR.MINOR.PATCH`` (no signs, spaces or suffixes)."""
    match = _VERSION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ReleaseFormatError(f"not a version X.Y.Z: {text!r}")
    return int(match[1]), int(match[2]), int(match[3])


def version_key(text: str) -> int:
    """An integer that sorts like the version (each part < 1,000,000), for SQL ``ORDER BY``."""
    major, minor, patch = parse_version(text)
    return (major * 1_000_000 + minor) * 1_000_000 + patch


def is_older(version: str, than: str) -> bool:
    return parse_version(version) < parse_version(than)


@dataclass(frozen=True)
class Manifest:
    """What HQ signs about one release package."""

    version: str
    min_version: str
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"format": MANIFEST_FORMAT, "version": self.version, "min_version": self.min_version,
                "size": self.size, "sha256": self.sha256}

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        """The manifest from its signed bytes; ``ReleaseFormatError`` for any other shape."""
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ReleaseFormatError("manifest is not JSON") from exc
        if not isinstance(body, dict) or body.get("format") != MANIFEST_FORMAT:
            raise ReleaseFormatError("unknown manifest format")
        # A missing size (-1) fails check() below like any other bad one.
        manifest = cls(str(body.get("version")), str(body.get("min_version")), body.get("size", -1),
                       str(body.get("sha256")))
        manifest.check()
        return manifest

    def check(self) -> None:
        parse_version(self.version)
        parse_version(self.min_version)
        if is_older(self.version, self.min_version):
            raise ReleaseFormatError("min_version above version")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 < self.size <= MAX_PACKAGE_BYTES:
            raise ReleaseFormatError("size out of range")
        if not _SHA256.fullmatch(self.sha256):
            raise ReleaseFormatError("sha256 must be 64 lowercase hex digits")


def manifest_bytes(manifest: Manifest) -> bytes:
    """The exact bytes signed: compact, key-sorted JSON (UTF-8)."""
    return json.dumps(manifest.as_dict(), sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Announcement:
    """hello's ``update``: the newest release, as the server announces it (not yet trusted)."""

    version: str
    min_version: str
    size: int
    sha256: str
    notes: str
    manifest: str  # the signed manifest bytes, as UTF-8 text
    signature: str  # base64 Ed25519 signature of ``manifest``; "" when the server sent none

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "min_version": self.min_version, "size": self.size,
                "sha256": self.sha256, "notes": self.notes, "manifest": self.manifest, "signature": self.signature}

    @classmethod
    def parse(cls, body: Any) -> Announcement:
        """From hello's ``update`` object; ``ReleaseFormatError`` for a malformed one.

        Only the shape is checked here; whether it is trustworthy is ``services.updates``' job.
        """
        if not isinstance(body, dict):
            raise ReleaseFormatError("update must be an object")
        size = body.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ReleaseFormatError("update size must be a positive integer")
        texts = {k: body.get(k) for k in ("version", "min_version", "sha256", "manifest")}
        if not all(isinstance(v, str) for v in texts.values()):
            raise ReleaseFormatError("update fields must be text")
        parse_version(str(texts["version"]))
        parse_version(str(texts["min_version"]))
        notes, signature = body.get("notes"), body.get("signature")
        return cls(str(texts["version"]), str(texts["min_version"]), size, str(texts["sha256"]),
                   notes if isinstance(notes, str) else "", str(texts["manifest"]),
                   signature if isinstance(signature, str) else "")
