"""Saving settings is all or nothing: a write failing part-way (disk full, locked) leaves every setting
as it was, so the officer never ends up with a new name and the old villages or language."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from gui_helpers import VILLAGE, show_active

from desmig_desktop.domain.i18n import get_language, set_language
from desmig_desktop.store import settings
from desmig_desktop.ui.setup import FirstRunWizard, SettingsDialog

OTHER_VILLAGE = "33.01.01.2001"
KEYS = ("language", "officer_name", "villages")


def _failing_put(monkeypatch: pytest.MonkeyPatch, fail_at: int) -> None:
    """The ``fail_at``-th settings write (1-based) raises as a full disk would."""
    real = settings.put
    calls = [0]

    def put(db: Any, key: str, value: Any, **kwargs: Any) -> None:
        calls[0] += 1
        if calls[0] == fail_at:
            raise sqlite3.OperationalError("database or disk is full")
        real(db, key, value, **kwargs)

    monkeypatch.setattr(settings, "put", put)


def _stored(db: Any) -> dict[str, Any]:
    return {key: settings.get(db, key) for key in KEYS}


def _change_in_dialog(qtbot: Any, db: Any) -> Callable[[], object]:
    dialog = SettingsDialog(db)
    qtbot.addWidget(dialog)
    dialog.officer.setText("Budi Santoso")
    dialog.villages.picker.set_code(OTHER_VILLAGE)
    dialog.villages.add_current()
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    return dialog.apply


def _finish_wizard(qtbot: Any, db: Any) -> Callable[[], object]:
    wizard = FirstRunWizard(db)
    qtbot.addWidget(wizard)
    show_active(qtbot, wizard)
    wizard.language_page.buttons["en"].click()
    wizard.next()
    qtbot.keyClicks(wizard.officer_page.name, "Budi Santoso")
    wizard.next()
    editor = wizard.villages_page.editor
    assert editor is not None
    editor.picker.set_code(OTHER_VILLAGE)
    editor.add_current()
    return wizard.accept


@pytest.mark.parametrize("fail_at", [1, 2, 3])
@pytest.mark.parametrize("save", [_change_in_dialog, _finish_wizard], ids=["settings dialog", "first-run wizard"])
def test_a_failed_write_leaves_every_setting_as_it_was(qtbot: Any, db: Any, monkeypatch: pytest.MonkeyPatch,
                                                       save: Callable[[Any, Any], Callable[[], object]],
                                                       fail_at: int) -> None:
    settings.put(db, "language", "id")
    before = _stored(db)
    assert before == {"language": "id", "officer_name": "Siti Petugas", "villages": [VILLAGE]}
    commit = save(qtbot, db)
    _failing_put(monkeypatch, fail_at)
    try:
        with pytest.raises(sqlite3.OperationalError):
            commit()
        assert _stored(db) == before
    finally:
        set_language("id")


def test_the_dialog_saves_all_three(qtbot: Any, db: Any) -> None:
    try:
        assert _change_in_dialog(qtbot, db)()
        assert _stored(db) == {"language": "en", "officer_name": "Budi Santoso", "villages": [VILLAGE, OTHER_VILLAGE]}
        assert get_language() == "en"
    finally:
        set_language("id")
