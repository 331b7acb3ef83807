"""Several officers on one laptop, in the GUI: the profile chooser (keyboard first) and switching
profiles, where only the next profile's own passphrase opens it."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from gui_helpers import VILLAGE, fill, press_ctrl, show_active
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWizard

from desmig_desktop.app import database_factory
from desmig_desktop.services.database import PLAINTEXT_ENV
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.paths import Paths
from desmig_desktop.services.profiles import ProfileHome, remember
from desmig_desktop.store import settings
from desmig_desktop.store.db import connect
from desmig_desktop.ui.passphrase import UnlockDialog
from desmig_desktop.ui.profile_chooser import NEW_PROFILE, NewProfileDialog, ProfileChooser
from desmig_desktop.ui.shell import Shell, start_profile

KEY_A = "kunci-ana-desa-1"
KEY_B = "kunci-budi-desa-2"
SYNCED_AT = "2026-12-01T03:04:05.000000Z"


@pytest.fixture(scope="session")
def encrypted_templates(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made: dict[str, Path] = {}
    for name, key in (("ana", KEY_A), ("budi", KEY_B)):
        path = tmp_path_factory.mktemp(f"profile-{name}") / "desmig.db"
        shutil.copyfile(template_db, path)
        db = connect(path, key)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        made[name] = path
    return made


@pytest.fixture
def home(tmp_path: Path, encrypted_templates: dict[str, Path]) -> ProfileHome:
    """Two officers' profiles, each encrypted with its own passphrase; ana has households with NIKs."""
    profiles = ProfileHome(tmp_path / "home")
    for name, key, officer in (("ana", KEY_A, "Ana Petugas"), ("budi", KEY_B, "Budi Santoso")):
        paths = profiles.create(name)
        shutil.copyfile(encrypted_templates[name], paths.database)
        db = connect(paths.database, key)
        settings.put(db, "officer_name", officer)
        settings.put(db, "villages", [VILLAGE])
        if name == "ana":
            generate_demo(db, 2, villages=[VILLAGE], seed=3)
        else:
            settings.put(db, "last_success", SYNCED_AT, table="sync_state")
        remember(paths, db)
        db.close()
    return profiles


@pytest.fixture(autouse=True)
def own_log_handlers() -> Iterator[None]:
    """Opening a profile points the root logger at that profile's log file: undo it after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers, root.level = handlers, level


def make_shell(home: ProfileHome) -> Shell:
    return Shell(None, profiles=home, make_opener_for=lambda where: (lambda pw: database_factory(where, pw)))


def on_dialogs(steps: list[tuple[type, Callable[[Any], None]]], *, polls: int = 3000) -> list[Any]:
    """Run each step's action on the next modal dialog of its kind as it opens (``exec`` blocks)."""
    seen: list[Any] = []
    left = [polls]

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if len(seen) < len(steps):
            kind, action = steps[len(seen)]
            if isinstance(widget, kind) and widget not in seen and widget.isVisible():
                seen.append(widget)
                action(widget)
        left[0] -= 1
        if len(seen) < len(steps) and left[0] > 0:
            QTimer.singleShot(10, poll)

    QTimer.singleShot(0, poll)
    return seen


def key(qtbot: Any, widget: Any, which: Qt.Key) -> None:
    qtbot.keyClick(widget, which)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_chooser_shows_officers_villages_and_last_sync_and_is_driven_by_keys(qtbot: Any, home: ProfileHome) -> None:
    db = connect(home.paths_of("ana").database, KEY_A)
    niks = [r[0] for r in db.execute("SELECT nik FROM members WHERE nik IS NOT NULL")]
    heads = [r[0] for r in db.execute("SELECT head_name FROM households")]
    db.close()
    assert niks and heads
    chooser = ProfileChooser(home.profiles())
    qtbot.addWidget(chooser)
    show_active(qtbot, chooser)
    texts = [chooser.list.item(i).text() for i in range(chooser.list.count())]
    assert texts[0].startswith("Ana Petugas  (ana)\nDesa: Cijayanti") and "belum pernah sinkron" in texts[0]
    assert texts[1].startswith("Budi Santoso  (budi)") and "sinkron terakhir 01/12/2026" in texts[1]
    shown = "\n".join(texts)
    assert not any(nik in shown for nik in niks) and not any(head in shown for head in heads)  # no personal data
    assert chooser.list.hasFocus()
    key(qtbot, chooser.list, Qt.Key.Key_Down)
    key(qtbot, chooser.list, Qt.Key.Key_Return)
    assert chooser.result() == QDialog.DialogCode.Accepted and chooser.chosen == "budi"

    again = ProfileChooser(home.profiles(), current="budi")
    qtbot.addWidget(again)
    show_active(qtbot, again)
    assert again.list.currentRow() == 1
    press_ctrl(qtbot, again.list, Qt.Key.Key_N)
    assert again.result() == NEW_PROFILE and again.chosen is None

    leave = ProfileChooser(home.profiles())
    qtbot.addWidget(leave)
    show_active(qtbot, leave)
    key(qtbot, leave.list, Qt.Key.Key_Escape)
    assert leave.result() == QDialog.DialogCode.Rejected and leave.chosen is None


