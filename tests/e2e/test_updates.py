"""Signed updates end to end (issue 17 §2), against a real ``desmig-hq serve``.

HQ publishes small signed payloads with the real CLI: a zip holding ``VERSION`` and a
``desmig`` executable — for a healthy version, a script that runs this very app reporting that
version (``update_app.py``); for a broken one, a script that fails before the app confirms.
The app's start-up path (``cli.main`` → ``update_install.launch``) runs as a real process on a
test install root, with the test's key injected through ``cli.main(updates=...)``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desmig_desktop import __version__
from desmig_desktop.domain.release import parse_version
from desmig_desktop.services import updates
from desmig_desktop.services.update_install import Install, UpdateConfig
from desmig_desktop.sync.errors import ErrorKind, SyncError
from tests.faults.proxy import TcpProxy
from tests.sync.harness import Device, HqServer, child_env

pytestmark = pytest.mark.e2e
RUNNER = Path(__file__).with_name("update_app.py")
INSTALLED = __version__


def later(n: int) -> str:
    major, minor, _patch = parse_version(INSTALLED)
    return f"{major}.{minor + n}.0"


class Keys:
    def __init__(self, folder: Path, name: str = "hq") -> None:
        self.key = Ed25519PrivateKey.generate()
        self.pem = folder / f"{name}.pem"
        self.pem.write_bytes(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
        self.public = self.key.public_key().public_bytes_raw()
        self.public_b64 = base64.b64encode(self.public).decode()


SCRIPTS = {
    # runs this app as VERSION, from the install root two folders up
    "app": '#!/bin/sh\nhere="$(cd "$(dirname "$0")" && pwd)"\nexec "{python}" "{runner}" "$here/../.." "{version}" '
           '"{key}" "$@"\n',
    "fail": "#!/bin/sh\necho 'cannot start' >&2\nexit 3\n",
    "powercut": "#!/bin/sh\nkill -9 $PPID\nexit 0\n",  # the whole app dies mid-start, as in a power cut
}


def payload(folder: Path, version: str, kind: str, keys: Keys, *, pad: int = 600_000,
            version_file: str | None = None) -> Path:
    """A package: VERSION, an executable ``desmig`` and ``pad`` bytes of incompressible padding."""
    path = folder / f"desmig-{version}-{kind}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("VERSION", (version_file or version) + "\n")
        exe = zipfile.ZipInfo("desmig")
        exe.external_attr = 0o755 << 16
        zf.writestr(exe, SCRIPTS[kind].format(python=sys.executable, runner=RUNNER, version=version,
                                              key=keys.public_b64))
        zf.writestr("lib/padding.bin", os.urandom(pad))
    return path


def publish(hq_server: HqServer, package: Path, version: str, keys: Keys, minimum: str = INSTALLED,
            notes: str = "Perbaikan sinkronisasi dan formulir.") -> None:
    notes_file = package.with_suffix(".txt")
    notes_file.write_text(notes, encoding="utf-8")
    done = hq_server.hq("release", "publish", str(package), "--version", version, "--min-version", minimum,
                 "--key", str(keys.pem), "--notes-file", str(notes_file))
    assert done.returncode == 0, done.stderr


@pytest.fixture
def server(hq_server: HqServer) -> HqServer:
    with hq_server.connect() as conn:  # the module's server keeps releases across tests otherwise
        conn.execute("DELETE FROM release_chunks")
        conn.execute("DELETE FROM releases")
    return hq_server


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path)


@pytest.fixture
def officer(server: HqServer, make_device: Callable[[str], Device]) -> Device:
    device = make_device("ana")
    device.login(server, "ana")
    return device


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "install"
    root.mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


def start(install: Path, keys: Keys, device: Device, *args: str, version: str = INSTALLED) -> subprocess.CompletedProcess[str]:
    """One start of the installed app (the officer's shortcut points at ``version``)."""
    device.close()
    return subprocess.run([sys.executable, str(RUNNER), str(install), version, keys.public_b64,
                           "--data-dir", str(device.root), *args], capture_output=True, text=True,
                          env=child_env(), timeout=120)


def installed(install: Path, keys: Keys, device: Device) -> str:
    done = start(install, keys, device, "update", "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["installed"])


def test_publish_interrupted_download_resumes_then_applies_at_next_start_and_rolls_back(
        server: HqServer, officer: Device, keys: Keys, install: Path, tmp_path: Path) -> None:
    config = UpdateConfig(install, INSTALLED, keys.public)
    new = later(1)
    package = payload(tmp_path, new, "app", keys)
    publish(server, package, new, keys)
    officer.sync()
    offer = updates.offer(officer.db, config)
    assert offer is not None and (offer.version, offer.staged) == (new, False)
    assert offer.notes == "Perbaikan sinkronisasi dan formulir." and offer.size == package.stat().st_size

    # The connection breaks mid-transfer: the bytes received stay in the .part file ...
    cut = {"n": 1}

    def rule(_method: str, path: str) -> Any:
        if path.startswith("/v1/releases/") and cut["n"]:
            cut["n"] -= 1
            return ("cut_after", 200_000)
        return None

    proxy = TcpProxy(int(server.url.rsplit(":", 1)[1]), rule)
    try:
        officer.point_at(proxy.url)
        plan = updates.plan_download(officer.db, config)
        with pytest.raises(SyncError) as broken:
            updates.download_and_stage(plan, config, attempts=1)
        assert broken.value.kind is ErrorKind.NETWORK
        part = Install(install).downloads / f"{new}.part"
        got = part.stat().st_size
        assert 0 < got < package.stat().st_size
        assert Install(install).state().staged is None and not Install(install).folder(new).exists()
        # ... and the next try asks only for the rest (Range), verifies and stages.
        assert updates.download_and_stage(plan, config, attempts=1) == new
    finally:
        proxy.close()
        officer.point_at(server.url)
    assert f"range: bytes={got}-" in proxy.heads[-1].lower()
    assert not part.exists() and Install(install).state().staged == new
    assert updates.offer(officer.db, config).staged  # type: ignore[union-attr]

    # Applied at the next start: the old version hands over to the new one, which confirms.
    assert installed(install, keys, officer) == new
    state = Install(install).state()
    assert Install(install).current(INSTALLED) == new and state.trial is None and state.staged is None
    assert installed(install, keys, officer) == new  # and stays

    # A version that does not start is rolled back at once, and the command runs on the old one.
    broken_version = later(2)
    publish(server, payload(tmp_path, broken_version, "fail", keys), broken_version, keys)
    officer.sync()
    updates.download_and_stage(updates.plan_download(officer.db, config), config)
    done = start(install, keys, officer, "update", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["installed"] == new  # the previous version ran it
    assert f"versi {broken_version} gagal dibuka" in done.stderr
    state = Install(install).state()
    assert Install(install).current(INSTALLED) == new and state.trial is None
    assert broken_version in (state.refused or [])
    assert updates.offer(officer.db, config) is None  # never offered (nor tried) again
    assert installed(install, keys, officer) == new


def test_a_start_cut_short_by_a_power_cut_rolls_back_at_the_next_start(
        server: HqServer, officer: Device, keys: Keys, install: Path, tmp_path: Path) -> None:
    config = UpdateConfig(install, INSTALLED, keys.public)
    new = later(1)
    publish(server, payload(tmp_path, new, "powercut", keys), new, keys)
    officer.sync()
    updates.download_and_stage(updates.plan_download(officer.db, config), config)
    died = start(install, keys, officer, "status")
    assert died.returncode == -9  # the launcher itself was killed while the new version started
    assert Install(install).current(INSTALLED) == new and Install(install).state().trial is not None
    assert installed(install, keys, officer) == INSTALLED  # the next start rolled back
    state = Install(install).state()
    assert Install(install).current("?") == INSTALLED and new in (state.refused or []) and state.trial is None


def test_an_app_below_the_minimum_stops_syncing_keeps_its_records_and_can_still_update(
        server: HqServer, officer: Device, keys: Keys, install: Path, tmp_path: Path) -> None:
    config = UpdateConfig(install, INSTALLED, keys.public)
    hid = officer.create_household("35.01.01.2001")
    new = later(2)
    publish(server, payload(tmp_path, new, "app", keys), new, keys, minimum=later(1))
    with pytest.raises(SyncError) as too_old:
        officer.sync()
    assert too_old.value.kind is ErrorKind.TOO_OLD
    assert officer.pending() > 0 and officer.row("households", hid) is not None  # nothing lost, nothing sent
    assert server.query("SELECT count(*) FROM records")[0][0] == 0
    offer = updates.offer(officer.db, config)
    assert offer is not None and offer.required and offer.version == new
    assert updates.download_and_stage(updates.plan_download(officer.db, config), config) == new
    done = start(install, keys, officer, "sync")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "terlalu lama" in done.stderr
    assert officer.pending() > 0


def _flip(response: bytes) -> bytes:
    head, sep, body = response.partition(b"\r\n\r\n")
    middle = len(body) // 2
    return head + sep + body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1:]


def _resize(delta: int) -> Callable[[bytes], bytes]:
    def change(response: bytes) -> bytes:
        head, sep, body = response.partition(b"\r\n\r\n")
        body = body[:delta] if delta < 0 else body + os.urandom(delta)
        lines = [b"content-length: %d" % len(body) if line.lower().startswith(b"content-length:") else line
                 for line in head.split(b"\r\n")]
        return b"\r\n".join(lines) + sep + body
    return change


def _sql(*statements: str) -> Callable[[HqServer], None]:
    def run(server: HqServer) -> None:
        with server.connect() as conn:
            for statement in statements:
                conn.execute(statement)
    return run


TAMPERING: dict[str, dict[str, Any]] = {
    "flipped_byte": {"proxy": ("rewrite", _flip), "reason": "hash_mismatch", "words": "rusak atau diubah"},
    "truncated": {"proxy": ("rewrite", _resize(-1000)), "reason": "truncated", "words": "tidak lengkap"},
    "extra_bytes": {"proxy": ("rewrite", _resize(1000)), "reason": "oversized", "words": "lebih besar"},
    "wrong_key": {"signer": "other", "reason": "bad_signature", "words": "tidak sah"},
    "missing_signature": {"server": _sql("UPDATE releases SET signature = ''"), "reason": "unsigned",
                          "words": "tidak bertanda tangan"},
    "garbled_signature": {"server": _sql("UPDATE releases SET signature = 'bm90IGEgc2lnbmF0dXJl'"),
                          "reason": "bad_signature", "words": "tidak sah"},
    "announced_version_differs_from_manifest": {
        "server": _sql("PRAGMA foreign_keys = OFF", f"UPDATE releases SET version = '{later(3)}'",
                       f"UPDATE release_chunks SET version = '{later(3)}'"),
        "reason": "mismatch", "words": "tidak cocok"},
    "announced_size_differs_from_manifest": {"server": _sql("UPDATE releases SET size = size - 1"),
                                             "reason": "mismatch", "words": "tidak cocok"},
    "package_holds_another_version": {"version_file": later(9), "reason": "bad_content", "words": "tidak berisi"},
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_every_kind_of_tampering_is_refused_and_never_applied(
        server: HqServer, officer: Device, keys: Keys, install: Path, tmp_path: Path, case: str) -> None:
    spec = TAMPERING[case]
    config = UpdateConfig(install, INSTALLED, keys.public)
    new = later(1)
    signer = Keys(tmp_path, "other") if spec.get("signer") == "other" else keys
    publish(server, payload(tmp_path, new, "app", keys, version_file=spec.get("version_file")), new, signer)
    if "server" in spec:
        spec["server"](server)
    officer.sync()
    proxy = TcpProxy(int(server.url.rsplit(":", 1)[1]),
                     lambda _m, path: spec.get("proxy") if path.startswith("/v1/releases/") else None)
    try:
        officer.point_at(proxy.url)
        with pytest.raises(updates.UpdateRefused) as refused:
            updates.download_and_stage(updates.plan_download(officer.db, config), config)
        done = start(install, keys, officer, "update", "--download")  # the CLI, through the same proxy
        assert done.returncode == 1 and done.stderr.count("\n") == 1 and "ditolak" in done.stderr
    finally:
        proxy.close()
    assert refused.value.reason == spec["reason"]
    message = str(refused.value)
    assert message.startswith("Paket pembaruan ditolak dan tidak dipasang") and spec["words"] in message
    assert "\n" not in message
    root = Install(install)
    assert root.state().staged is None and root.state().trial is None
    assert not any(root.versions.glob("*")) if root.versions.exists() else True
    assert not any(root.downloads.glob("*")) if root.downloads.exists() else True
    assert installed(install, keys, officer) == INSTALLED  # the next start runs the old version


def test_a_downgrade_is_never_offered_nor_applied(server: HqServer, officer: Device, keys: Keys, install: Path,
                                                  tmp_path: Path) -> None:
    older = INSTALLED
    running = later(1)  # this laptop already runs a newer version than HQ's newest release
    publish(server, payload(tmp_path, older, "app", keys), older, keys)
    officer.sync()
    config = UpdateConfig(install, running, keys.public)
    assert updates.offer(officer.db, config) is None
    with pytest.raises(updates.KnownError, match="Tidak ada pembaruan"):
        updates.plan_download(officer.db, config)
    update = updates.announced(officer.db)
    assert update is not None
    with pytest.raises(updates.UpdateRefused) as refused:
        updates.trusted_manifest(update, config)
    assert refused.value.reason == "downgrade"
    # Nor does a start switch to an older version somebody unpacked and marked staged by hand.
    root = Install(install)
    folder = root.folder(older)
    folder.mkdir(parents=True)
    with zipfile.ZipFile(payload(tmp_path, older, "fail", keys)) as zf:
        zf.extractall(folder)
    (folder / "desmig").chmod(0o755)
    state = root.state()
    state.staged = older
    root.save(state)
    done = start(install, keys, officer, "update", "--json", version=running)
    assert done.returncode == 0 and json.loads(done.stdout)["installed"] == running
    assert root.current(running) == running
