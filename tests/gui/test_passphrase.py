"""The passphrase in the GUI: chosen in the first-run wizard, asked at start, changed in the settings,
and an old plain database encrypted at start behind a busy dialog."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import VILLAGE, click, show_active
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWizard

from desmig_desktop.app import database_factory
from desmig_desktop.services.database import PLAINTEXT_ENV, plaintext_allowed
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.store.db import WrongPassphrase, connect, is_encrypted
from desmig_desktop.ui.passphrase import ChangePassphraseDialog, ChoosePassphraseDialog, UnlockDialog, create_database
from desmig_desktop.ui.setup import FirstRunWizard, SettingsDialog
from desmig_desktop.ui.shell import open_database, start_database

KEY = "kunci desa 'rahasia'"
NEW_KEY = "kunci-baru-2025"


@pytest.fixture(scope="session")
def encrypted_template(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("encrypted") / "desmig.db"
    shutil.copyfile(template_db, path)
    db = connect(path, KEY)
    settings.put(db, "officer_name", "Siti Petugas")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def encrypted(encrypted_template: Path, tmp_path: Path) -> Paths:
    paths = Paths(tmp_path / "secret").ensure()
    shutil.copyfile(encrypted_template, paths.database)
    return paths


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production policy: no plaintext unless the officer chooses it."""
    monkeypatch.delenv(PLAINTEXT_ENV, raising=False)


def opener_for(paths: Paths) -> Callable[[str | None], Callable[[], Any]]:
    return lambda passphrase: database_factory(paths, passphrase)


def on_each_dialog(kind: type, actions: list[Callable[[Any], None]], *, polls: int = 1500) -> list[Any]:
    """Run ``actions[n]`` on the n-th modal ``kind`` dialog as it opens (modal ``exec`` blocks the test).

    Polls every 10 ms, for at most ``polls`` times, so a dialog that never comes cannot leave a timer behind.
    """
    seen: list[Any] = []
    left = [polls]

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, kind) and widget not in seen and widget.isVisible():
            seen.append(widget)
            actions[len(seen) - 1](widget)
        left[0] -= 1
        if len(seen) < len(actions) and left[0] > 0:
            QTimer.singleShot(10, poll)

    QTimer.singleShot(0, poll)
    return seen


