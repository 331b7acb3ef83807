"""First-run wizard, settings, the English UI, and the composition root's seams."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from gui_helpers import VILLAGE, click, show_active
from PySide6.QtWidgets import QWizard

from desmig_desktop.domain.i18n import get_language, set_language
from desmig_desktop.store import settings
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.setup import FirstRunWizard, SettingsDialog, needs_setup

ROOT = Path(__file__).resolve().parents[2]


def test_first_run_wizard_stores_language_officer_and_villages(qtbot: Any, db: Any) -> None:
    settings.put(db, "officer_name", "")
    settings.put(db, "villages", [])
    assert needs_setup(db)
    wizard = FirstRunWizard(db)
    qtbot.addWidget(wizard)
    show_active(qtbot, wizard)
    assert wizard.buttonText(QWizard.WizardButton.NextButton) == "Lanjut >"
    wizard.language_page.buttons["en"].click()
    assert get_language() == "en" and wizard.buttonText(QWizard.WizardButton.NextButton) == "Next >"
    wizard.next()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # a name is required
    qtbot.keyClicks(wizard.officer_page.name, "Siti Aminah")
    wizard.next()
    editor = wizard.villages_page.editor
    assert editor is not None and not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    assert editor.picker.levels[0].placeholderText() == "type a province name"  # built in the chosen language
    editor.picker.set_code(VILLAGE)
    click(qtbot, editor.add_button)
    assert editor.codes() == [VILLAGE] and wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    wizard.accept()
    assert settings.get(db, "language") == "en"
    assert settings.get(db, "officer_name") == "Siti Aminah"
    assert settings.get(db, "villages") == [VILLAGE]
    assert not needs_setup(db)


def test_settings_change_villages_and_request_a_rebuild_for_language(qtbot: Any, window: Any, db: Any) -> None:
    dialog = SettingsDialog(db, window)
    qtbot.addWidget(dialog)
    dialog.villages.picker.set_code("33.01.01.2001")
    dialog.villages.add_current()
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    assert dialog.apply() and dialog.language_changed
    assert settings.get(db, "villages") == [VILLAGE, "33.01.01.2001"]
    assert settings.get(db, "language") == "en" and get_language() == "en"


def test_english_window_has_english_labels(qtbot: Any, ctx: Any) -> None:
    set_language("en")
    window = MainWindow(ctx, autosave_ms=60_000)
    qtbot.addWidget(window)
    editor = window.new_household()
    assert window.file_menu.title() == "&File"
    assert editor.form.labels["head_name"].text() == "Head of household *"
    assert window.list_page.search.placeholderText().startswith("Search")
    assert editor.save_button.text() == "Save (Ctrl+S)"


def test_seams_for_sync(qtbot: Any, window: Any) -> None:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel

    assert not window.sync_menu.menuAction().isVisible()
    window.sync_menu.addAction(QAction("Sinkronisasi sekarang", window))
    assert window.sync_menu.menuAction().isVisible()
    label = QLabel("Terakhir sinkron: -")
    window.add_status_widget(label)
    assert label.parent() is not None


def _ui_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    mine = [*sorted((ROOT / "desmig_desktop" / "ui").glob("*.py")), ROOT / "desmig_desktop" / "app.py",
            ROOT / "desmig_desktop" / "services" / "jobs.py"]
    for path in mine:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return found


def test_every_ui_string_is_in_the_english_catalog() -> None:
    catalog: dict[str, str] = {}
    for path in sorted((ROOT / "resources" / "i18n").glob("en*.json")):  # merged as the app merges them
        catalog.update(json.loads(path.read_text(encoding="utf-8")))
    missing = {m: where for m, where in _ui_msgids().items() if m not in catalog}
    assert not missing, missing


def test_language_switch_rebuilds_the_window_and_keeps_open_forms(qtbot: Any, ctx: Any) -> None:
    from gui_helpers import fill

    from desmig_desktop.ui.shell import Shell

    shell = Shell(ctx)
    window = shell.show_main(offer_drafts=False)
    qtbot.addWidget(window)
    editor = window.new_household()
    fill(qtbot, editor.form, {"head_name": "Masih Diisi"})
    set_language("en")
    window.restart_requested.emit()
    rebuilt = shell.window
    assert rebuilt is not window and rebuilt is not None and rebuilt.isVisible()
    qtbot.addWidget(rebuilt)
    restored = rebuilt.editors()
    assert len(restored) == 1 and restored[0].form.editors["head_name"].value() == "Masih Diisi"
    assert restored[0].dirty and rebuilt.file_menu.title() == "&File"


def test_encrypted_database_asks_for_the_passphrase(qtbot: Any, paths: Any) -> None:
    from desmig_desktop.app import database_factory
    from desmig_desktop.store.db import connect
    from desmig_desktop.ui.shell import open_database

    connect(paths.database, "rahasia-desa").close()
    problems: list[str] = []
    typed = iter(["salah", "rahasia-desa"])

    def ask(problem: str) -> str | None:
        problems.append(problem)
        return next(typed)

    opened = open_database(lambda pw: database_factory(paths, pw), None, ask=ask)
    assert opened is not None
    db, open_again = opened
    assert problems[0] == "" and "salah" in problems[1].lower()  # first a plain question, then why
    open_again().close()  # background jobs open their own connection with the same passphrase
    db.close()
    assert open_database(lambda pw: database_factory(paths, pw), None, ask=lambda problem: None) is None
