"""The drafts chooser: which unsaved forms of an earlier session to open again, and which to throw away.

Shown at start when drafts were left (app closed with open forms, a crash, a power cut). One line
per draft, newest first; ↑/↓ (Shift for several, Ctrl+A for all) choose, Enter opens the chosen
forms, Delete throws them away after one question, Esc keeps them all for later. The dialog stays
open while lines remain, so a few can be opened now and the rest decided on later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desmig_desktop.domain.i18n import _
from desmig_desktop.services.drafts import Draft
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.history import local_time


def describe(draft: Draft) -> str:
    """One line: whose household, new or a change, how many members, when it was last kept."""
    data = draft.data
    title = str(data.get("title") or _("Rumah tangga baru"))
    kind = _("rumah tangga baru") if data.get("is_new") else _("perubahan yang belum disimpan")
    members = len(data.get("members") or [])
    return _("{title} — {kind}, {members} anggota (tersimpan otomatis {when})", title=title, kind=kind,
             members=members, when=local_time(draft.saved_at))


class DraftsDialog(QDialog):
    """Chooses drafts to reopen (``restore``) or throw away (``discard``); the rest stay for later."""

    def __init__(self, found: Sequence[Draft], *, restore: Callable[[list[Draft]], int],
                 discard: Callable[[list[Draft]], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drafts_dialog")
        self.setWindowTitle(_("Isian yang belum disimpan"))
        self._restore, self._discard = restore, discard
        self.restored = 0
        layout = QVBoxLayout(self)
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.list = QListWidget(self)
        self.list.setObjectName("drafts_list")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for draft in sorted(found, key=lambda d: d.saved_at, reverse=True):
            item = QListWidgetItem(describe(draft))
            item.setData(Qt.ItemDataRole.UserRole, draft)
            self.list.addItem(item)
        layout.addWidget(self.list)
        hint = QLabel(_("↑/↓ memilih (Shift untuk beberapa, Ctrl+A semua). Isian yang tidak dipilih tetap "
                        "disimpan dan ditawarkan lagi lain kali."), self)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        buttons = QHBoxLayout()
        self.restore_button = QPushButton(_("Buka yang dipilih (Enter)"), self)
        self.restore_button.setObjectName("restore_drafts")
        self.discard_button = QPushButton(_("Buang yang dipilih… (Del)"), self)
        self.discard_button.setObjectName("discard_drafts")
        self.later_button = QPushButton(_("Nanti saja (Esc)"), self)
        for button in (self.restore_button, self.discard_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.later_button)
        layout.addLayout(buttons)
        self.restore_button.setDefault(True)
        self.restore_button.clicked.connect(self.restore_selected)
        self.discard_button.clicked.connect(self.discard_selected)
        self.later_button.clicked.connect(self.reject)
        delete = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.discard_selected)
        self.list.itemSelectionChanged.connect(self._update)
        self.list.setCurrentRow(0)
        self.list.setFocus()
        self.resize(640, 360)
        self._update()

    def drafts(self) -> list[Draft]:
        return [self.list.item(n).data(Qt.ItemDataRole.UserRole) for n in range(self.list.count())]

    def selected(self) -> list[Draft]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def restore_selected(self) -> None:
        chosen = self.selected()
        if chosen:
            self.restored += self._restore(chosen)
            self._remove(chosen)

    def discard_selected(self) -> None:
        chosen = self.selected()
        if not chosen or not dialogs.confirm(
                self, _("Buang isian"), _("Buang {count} isian yang belum disimpan? Isinya hilang dan tidak bisa "
                                          "dikembalikan.", count=len(chosen)), _("Buang"), _("Batal"),
                destructive=True):
            return
        self._discard(chosen)
        self._remove(chosen)

    def _remove(self, done: list[Draft]) -> None:
        keys = {d.key for d in done}
        for row in reversed(range(self.list.count())):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole).key in keys:
                self.list.takeItem(row)
        if not self.list.count():
            self.accept()
            return
        self.list.setCurrentRow(0)
        self.list.setFocus()
        self._update()

    def _update(self) -> None:
        count = self.list.count()
        self.heading.setText(_("Ada {count} isian yang belum disimpan dari sesi sebelumnya. Pilih yang akan dibuka "
                               "sekarang.", count=count))
        has_choice = bool(self.list.selectedItems())
        self.restore_button.setEnabled(has_choice)
        self.discard_button.setEnabled(has_choice)