def type_in(qtbot: Any, edit: Any, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_wizard_chooses_the_passphrase_and_creates_an_encrypted_database(qtbot: Any, tmp_path: Path,
                                                                          policy: None) -> None:
    paths = Paths(tmp_path / "new").ensure()
    wizard: FirstRunWizard | None = None
    wizard = FirstRunWizard(None, create_database=lambda pw: create_database(paths, opener_for(paths), pw, wizard))
    qtbot.addWidget(wizard)
    show_active(qtbot, wizard)
    wizard.next()
    page = wizard.passphrase_page
    assert page is not None and wizard.currentPage() is page and page.isCommitPage()
    chooser = page.chooser
    assert "tidak bisa dipulihkan" in chooser.warning.text()
    assert not wizard.button(QWizard.WizardButton.CommitButton).isEnabled()  # nothing typed yet
    type_in(qtbot, chooser.first, "pendek")
    type_in(qtbot, chooser.second, "pendek")
    wizard.next()
    assert wizard.currentPage() is page and "terlalu pendek" in chooser.problem.text() and chooser.problem.isVisible()
    type_in(qtbot, chooser.first, "rahasia-desa-1")
    type_in(qtbot, chooser.second, "rahasia-desa-2")
    wizard.next()
    assert wizard.currentPage() is page and "tidak sama" in chooser.problem.text()
    assert not paths.database.exists()  # nothing made while the passphrase is refused
    type_in(qtbot, chooser.second, "rahasia-desa-1")
    wizard.next()  # creates the database behind a busy dialog
    assert wizard.currentPage() is wizard.officer_page and is_encrypted(paths.database)
    assert wizard.db is not None and wizard.opener is not None and wizard.opener.encrypted
    qtbot.keyClicks(wizard.officer_page.name, "Siti Aminah")
    wizard.next()
    editor = wizard.villages_page.editor
    assert editor is not None  # the village picker reads the database made two pages ago
    editor.picker.set_code(VILLAGE)
    click(qtbot, editor.add_button)
    wizard.accept()
    wizard.db.close()
    with pytest.raises(WrongPassphrase):
        connect(paths.database, "rahasia-desa-2")
    reopened = connect(paths.database, "rahasia-desa-1")
    assert settings.get(reopened, "officer_name") == "Siti Aminah" and settings.get(reopened, "villages") == [VILLAGE]
    reopened.close()


def test_storing_without_encryption_takes_an_explicit_choice(qtbot: Any, tmp_path: Path, policy: None,
                                                             answers: Any) -> None:
    paths = Paths(tmp_path / "plain").ensure()
    wizard: FirstRunWizard | None = None
    wizard = FirstRunWizard(None, create_database=lambda pw: create_database(paths, opener_for(paths), pw, wizard))
    qtbot.addWidget(wizard)
    show_active(qtbot, wizard)
    wizard.next()
    chooser = wizard.passphrase_page.chooser
    chooser.plaintext.click()
    assert not chooser.first.isEnabled() and chooser.plaintext_warning.isVisible()
    answers.next = [False]  # "Kembali" at the second question
    wizard.next()
    assert wizard.currentPage() is wizard.passphrase_page and not paths.database.exists()
    wizard.next()
    assert "tanpa enkripsi" in answers.questions[-1]
    assert wizard.currentPage() is wizard.officer_page and not is_encrypted(paths.database)
    assert plaintext_allowed(paths)
    assert json.loads((paths.root / "config.json").read_text())["encryption"] == "off"
    wizard.db.close()


def test_unlock_with_a_wrong_then_the_right_passphrase(qtbot: Any, encrypted: Paths) -> None:
    problems: list[str] = []

    def wrong(dialog: UnlockDialog) -> None:
        assert not dialog.open_button.isEnabled() and not dialog.problem.isVisible()
        type_in(qtbot, dialog.passphrase, "bukan-kuncinya")
        click(qtbot, dialog.open_button)

    def right(dialog: UnlockDialog) -> None:
        problems.append(dialog.problem.text() if dialog.problem.isVisible() else "")
        type_in(qtbot, dialog.passphrase, KEY)
        click(qtbot, dialog.open_button)

    on_each_dialog(UnlockDialog, [wrong, right])
    opened = open_database(opener_for(encrypted), None)
    assert opened is not None
    db, opener = opened
    assert problems == ["Kata sandi salah, atau berkas basis data rusak."]
    assert settings.get(db, "officer_name") == "Siti Petugas" and opener.encrypted
    opener().close()  # background jobs open their own connection with the same passphrase
    db.close()
    on_each_dialog(UnlockDialog, [lambda dialog: dialog.reject()])
    assert open_database(opener_for(encrypted), None) is None  # "Tutup aplikasi"


def test_change_passphrase_in_the_settings_then_reopen(qtbot: Any, encrypted: Paths) -> None:
    opened = open_database(opener_for(encrypted), KEY)
    assert opened is not None
    db, opener = opened
    dialog = SettingsDialog(db, opener=opener, paths=encrypted)
    qtbot.addWidget(dialog)
    assert dialog.security_label is not None and "dienkripsi" in dialog.security_label.text()
    seen: list[str] = []

    def change(box: ChangePassphraseDialog) -> None:
        type_in(qtbot, box.current, "tebakan-salah")
        type_in(qtbot, box.chooser.first, NEW_KEY)
        type_in(qtbot, box.chooser.second, NEW_KEY)
        box.accept()
        seen.append(box.problem.text())
        assert box.isVisible()  # refused: still open, nothing changed
        type_in(qtbot, box.current, KEY)
        type_in(qtbot, box.chooser.second, "kunci-lain-2025")
        box.accept()
        seen.append(box.problem.text())
        type_in(qtbot, box.chooser.second, NEW_KEY)
        box.accept()

    on_each_dialog(ChangePassphraseDialog, [change])
    click(qtbot, dialog.security_button)
    assert seen == ["Kata sandi sekarang salah.", "Kedua kata sandi tidak sama. Ketik ulang keduanya."]
    assert settings.get(db, "officer_name") == "Siti Petugas"  # the open connection keeps working
    background = opener()  # and the next background job uses the new passphrase
    background.close()
    db.close()
    with pytest.raises(WrongPassphrase):
        connect(encrypted.database, KEY)
    reopened = connect(encrypted.database, NEW_KEY)
    assert settings.get(reopened, "officer_name") == "Siti Petugas"
    reopened.close()


def test_an_old_plain_database_is_encrypted_at_start_off_the_gui_thread(qtbot: Any, db: Any, paths: Paths,
                                                                        policy: None) -> None:
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    threads: list[str] = []

    def make_opener(passphrase: str | None) -> Callable[[], Any]:
        def open_db() -> Any:
            threads.append(threading.current_thread().name)
            return database_factory(paths, passphrase)()
        return open_db

    def choose(dialog: ChoosePassphraseDialog) -> None:
        assert not dialog.chooser.plaintext.isChecked()
        type_in(qtbot, dialog.chooser.first, KEY)
        type_in(qtbot, dialog.chooser.second, KEY)
        dialog.accept()

    on_each_dialog(ChoosePassphraseDialog, [choose])
    opened = start_database(paths, make_opener, None)
    assert opened is not None
    encrypted_db, opener = opened
    assert is_encrypted(paths.database) and opener.encrypted
    # encrypted on the task manager's worker, then opened on the GUI thread
    assert [name.split("_")[0] for name in threads] == ["desmig-task", threading.main_thread().name]
    assert settings.get(encrypted_db, "officer_name") == "Siti Petugas"  # nothing lost
    encrypted_db.close()


def test_encryption_can_be_turned_back_on_from_the_settings(qtbot: Any, db: Any, paths: Paths, policy: None,
                                                            answers: Any) -> None:
    from desmig_desktop.services.database import DatabaseOpener, set_plaintext_allowed

    set_plaintext_allowed(paths, True)  # the officer once chose "simpan tanpa enkripsi"
    dialog = SettingsDialog(db, opener=DatabaseOpener(opener_for(paths), None), paths=paths)
    qtbot.addWidget(dialog)
    assert dialog.security_label is not None and "TIDAK" in dialog.security_label.text()
    click(qtbot, dialog.security_button)
    assert "kata sandi" in answers.questions[-1] and not plaintext_allowed(paths)
    assert "dibuka lagi" in dialog.security_label.text() and not dialog.security_button.isEnabled()
