"""Several officers on one laptop: the profile chooser at start and the "new profile" dialog.

The chooser shows what ``profile.json`` holds — officer name, villages, last sync — and nothing
else: no NIK, no household, nothing from inside a profile's encrypted database. It is keyboard
first: the list has the focus, arrows move, Enter opens the profile (its passphrase is asked
next), Ctrl+N makes a new profile, Esc leaves the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.profiles import NAME_MAX, Profile
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.history import local_time

log = logging.getLogger(__name__)
NEW_PROFILE = 2  # the chooser's result code for Ctrl+N / "Profil baru…"
SHOWN_VILLAGES = 3


def describe(profile: Profile) -> str:
    """Two lines for the list: who, then where and when last synced."""
    who = profile.officer_name or profile.name
    first = f"{who}  ({profile.name})" if profile.officer_name else who
    names = [v.name for v in profile.villages]
    villages = ", ".join(names[:SHOWN_VILLAGES]) + (" …" if len(names) > SHOWN_VILLAGES else "")
    where = _("Desa: {villages}", villages=villages) if names else _("Desa belum dipilih")
    when = (_("sinkron terakhir {time}", time=local_time(profile.last_sync_at)) if profile.last_sync_at
            else _("belum pernah sinkron"))
    if not profile.has_database:
        when = _("belum disiapkan")
    return f"{first}\n{where} · {when}"


class ProfileChooser(QDialog):
    """Pick the profile to open; ``chosen`` holds its name after "Buka", the result says what happened."""

    def __init__(self, profiles: list[Profile], parent: QWidget | None = None, *, current: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("profile_chooser")
        self.setWindowTitle(_("Desmigratif — pilih profil"))
        self.chosen: str | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(_("Laptop ini dipakai beberapa petugas. Pilih profil Anda lalu ketik kata sandinya; "
                         "data setiap profil terpisah dan dikunci dengan kata sandinya sendiri."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget(self)
        self.list.setObjectName("profile_list")
        self.list.setAlternatingRowColors(True)
        self.list.setStyleSheet("QListWidget::item { padding: 6px; }")
        for profile in profiles:
            item = QListWidgetItem(describe(profile))
            item.setData(Qt.ItemDataRole.UserRole, profile.name)
            self.list.addItem(item)
        layout.addWidget(self.list, 1)
        keys = QLabel(_("↑/↓ pilih · Enter buka · Ctrl+N profil baru · Esc tutup"), self)
        keys.setStyleSheet("color: #555;")
        layout.addWidget(keys)
        box = QDialogButtonBox(self)
        self.open_button = box.addButton(_("Buka"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_button.setObjectName("open_profile")
        self.open_button.setDefault(True)
        self.new_button = box.addButton(_("Profil baru…"), QDialogButtonBox.ButtonRole.ActionRole)
        self.new_button.setObjectName("new_profile")
        box.addButton(_("Tutup aplikasi"), QDialogButtonBox.ButtonRole.RejectRole)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        self.new_button.clicked.connect(self.request_new)
        layout.addWidget(box)
        QShortcut(QKeySequence(QKeySequence.StandardKey.New), self, self.request_new)
        self.list.itemActivated.connect(lambda _item: self.accept())
        names = [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]
        self.list.setCurrentRow(names.index(current) if current in names else 0)
        self.open_button.setEnabled(self.list.count() > 0)
        self.list.setFocus(Qt.FocusReason.OtherFocusReason)
        self.resize(560, 420)

    def accept(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen = item.data(Qt.ItemDataRole.UserRole)
        super().accept()

    def request_new(self) -> None:
        self.chosen = None
        self.done(NEW_PROFILE)


class NewProfileDialog(QDialog):
    """The short name of a new profile; ``create(name)`` makes its folder (``KnownError`` says why not)."""

    def __init__(self, create: Callable[[str], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._create = create
        self.created: Any = None
        self.setObjectName("new_profile_dialog")
        self.setWindowTitle(_("Profil baru"))
        layout = QVBoxLayout(self)
        intro = QLabel(_("Profil baru mendapat basis data, kata sandi dan pendaftaran perangkatnya sendiri. "
                         "Sesudah ini Anda memilih kata sandi, nama petugas dan desa tugas."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.name = QLineEdit(self)
        self.name.setObjectName("profile_name")
        self.name.setMaxLength(NAME_MAX + 8)  # a little room so "too long" can be said instead of cut silently
        form.addRow(_("Nama profil:"), self.name)
        layout.addLayout(form)
        hint = QLabel(_("Nama pendek, mis. nama panggilan: huruf a–z, angka, - atau _ (paling banyak {count}).",
                        count=NAME_MAX), self)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.problem = dialogs.problem_label(self)
        layout.addWidget(self.problem)
        layout.addWidget(dialogs.button_box(self, _("Lanjut")))
        self.name.textChanged.connect(lambda _t: self.problem.hide())
        self.setMinimumWidth(460)

    def accept(self) -> None:
        try:
            self.created = self._create(self.name.text())
        except KnownError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            self.name.selectAll()
            self.name.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        super().accept()

    def ask(self) -> Any:
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)
        return self.created if self.exec() else None
