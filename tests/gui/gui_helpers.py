"""Driving forms through their widgets, as an officer would (typing, choosing, clicking)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt

from desmig_desktop.ui.field_widgets import ComboEditor, LineEditor, LongTextEditor, MultiEditor, RegionEditor
from desmig_desktop.ui.form import SpecForm

VILLAGE = "32.01.05.2001"  # Cijayanti, Babakan Madang, Kabupaten Bogor, Jawa Barat
OTHER_VILLAGE = "33.01.01.2001"
BIG_HOUSEHOLDS = 20_000


def fill(qtbot: Any, form: SpecForm, values: Mapping[str, Any]) -> None:
    """Type or choose each value in its field, in the given order."""
    for key, value in values.items():
        editor = form.editors[key]
        if isinstance(editor, LineEditor):  # text, NIK, money, date… typed key by key
            editor.edit.setFocus()
            editor.edit.selectAll()
            qtbot.keyClick(editor.edit, Qt.Key.Key_Backspace)
            qtbot.keyClicks(editor.edit, str(value))
        elif isinstance(editor, LongTextEditor):
            editor.edit.setFocus()
            qtbot.keyClicks(editor.edit, str(value))
        elif isinstance(editor, ComboEditor):
            index = editor.combo.findData(value)
            assert index >= 0, f"{key}: no choice {value!r}"
            editor.combo.setFocus()
            editor.combo.setCurrentIndex(index)
        elif isinstance(editor, MultiEditor):
            for choice in value:
                editor.checks[choice].click()
        elif isinstance(editor, RegionEditor):
            editor.picker.set_code(value)
        else:
            raise AssertionError(f"cannot fill {key}")


def show_active(qtbot: Any, widget: Any) -> None:
    """Show a top-level widget and wait until it has keyboard focus (shortcuts and focus need it)."""
    widget.show()
    qtbot.waitExposed(widget)
    widget.windowHandle().requestActivate()
    qtbot.waitUntil(widget.isActiveWindow)


def click(qtbot: Any, button: Any) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def press_ctrl(qtbot: Any, widget: Any, key: Qt.Key) -> None:
    qtbot.keyClick(widget, key, Qt.KeyboardModifier.ControlModifier)


def restore_all_drafts(qtbot: Any, window: Any) -> int:
    """In the drafts chooser: Ctrl+A (every line), Enter (open them); returns how many forms opened."""
    dialog = window.offer_drafts()
    if dialog is None:
        return 0
    qtbot.waitUntil(dialog.list.hasFocus)
    qtbot.keyClick(dialog.list, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    restored = int(dialog.restored)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    show_active(qtbot, window)  # a window manager gives the focus back to the window; offscreen Qt does not
    return restored