def _open_ana(qtbot: Any, shell: Shell, home: ProfileHome) -> Any:
    from desmig_desktop.ui.sync.controller import SyncController
    from desmig_desktop.ui.sync.extension import install_sync

    shell.profile_name = "ana"
    assert shell.open_profile(home.paths_of("ana"), KEY_A) is None
    assert shell.window is not None and shell.ctx is not None
    controller = SyncController(shell.ctx)
    install_sync(shell.window, shell.ctx, controller)
    assert shell.window.switch_profile_action.isVisible()
    editor = shell.window.new_household()
    fill(qtbot, editor.form, {"head_name": "Belum Disimpan"})
    return controller


def test_wrong_passphrase_for_b_keeps_a_closed_and_b_locked(qtbot: Any, home: ProfileHome) -> None:
    shell = make_shell(home)
    left: list[bool] = []
    shell.left.connect(lambda: left.append(True))
    controller = _open_ana(qtbot, shell, home)
    a_db = shell.ctx.db
    a_window = shell.window
    b_before = digest(home.paths_of("budi").database)
    seen_problem: list[str] = []
    labels: list[str] = []

    def choose_budi(chooser: ProfileChooser) -> None:
        assert chooser.list.currentItem().data(Qt.ItemDataRole.UserRole) == "ana"  # the profile just closed
        key(qtbot, chooser.list, Qt.Key.Key_Down)
        key(qtbot, chooser.list, Qt.Key.Key_Return)

    def wrong(dialog: UnlockDialog) -> None:
        labels.append(dialog.findChild(type(dialog.problem), "profile_label").text())
        qtbot.keyClicks(dialog.passphrase, KEY_A)  # ana's passphrase does not open budi's data
        key(qtbot, dialog.passphrase, Qt.Key.Key_Return)

    def give_up(dialog: UnlockDialog) -> None:
        seen_problem.append(dialog.problem.text())
        key(qtbot, dialog.passphrase, Qt.Key.Key_Escape)

    def leave(chooser: ProfileChooser) -> None:
        key(qtbot, chooser.list, Qt.Key.Key_Escape)

    on_dialogs([(ProfileChooser, choose_budi), (UnlockDialog, wrong), (UnlockDialog, give_up),
                (ProfileChooser, leave)])
    shell.window.switch_profile_action.trigger()
    qtbot.waitUntil(lambda: bool(left), timeout=30_000)
    assert labels == ["Profil: Budi Santoso (budi)"]
    assert seen_problem == ["Kata sandi salah, atau berkas basis data rusak."]
    assert shell.ctx is None and shell.window is None  # neither profile is open
    assert controller._stopped  # sync stopped with the profile
    assert not shiboken6.isValid(a_window)  # ana's window is gone, not just hidden
    with pytest.raises(Exception, match="closed database"):
        a_db.execute("SELECT 1")  # ana's connection was closed
    assert digest(home.paths_of("budi").database) == b_before  # budi's data untouched, still locked
    reopened = connect(home.paths_of("ana").database, KEY_A)
    drafts = [json.loads(r[0]) for r in reopened.execute("SELECT data FROM drafts")]
    reopened.close()
    assert len(drafts) == 1 and "Belum Disimpan" in json.dumps(drafts[0])  # the open form was kept as a draft


