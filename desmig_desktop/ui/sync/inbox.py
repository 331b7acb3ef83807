"""The conflicts inbox: values of mine that lost to another edit, and changes the server refused.

A window of its own (not a modal dialog), so the officer can open a household next to it. Per
conflicting field it shows my value and the winning value: "Tetap pakai milik saya" writes mine
again as a new edit (it goes out with the next sync), "Terima" keeps the winner. A rejected change
shows the server's reason; "Perbaiki dan kirim ulang…" opens the refused fields in a form (the
same field widgets and checks as the editor) and sends the corrected change again.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desmig_desktop.domain.fields import ENTITIES, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError, ValidationFailed
from desmig_desktop.services import sync_service
from desmig_desktop.services.handle import Database
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.form import SpecForm
from desmig_desktop.ui.sync.inbox_model import InboxModel, InboxRow, inbox_rows
from desmig_desktop.ui.tables import record_list

log = logging.getLogger(__name__)


def fixable_keys(entity: str, mine: Any) -> list[str]:
    """The refused fields an officer can correct in a form (links and derived values stay as sent)."""
    spec = ENTITIES[entity]
    if not isinstance(mine, dict):
        return []
    return [f.key for f in spec.fields if f.key in mine and f.kind not in (Kind.REF, Kind.DERIVED)]


class FixDialog(QDialog):
    """Correct a refused change and send it again."""

    def __init__(self, ctx: AppContext, row: InboxRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fix_dialog")
        self.ctx = ctx
        self.row = row
        self.setWindowTitle(_("Perbaiki dan kirim ulang"))
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{html.escape(row.household)}</b> · {html.escape(row.record)}", self)
        heading.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(heading)
        reason = QLabel(_("Alasan dari server: {reason}", reason=row.reason), self)
        reason.setObjectName("fix_reason")
        reason.setWordWrap(True)
        reason.setStyleSheet(dialogs.ERROR_STYLE)
        layout.addWidget(reason)
        item = row.item
        keys = fixable_keys(item.entity, item.mine)
        self.form: SpecForm | None = None
        if item.mine == {"deleted": True}:
            layout.addWidget(QLabel(_("Penghapusan ini ditolak. Kirim ulang penghapusan?"), self))
        elif keys:
            self.form = SpecForm(ENTITIES[item.entity], ctx.db, keys=keys, columns=1)
            self.form.set_values(item.mine)
            scroll = QScrollArea(self)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidgetResizable(True)
            scroll.setWidget(self.form)
            layout.addWidget(scroll, 1)
        self.message = dialogs.problem_label(self, "fix_message")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(self)
        self.send_button = buttons.addButton(_("Kirim ulang"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setObjectName("fix_send")
        buttons.addButton(_("Batal"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, min(640, 170 + 52 * len(keys)))

    def submit(self) -> bool:
        fixes = self.form.values() if self.form is not None else {}
        try:
            sync_service.resend_rejected(self.ctx.db, self.row.item.id, fixes)
        except ValidationFailed as exc:
            issues = [i.issue for i in exc.issues]
            unplaced = self.form.show_errors(issues) if self.form is not None else issues
            self.message.setText("\n".join([str(exc), *(i.message for i in unplaced)]))
            self.message.show()
            return False
        except KnownError as exc:
            self.message.setText(str(exc))
            self.message.show()
            return False
        self.accept()
        return True


class _Page(QWidget):
    def __init__(self, kind: str, intro: str, parent: QWidget) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.intro = QLabel(intro, self)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.model = InboxModel(kind, self)
        self.table = QTableView(self)
        self.table.setObjectName(f"inbox_{kind}_table")
        self.table.setModel(self.model)
        record_list(self.table)
        self.table.setWordWrap(False)
        layout.addWidget(self.table, 1)
        self.empty = QLabel(self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty, 1)  # takes the table's room when there is nothing to show
        self.buttons = QHBoxLayout()
        layout.addLayout(self.buttons)

    def button(self, text: str, name: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        self.buttons.addWidget(button)
        return button

    def current(self) -> InboxRow | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() and index.row() < len(self.model.rows) else None


class ConflictsInbox(QWidget):
    changed = Signal()  # something was resolved: indicator, lists and open forms refresh
    open_household_requested = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("conflicts_inbox")
        self.ctx = ctx
        self.setWindowTitle(_("Konflik dan data ditolak"))
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        self.conflicts = _Page("conflict", _(
            "Isian ini Anda ubah, tetapi di server sudah diubah orang lain dan perubahan itu yang berlaku. "
            "Pilih per isian: tetap pakai nilai Anda (dikirim lagi sebagai perubahan baru) atau terima nilai "
            "yang berlaku."), self)
        self.keep_button = self.conflicts.button(_("Tetap pakai milik saya"), "keep_mine")
        self.accept_button = self.conflicts.button(_("Terima"), "accept_theirs")
        self.conflicts.buttons.addStretch(1)
        self.open_conflict_button = self.conflicts.button(_("Buka rumah tangga"), "open_conflict_household")
        self.rejected = _Page("rejected", _(
            "Server menolak perubahan ini, biasanya karena isiannya belum lengkap atau tidak sesuai aturan. "
            "Perbaiki lalu kirim ulang, atau abaikan (data di server tetap seperti sebelumnya)."), self)
        self.fix_button = self.rejected.button(_("Perbaiki dan kirim ulang…"), "fix_rejected")
        self.dismiss_button = self.rejected.button(_("Abaikan"), "dismiss_rejected")
        self.rejected.buttons.addStretch(1)
        self.open_rejected_button = self.rejected.button(_("Buka rumah tangga"), "open_rejected_household")
        self.tabs.addTab(self.conflicts, "")
        self.tabs.addTab(self.rejected, "")
        layout.addWidget(self.tabs, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        close = QPushButton(_("Tutup"), self)
        close.clicked.connect(self.close)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self.keep_button.clicked.connect(self.keep_mine)
        self.accept_button.clicked.connect(self.accept_theirs)
        self.fix_button.clicked.connect(self.fix)
        self.dismiss_button.clicked.connect(self.dismiss)
        self.open_conflict_button.clicked.connect(lambda: self._open(self.conflicts.current()))
        self.open_rejected_button.clicked.connect(lambda: self._open(self.rejected.current()))
        self.rejected.table.doubleClicked.connect(lambda _i: self.fix())
        for page in (self.conflicts, self.rejected):
            page.table.selectionModel().currentRowChanged.connect(lambda *_a: self._update_buttons())
        self.resize(1000, 520)
        self.reload()

    # content -----------------------------------------------------------------------------

    def reload(self) -> None:
        rows = inbox_rows(self.ctx.db, sync_service.list_conflicts(self.ctx.db))
        for page in (self.conflicts, self.rejected):
            current = page.current()
            page.model.set_rows(rows)
            keep = page.model.row_of(current.item.id) if current is not None else None
            if page.model.rowCount():
                page.table.selectRow(min(keep if keep is not None else 0, page.model.rowCount() - 1))
            header = page.table.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(False)
            for key in ("mine", "theirs", "reason", "won_by"):  # the values compared get room; who won (a long
                # sentence, whole in its tooltip) shares it instead of taking it all
                column = next((i for i, (k, _t) in enumerate(page.model.columns) if k == key), None)
                if column is not None:
                    header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.tabs.setTabText(0, _("Konflik ({count})", count=self.conflicts.model.rowCount()))
        self.tabs.setTabText(1, _("Ditolak server ({count})", count=self.rejected.model.rowCount()))
        self.conflicts.empty.setText(_("Tidak ada konflik. Semua isian Anda sudah sama dengan server."))
        self.rejected.empty.setText(_("Tidak ada data yang ditolak server."))
        for page in (self.conflicts, self.rejected):
            count = page.model.rowCount()
            page.empty.setVisible(count == 0)
            page.intro.setVisible(count > 0)
            page.table.setVisible(count > 0)
        if not self.conflicts.model.rowCount() and self.rejected.model.rowCount():
            self.tabs.setCurrentWidget(self.rejected)
        self._update_buttons()

    def _update_buttons(self) -> None:
        conflict, rejected = self.conflicts.current(), self.rejected.current()
        for button in (self.keep_button, self.accept_button):
            button.setEnabled(conflict is not None)
        self.open_conflict_button.setEnabled(conflict is not None and conflict.household_id is not None)
        for button in (self.fix_button, self.dismiss_button):
            button.setEnabled(rejected is not None)
        self.open_rejected_button.setEnabled(rejected is not None and rejected.household_id is not None)

    def _resolved(self) -> None:
        self.reload()
        self.changed.emit()

    # actions -----------------------------------------------------------------------------

    def keep_mine(self) -> bool:
        """My value again, as a new edit on top of the winner (sent with the next sync)."""
        return self._settle(sync_service.keep_mine, self.conflicts.current(), "conflict %d: kept mine")

    def accept_theirs(self) -> bool:
        return self._settle(sync_service.accept_theirs, self.conflicts.current(),
                            "conflict %d: accepted the winning value")

    def fix(self) -> FixDialog | None:
        """Open the refused change in a form (window-modal; the inbox refreshes once it is resent)."""
        row = self.rejected.current()
        if row is None:
            return None
        dialog = FixDialog(self.ctx, row, self)
        dialog.accepted.connect(self._resolved)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        log.info("rejection %d: fix dialog opened", row.item.id)
        return dialog

    def dismiss(self) -> bool:
        row = self.rejected.current()
        if row is None or not dialogs.confirm(
                self, _("Abaikan perubahan yang ditolak"),
                _("Abaikan perubahan ini? Data di server tetap seperti sebelumnya."), _("Abaikan"), _("Batal"),
                destructive=True):
            return False
        return self._settle(sync_service.dismiss, row, "rejection %d: dismissed")

    def _settle(self, action: Callable[[Database, int], object], row: InboxRow | None, done: str) -> bool:
        """Settle ``row``'s conflict or rejection with ``action``; a refusal is shown and the inbox re-read."""
        if row is None:
            return False
        try:
            action(self.ctx.db, row.item.id)
        except KnownError as exc:
            dialogs.show_error(self, exc)
            self.reload()
            return False
        log.info(done, row.item.id)
        self._resolved()
        return True

    def _open(self, row: InboxRow | None) -> None:
        if row is not None and row.household_id is not None:
            self.open_household_requested.emit(row.household_id)
