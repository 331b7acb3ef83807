"""Release versions, manifests and announcements (issue 17 §2): the shapes both sides share."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as s

from desmig_desktop.domain.release import (
    Announcement,
    Manifest,
    ReleaseFormatError,
    is_older,
    manifest_bytes,
    parse_version,
    version_key,
)
from desmig_desktop.services.update_key import built_in_key

GOOD = Manifest("1.2.3", "1.0.0", 10, "a" * 64)


@pytest.mark.parametrize("text", ["", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "-1.2.3", "1.2.3-rc1", " 1.2.3",
                                  "1.2.3\n", "１.2.3", "1.2.x", "1234567.0.0", None, 123])
def test_only_plain_versions_parse(text: object) -> None:
    with pytest.raises(ReleaseFormatError):
        parse_version(text)  # type: ignore[arg-type]


parts = s.integers(min_value=0, max_value=999_999)


@given(s.tuples(parts, parts, parts), s.tuples(parts, parts, parts))
def test_version_key_sorts_like_the_version(a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    va, vb = ".".join(map(str, a)), ".".join(map(str, b))
    assert (version_key(va) < version_key(vb)) == (a < b) == is_older(va, vb)


def test_manifest_round_trips_through_its_signed_bytes() -> None:
    assert Manifest.parse(manifest_bytes(GOOD)) == GOOD


@pytest.mark.parametrize("raw", [
    b"", b"[]", b"\xff", b'{"format": 2, "version": "1.2.3", "min_version": "1.0.0", "size": 10, "sha256": "' + b"a" * 64 + b'"}',
    b'{"format": 1, "version": "1.2.3", "min_version": "1.3.0", "size": 10, "sha256": "' + b"a" * 64 + b'"}',
    b'{"format": 1, "version": "1.2.3", "min_version": "1.0.0", "size": 0, "sha256": "' + b"a" * 64 + b'"}',
    b'{"format": 1, "version": "1.2.3", "min_version": "1.0.0", "size": true, "sha256": "' + b"a" * 64 + b'"}',
    b'{"format": 1, "version": "1.2.3", "min_version": "1.0.0", "size": "10", "sha256": "' + b"a" * 64 + b'"}',
    b'{"format": 1, "version": "1.2.3", "min_version": "1.0.0", "size": 10, "sha256": "' + b"A" * 64 + b'"}',
    b'{"format": 1, "version": "1.2", "min_version": "1.0.0", "size": 10, "sha256": "' + b"a" * 64 + b'"}',
])
def test_malformed_manifests_are_refused(raw: bytes) -> None:
    with pytest.raises(ReleaseFormatError):
        Manifest.parse(raw)


@pytest.mark.parametrize("body", [None, [], {"version": "1.2.3"}, {"version": "1.2.3", "min_version": "1.0.0",
                                  "size": -1, "sha256": "x", "manifest": "{}"},
                                  {"version": 1, "min_version": "1.0.0", "size": 1, "sha256": "x", "manifest": "{}"}])
def test_malformed_announcements_are_refused(body: object) -> None:
    with pytest.raises(ReleaseFormatError):
        Announcement.parse(body)


def test_the_built_in_key_is_an_ed25519_public_key() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(built_in_key())
    assert len(base64.b64decode(base64.b64encode(built_in_key()))) == 32
