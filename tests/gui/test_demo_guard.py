"""Issue 20 §9: demo data is never one Enter away — typed CONTOH outside a training profile, never the default."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from desmig_desktop.store.queries import entity_counts
from desmig_desktop.ui import data_menu
from desmig_desktop.ui.data_menu import DemoDialog


def run_with(qtbot: Any, window: Any, drive: Callable[[DemoDialog], None]) -> bool:
    """``start_demo`` (modal), driven by ``drive`` once the dialog is up; never left hanging."""
    def act() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, DemoDialog)
        try:
            drive(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, act)
    return data_menu.start_demo(window)


def households(db: Any) -> int:
    return int(entity_counts(db)["households"])


def small_count(qtbot: Any, dialog: DemoDialog) -> None:
    dialog.count.setFocus()
    qtbot.keyClick(dialog.count, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.count, "3")


@pytest.fixture
def training_window(qtbot: Any, ctx: Any) -> Any:
    from desmig_desktop.ui.main_window import MainWindow

    win = MainWindow(dataclasses.replace(ctx, training=True), autosave_ms=60_000)
    qtbot.addWidget(win)
    return win


@pytest.mark.parametrize("mode", ["field", "training"])
def test_enter_in_the_demo_dialog_never_creates_data(qtbot: Any, window: Any, db: Any, mode: str,
                                                     request: pytest.FixtureRequest) -> None:
    win = request.getfixturevalue("training_window") if mode == "training" else window
    assert ("LATIHAN" in win.windowTitle()) is (mode == "training")

    def drive(dialog: DemoDialog) -> None:
        small_count(qtbot, dialog)
        qtbot.keyClick(dialog.count, Qt.Key.Key_Return)  # the reflex Enter

    started = run_with(qtbot, win, drive)
    if started:  # (the bug) let the job end before failing
        qtbot.waitUntil(lambda: not win.ctx.tasks.busy, timeout=30_000)
    assert not started and households(db) == 0


@pytest.mark.parametrize("typed, accepted", [
    ("", False), ("C", False), ("CONTO", False), ("CONTOHX", False), ("YA", False), ("CON TOH", False),
    ("CONTOH", True), ("contoh", True), ("  CONTOH ", True),
])
def test_outside_training_only_the_typed_word_unlocks_create(qtbot: Any, window: Any, db: Any, typed: str,
                                                             accepted: bool) -> None:
    seen: dict[str, Any] = {}

    def drive(dialog: DemoDialog) -> None:
        assert dialog.confirm_word is not None and not dialog.create_button.isEnabled()
        small_count(qtbot, dialog)
        dialog.confirm_word.setFocus()
        qtbot.keyClicks(dialog.confirm_word, typed)
        seen["enabled"] = dialog.create_button.isEnabled()
        qtbot.keyClick(dialog.confirm_word, Qt.Key.Key_Return)
        seen["open_after_enter"] = dialog.isVisible()  # an unfinished word: Enter neither creates nor cancels

    if accepted:
        with qtbot.waitSignal(window.ctx.tasks.finished, timeout=30_000) as finished:
            assert run_with(qtbot, window, drive)
        assert finished.args == ["done"] and households(db) == 3
    else:
        assert not run_with(qtbot, window, drive)
        assert households(db) == 0 and not window.ctx.tasks.busy
    assert seen["enabled"] is accepted and seen["open_after_enter"] is not accepted


def test_training_profile_creates_by_tab_to_the_button(qtbot: Any, training_window: Any, db: Any) -> None:
    def drive(dialog: DemoDialog) -> None:
        assert dialog.confirm_word is None and dialog.create_button.isEnabled()
        small_count(qtbot, dialog)
        dialog.create_button.setFocus()  # Tab from the count reaches "Buat"; Enter presses the focused button
        qtbot.keyClick(dialog.create_button, Qt.Key.Key_Return)

    with qtbot.waitSignal(training_window.ctx.tasks.finished, timeout=30_000) as finished:
        assert run_with(qtbot, training_window, drive)
    assert finished.args == ["done"] and households(db) == 3
