"""HQ side of signed updates (issue 17 §2): publish, hello's announcement, ranged download, the
version gate that stops old apps syncing but never stops them updating."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from desmig_desktop.domain.release import Announcement, Manifest
from desmig_server import releases
from desmig_server.cli import main as hq_main

from .support import Hq, household

V1 = "33.01.01.2001"


def _package(tmp_path: Path, size: int = 3 * releases.CHUNK_SIZE + 123) -> Path:
    path = tmp_path / "bundle.zip"
    path.write_bytes(os.urandom(size))
    return path


def _publish(hq_app: Hq, path: Path, version: str = "1.1.0", minimum: str = "1.0.0", notes: str = "Perbaikan") -> bytes:
    key = Ed25519PrivateKey.generate()
    releases.publish(hq_app.ctx.db, path, version=version, min_version=minimum, key=key, notes=notes)
    return key.public_key().public_bytes_raw()


def test_hello_announces_the_newest_release_signed_over_its_manifest(hq_app: Hq, tmp_path: Path) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    assert "update" not in dev.hello()
    package = _package(tmp_path)
    public = _publish(hq_app, package)
    update = Announcement.parse(dev.hello()["update"])
    assert (update.version, update.min_version, update.notes) == ("1.1.0", "1.0.0", "Perbaikan")
    assert update.size == package.stat().st_size and update.sha256 == hashlib.sha256(package.read_bytes()).hexdigest()
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(update.signature), update.manifest.encode())
    assert Manifest.parse(update.manifest.encode()) == Manifest("1.1.0", "1.0.0", update.size, update.sha256)


def test_download_whole_and_every_kind_of_range(hq_app: Hq, tmp_path: Path) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    package = _package(tmp_path)
    data = package.read_bytes()
    _publish(hq_app, package)
    whole = hq_app.client.get("/v1/releases/1.1.0", headers=dev.headers)
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    assert "content-encoding" not in whole.headers  # never gzipped: offsets must be the file's
    size = len(data)
    for first, last in ((0, 0), (5, None), (releases.CHUNK_SIZE - 1, releases.CHUNK_SIZE), (size - 1, None),
                        (2 * releases.CHUNK_SIZE + 7, size + 100)):
        header = f"bytes={first}-{'' if last is None else last}"
        part = hq_app.client.get("/v1/releases/1.1.0", headers={**dev.headers, "Range": header})
        end = size - 1 if last is None else min(last, size - 1)
        assert part.status_code == 206, header
        assert part.content == data[first:end + 1], header
        assert part.headers["content-range"] == f"bytes {first}-{end}/{size}"
    beyond = hq_app.client.get("/v1/releases/1.1.0", headers={**dev.headers, "Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    ignored = hq_app.client.get("/v1/releases/1.1.0", headers={**dev.headers, "Range": "bytes=0-1,5-6"})
    assert ignored.status_code == 200 and ignored.content == data
    assert hq_app.client.get("/v1/releases/9.9.9", headers=dev.headers).status_code == 404
    assert hq_app.client.get("/v1/releases/1.1.0").status_code == 401


def test_an_app_below_min_version_cannot_sync_but_can_still_update(hq_app: Hq, tmp_path: Path) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    _publish(hq_app, _package(tmp_path, 1000), version="2.0.0", minimum="1.5.0")
    old = {**dev.headers, "X-Desmig-App-Version": "1.4.9"}
    pushed = hq_app.client.post("/v1/sync/push", headers=old, json={
        "device_id": dev.device_id, "app_schema": 1, "ops": [dev.op("households", "h1", household())]})
    assert pushed.status_code == 426 and pushed.json()["detail"] == {"min_version": "1.5.0"}
    assert hq_app.client.get(f"/v1/sync/pull?scope={V1}", headers=old).status_code == 426
    assert hq_app.record("households", "h1") is None
    hello = hq_app.client.get("/v1/sync/hello", headers=old)
    assert hello.status_code == 200 and hello.json()["update"]["version"] == "2.0.0"
    assert hq_app.client.get("/v1/releases/2.0.0", headers=old).status_code == 200
    rotated = hq_app.client.post("/v1/devices/rotate", headers=old, json={})
    assert rotated.status_code == 200  # its token must outlive the wait for the update
    ok = {**dev.headers, "X-Desmig-App-Version": "1.5.0"}
    assert hq_app.client.get(f"/v1/sync/pull?scope={V1}", headers=ok).status_code == 200


@pytest.mark.parametrize("header", ["1.2", "1.2.3.4", "v1.2.3", "1.2.x", "².1.1"])
def test_a_malformed_app_version_header_is_invalid_input(hq_app: Hq, header: str) -> None:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    response = hq_app.client.get("/v1/sync/hello", headers={**dev.headers, "X-Desmig-App-Version": header.encode()})
    assert response.status_code == 422


@pytest.mark.parametrize(("version", "minimum", "why"), [
    ("1.1", "1.0.0", "not a version"), ("1.1.0", "1.2.0", "above"), ("01.1.0", "1.0.0", "not a version"),
    ("1.0.0", "1.0.0", "not newer"), ("0.9.0", "0.1.0", "not newer"),
])
def test_publish_refuses_bad_versions_and_downgrades(hq_app: Hq, tmp_path: Path, version: str, minimum: str,
                                                      why: str) -> None:
    _publish(hq_app, _package(tmp_path, 100), version="1.0.0", minimum="1.0.0")
    with pytest.raises(releases.ReleaseError, match=why):
        _publish(hq_app, _package(tmp_path, 100), version=version, minimum=minimum)
    assert [r.version for r in releases.list_releases(hq_app.ctx.db)] == ["1.0.0"]


def test_cli_keygen_publish_list_and_one_line_errors(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys"
    assert hq_main(["release", "keygen", "--out", str(keys)]) == 0
    private = keys / releases.PRIVATE_KEY_FILE
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    public = (keys / releases.PUBLIC_KEY_FILE).read_text().strip()
    assert public in capsys.readouterr().out and len(base64.b64decode(public)) == 32
    assert hq_main(["release", "keygen", "--out", str(keys)]) == 1  # never replaces a key
    assert capsys.readouterr().err.count("\n") == 1
    notes = tmp_path / "notes.txt"
    notes.write_text("Perbaikan sinkronisasi.\n", encoding="utf-8")
    package = _package(tmp_path, 5000)
    args = ["release", "publish", str(package), "--db", db_url, "--key", str(private), "--notes-file", str(notes)]
    assert hq_main([*args, "--version", "1.2.0", "--min-version", "1.0.0"]) == 0
    for bad in (["--version", "1.2.0", "--min-version", "1.0.0"], ["--version", "1.3", "--min-version", "1.0.0"]):
        capsys.readouterr()
        assert hq_main([*args, *bad]) == 1
        err = capsys.readouterr().err
        assert err.startswith("desmig-hq: ") and err.count("\n") == 1
    wrong_key = tmp_path / "bad.pem"
    wrong_key.write_text("not a key")
    capsys.readouterr()
    assert hq_main(["release", "publish", str(package), "--db", db_url, "--key", str(wrong_key),
                    "--version", "1.3.0", "--min-version", "1.0.0"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    out = io.StringIO()
    assert hq_main(["release", "list", "--db", db_url, "--json"], stdout=out) == 0
    assert '"1.2.0"' in out.getvalue()