def test_switching_to_b_with_its_own_passphrase_opens_only_b(qtbot: Any, home: ProfileHome) -> None:
    shell = make_shell(home)
    _open_ana(qtbot, shell, home)
    a_db = shell.ctx.db

    def choose_budi(chooser: ProfileChooser) -> None:
        key(qtbot, chooser.list, Qt.Key.Key_Down)
        key(qtbot, chooser.list, Qt.Key.Key_Return)

    def wrong(dialog: UnlockDialog) -> None:
        qtbot.keyClicks(dialog.passphrase, "tebakan-salah")
        key(qtbot, dialog.passphrase, Qt.Key.Key_Return)

    def right(dialog: UnlockDialog) -> None:
        qtbot.keyClicks(dialog.passphrase, KEY_B)
        key(qtbot, dialog.passphrase, Qt.Key.Key_Return)

    on_dialogs([(ProfileChooser, choose_budi), (UnlockDialog, wrong), (UnlockDialog, right)])
    shell.window.switch_profile_action.trigger()
    budi = home.paths_of("budi")
    qtbot.waitUntil(lambda: shell.ctx is not None and shell.ctx.paths == budi and shell.window is not None,
                    timeout=30_000)
    try:
        assert shell.ctx.paths == home.paths_of("budi") and shell.profile_name == "budi"
        assert settings.get(shell.ctx.db, "officer_name") == "Budi Santoso"
        assert shell.window.list_page.model.total == 0  # ana's households are not in budi's database
        with pytest.raises(Exception, match="closed database"):
            a_db.execute("SELECT 1")
    finally:
        shell.close_profile()


def test_new_profile_from_the_chooser_refuses_a_windows_name_and_a_cancelled_setup_leaves_nothing(
        qtbot: Any, home: ProfileHome, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PLAINTEXT_ENV, raising=False)  # production policy: the wizard asks for a passphrase
    shell = make_shell(home)
    problems: list[str] = []
    listed: list[int] = []

    def new(chooser: ProfileChooser) -> None:
        chooser.activateWindow()
        qtbot.waitUntil(chooser.isActiveWindow)
        press_ctrl(qtbot, chooser.list, Qt.Key.Key_N)

    def name(dialog: NewProfileDialog) -> None:
        qtbot.keyClicks(dialog.name, "CON")
        key(qtbot, dialog.name, Qt.Key.Key_Return)
        problems.append(dialog.problem.text())
        assert dialog.isVisible()
        dialog.name.clear()
        qtbot.keyClicks(dialog.name, "Citra")
        key(qtbot, dialog.name, Qt.Key.Key_Return)

    def cancel(wizard: QWizard) -> None:
        assert (home.folder / "citra").is_dir()
        wizard.reject()

    def leave(chooser: ProfileChooser) -> None:
        listed.append(chooser.list.count())
        key(qtbot, chooser.list, Qt.Key.Key_Escape)

    on_dialogs([(ProfileChooser, new), (NewProfileDialog, name), (QWizard, cancel), (ProfileChooser, leave)])
    assert shell.choose_and_open() == 0
    assert problems == ["Nama profil con tidak bisa dipakai (nama khusus di Windows)."]
    assert listed == [2] and not (home.folder / "citra").exists()
    assert home.names() == ["ana", "budi"]


def test_the_chooser_comes_only_when_there_is_a_choice(home: ProfileHome, tmp_path: Path) -> None:
    default = Paths(home.home)
    assert start_profile(default, home) is None  # two profiles: choose
    assert start_profile(home.paths_of("budi"), home, chosen=True) == home.paths_of("budi")  # --profile budi
    assert start_profile(tmp_path / "x" and Paths(tmp_path / "x"), None) == Paths(tmp_path / "x")  # --data-dir
    shutil.rmtree(home.folder / "budi")
    assert start_profile(default, home) == home.paths_of("ana")  # one profile: straight to its passphrase
    shutil.rmtree(home.folder / "ana")
    assert start_profile(default, home) == default  # a new laptop: the default profile, first-run wizard


def test_with_a_data_dir_there_is_no_profile_switching(qtbot: Any, template_db: Path, tmp_path: Path) -> None:
    paths = Paths(tmp_path / "only").ensure()
    shutil.copyfile(template_db, paths.database)
    db = connect(paths.database)
    settings.put(db, "officer_name", "Siti Petugas")
    db.close()
    shell = Shell(None, make_opener_for=lambda where: (lambda pw: database_factory(where, pw)))
    assert shell.open_profile(paths) is None and shell.window is not None
    try:
        assert not shell.window.switch_profile_action.isVisible()  # --data-dir: one data dir, no chooser
        assert not (paths.root / "profile.json").exists()
    finally:
        shell.close_profile()
