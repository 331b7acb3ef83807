"""What stands between the form and the stored household, shown at the top of the editor: the
summary of what stops (or needs confirming before) a save, and the notice of changes made underneath."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.ui.dialogs import ERROR_STYLE
from desmig_desktop.ui.form import WARNING_STYLE
from desmig_desktop.ui.issue_routing import PanelItem


class IssuesPanel(QFrame):
    """Hard errors (save refused) and soft warnings (save needs one explicit confirmation)."""

    item_activated = Signal(object)  # PanelItem
    confirm_requested = Signal()
    open_household_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("issues_panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.list = QListWidget(self)
        self.list.setObjectName("issues_list")
        self.list.setWordWrap(True)
        layout.addWidget(self.list)
        self.hint = QLabel(_("Pilih baris dengan ↑/↓ lalu tekan Enter untuk menuju isiannya."), self)
        self.hint.setStyleSheet("color: #44515f;")
        layout.addWidget(self.hint)
        self.links = QVBoxLayout()
        layout.addLayout(self.links)
        row = QHBoxLayout()
        self.confirm_button = QPushButton(_("Simpan tetap, peringatan sudah diperiksa"), self)
        self.confirm_button.setObjectName("confirm_save")
        self.confirm_button.setAutoDefault(True)
        row.addWidget(self.confirm_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.link_buttons: list[QPushButton] = []
        self.list.itemActivated.connect(lambda item: self.item_activated.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.list.itemClicked.connect(lambda item: self.item_activated.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.confirm_button.clicked.connect(self.confirm_requested)
        self.hide()

    def show_items(self, items: list[PanelItem], duplicates: list[tuple[str, str]]) -> None:
        """Show the summary; ``duplicates`` are ``(household_id, button text)`` for NIKs used elsewhere."""
        self.list.clear()
        for button in self.link_buttons:
            button.deleteLater()
        self.link_buttons = []
        errors = [i for i in items if i.hard]
        if errors:
            self.heading.setText(_("Belum bisa disimpan: perbaiki {count} kesalahan berikut.", count=len(errors)))
            self.heading.setStyleSheet(ERROR_STYLE + " font-weight: bold;")
        else:
            self.heading.setText(_("Ada {count} peringatan. Periksa, lalu simpan tetap bila datanya memang benar.",
                                   count=len(items)))
            self.heading.setStyleSheet(WARNING_STYLE + " font-weight: bold;")
        for item in sorted(items, key=lambda i: not i.hard):
            entry = QListWidgetItem(item.text)
            entry.setForeground(QBrush(QColor("#b00020" if item.hard else "#8a5a00")))
            entry.setData(Qt.ItemDataRole.UserRole, item)
            self.list.addItem(entry)
        for household_id, text in duplicates:
            button = QPushButton(text, self)
            button.setObjectName("open_duplicate")
            button.setAutoDefault(True)
            button.clicked.connect(lambda _c=False, hid=household_id: self.open_household_requested.emit(hid))
            self.links.addWidget(button)
            self.link_buttons.append(button)
        rows = min(self.list.count(), 6)
        self.list.setFixedHeight(self.list.sizeHintForRow(0) * rows + 2 * self.list.frameWidth() + 4 if rows else 0)
        self.confirm_button.setVisible(not errors and bool(items))
        self.show()

    def focus_list(self) -> None:
        """The cursor on the first line: ↑/↓ choose a line, Enter goes to its field."""
        if self.list.count():
            self.list.setCurrentRow(0)
            self.list.setFocus(Qt.FocusReason.OtherFocusReason)

    def withdraw_confirmation(self) -> None:
        """Something changed since the warnings were shown: they must be checked again."""
        self.confirm_button.hide()

    def clear(self) -> None:
        self.list.clear()
        for button in self.link_buttons:
            button.deleteLater()
        self.link_buttons = []
        self.hide()


class UnderneathNotice(QFrame):
    """Says the stored household changed (a sync) since the form read it, with the button that
    takes in the new values of the fields the officer did not change."""

    reload_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changed_underneath")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self)
        self.text = QLabel(_(
            "Data rumah tangga ini sudah diubah di tempat lain (sinkronisasi) sejak formulir ini dibuka. "
            "Isian yang Anda ubah tetap milik Anda; isian lain bisa dimuat ulang."), self)
        self.text.setWordWrap(True)
        row.addWidget(self.text, 1)
        self.button = QPushButton(_("Muat ulang isian yang tidak saya ubah"), self)
        self.button.setObjectName("reload_untouched")
        row.addWidget(self.button)
        self.button.clicked.connect(self.reload_requested)
        self.hide()
