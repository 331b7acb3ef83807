"""The update prompt (issue 17 §2): a non-modal banner fed by the sync cycle's announcement."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtWidgets import QToolBar
from sync_helpers import WAIT_MS, FakeSync, pretend_logged_in

from desmig_desktop import __version__
from desmig_desktop.domain.release import Announcement, Manifest, manifest_bytes, parse_version
from desmig_desktop.services import updates
from desmig_desktop.services.update_install import Install, InstallState, UpdateConfig
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.scheduler import BackoffPolicy
from desmig_desktop.ui import update_banner
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import install_sync

QUIET = BackoffPolicy(base_s=5, cap_s=900, interval_s=3600, after_edit_s=3600)
NOTES = "Perbaikan: daftar desa lebih cepat; formulir usaha menampilkan kelas UMKM."
KEY = Ed25519PrivateKey.generate()
NEW = f"{parse_version(__version__)[0]}.{parse_version(__version__)[1] + 1}.0"


def announcement(version: str = NEW, *, minimum: str = __version__) -> dict[str, Any]:
    body = b"package"
    manifest = Manifest(version, minimum, len(body) * 1000, hashlib.sha256(body).hexdigest())
    signed = manifest_bytes(manifest)
    return Announcement(version, minimum, manifest.size, manifest.sha256, NOTES, signed.decode(),
                        base64.b64encode(KEY.sign(signed)).decode()).as_dict()


@pytest.fixture
def config(tmp_path: Path) -> UpdateConfig:
    return UpdateConfig(tmp_path / "install", __version__, KEY.public_key().public_bytes_raw())


@pytest.fixture
def with_updates(ctx: AppContext, config: UpdateConfig) -> AppContext:
    return AppContext(ctx.db, ctx.paths, ctx.tasks, updates=config)


@pytest.fixture
def make_banner(window: Any, with_updates: AppContext) -> Iterator[Callable[[FakeSync], tuple[SyncController, Any]]]:
    made: list[SyncController] = []

    def make(fake: FakeSync) -> tuple[SyncController, Any]:
        pretend_logged_in(with_updates.db)
        controller = SyncController(with_updates, run_cycle=fake, policy=QUIET)
        made.append(controller)
        install_sync(window, with_updates, controller)
        banner = update_banner.install_update_banner(window, with_updates, controller)
        assert banner is not None
        return controller, banner

    yield make
    for controller in made:
        controller.stop()


def announce(update: dict[str, Any]) -> Callable[..., None]:
    def step(db: Any, _progress: Any, _cancel: Any) -> None:  # what hello does with an announcement
        st.put_state(db, st.K_UPDATE, update)
    return step


def test_prompt_appears_after_a_sync_with_the_notes_and_stages_in_the_background(
        make_banner: Any, qtbot: Any, window: Any, config: UpdateConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    controller, banner = make_banner(FakeSync(announce(announcement())))
    bar = window.findChild(QToolBar, "update_bar")
    assert not banner.isVisible() and not bar.isVisible()  # nothing announced yet
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        controller.sync_now()
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
    assert bar.isVisible() and f"Pembaruan tersedia: Desmig versi {NEW}" in banner.title.text()
    assert banner.notes.text() == NOTES and banner.download_button.isVisible()
    assert not banner.isWindow()  # part of the main window, not a dialog

    release = threading_event()

    def fake_download(plan: updates.DownloadPlan, cfg: UpdateConfig, *, progress: Any, cancel: Any) -> str:
        assert plan.update.version == NEW and cfg == config
        progress(500, 1000)
        release.wait(5)
        install = Install(cfg.root)  # type: ignore[arg-type]
        install.save(InstallState(staged=NEW, refused=[]))
        return NEW

    monkeypatch.setattr(updates, "download_and_stage", fake_download)
    banner.download_button.click()
    assert not banner.download_button.isEnabled() and banner.progress.isVisible()
    qtbot.waitUntil(lambda: banner.progress.value() == 500, timeout=WAIT_MS)
    window.new_household()  # the officer keeps working while it downloads
    release.set()
    qtbot.waitUntil(lambda: not banner.progress.isVisible(), timeout=WAIT_MS)
    assert "Akan dipasang saat Desmig dibuka lagi" in banner.message.text()
    assert not banner.download_button.isVisible()
    banner.later_button.click()
    assert not bar.isVisible()


def threading_event() -> Any:
    import threading

    return threading.Event()


def test_a_refused_package_is_reported_in_words_and_nothing_is_staged(
        make_banner: Any, qtbot: Any, config: UpdateConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    controller, banner = make_banner(FakeSync(announce(announcement())))
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        controller.sync_now()
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)

    def refused(*_a: Any, **_k: Any) -> str:
        raise updates._refused("hash_mismatch", updates._("isi paket berbeda dari yang ditandatangani HQ (rusak atau "
                                                          "diubah)."))

    monkeypatch.setattr(updates, "download_and_stage", refused)
    banner.download_button.click()
    qtbot.waitUntil(lambda: "ditolak" in banner.message.text(), timeout=WAIT_MS)
    assert banner.download_button.text() == "&Coba lagi" and banner.download_button.isEnabled()
    assert Install(config.root).state().staged is None  # type: ignore[arg-type]


def test_an_announcement_by_another_key_is_refused_before_downloading(
        make_banner: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    forged = announcement()
    forged["signature"] = base64.b64encode(Ed25519PrivateKey.generate().sign(forged["manifest"].encode())).decode()
    controller, banner = make_banner(FakeSync(announce(forged)))
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        controller.sync_now()
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
    monkeypatch.setattr(updates, "download_and_stage", lambda *a, **k: pytest.fail("must not download"))
    assert not banner.start_download()
    assert "tanda tangan paket tidak sah" in banner.message.text()


def test_a_rollback_is_told_once(window: Any, with_updates: AppContext, config: UpdateConfig, qtbot: Any) -> None:
    Install(config.root).save(InstallState(refused=[NEW], notice=f"rolled_back:{NEW}:{__version__}"))  # type: ignore[arg-type]
    controller = SyncController(with_updates, run_cycle=FakeSync(), policy=QUIET)
    banner = update_banner.install_update_banner(window, with_updates, controller)
    assert banner is not None and banner.isVisible()
    assert f"Versi {NEW} tidak bisa dibuka" in banner.message.text() and "Data tidak berubah" in banner.message.text()
    assert Install(config.root).state().notice is None  # type: ignore[arg-type]
    controller.stop()


def test_first_paint_confirms_once(qtbot: Any, window: Any) -> None:
    calls: list[int] = []
    from PySide6.QtWidgets import QLabel

    label = QLabel("x")
    qtbot.addWidget(label)
    update_banner.on_first_paint(label, lambda: calls.append(1))
    label.show()
    qtbot.waitUntil(lambda: calls == [1], timeout=WAIT_MS)
    label.repaint()
    assert calls == [1]
