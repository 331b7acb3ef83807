"""First-run wizard and settings: language, officer name, the villages the officer works in, and
(on a new install) the database passphrase.

Stored in the local ``settings`` table as ``language``, ``officer_name`` and ``villages`` (a list
of Kemendagri village codes). The sync part replaces ``villages`` with the server's assignment.
On a new install the wizard starts without a database: its passphrase page creates it (see
``ui.passphrase``), so the later pages — the village picker reads the region table — have one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desmig_desktop.domain.i18n import _, get_language, set_language
from desmig_desktop.services import regions, settings
from desmig_desktop.services.database import PLAINTEXT_ENV, DatabaseOpener, plaintext_allowed, set_plaintext_allowed
from desmig_desktop.services.handle import Database
from desmig_desktop.services.paths import Paths
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.passphrase import ChangePassphraseDialog, PassphrasePage
from desmig_desktop.ui.region_picker import RegionPicker

LANGUAGES = (("id", "Bahasa Indonesia"), ("en", "English"))


class VillageListEditor(QWidget):
    """Pick villages with the region picker and collect them in a list."""

    changed = Signal()

    def __init__(self, db: Database, codes: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.picker = RegionPicker(db, self)
        layout.addWidget(self.picker)
        row = QHBoxLayout()
        self.add_button = QPushButton(_("Tambahkan desa ini"), self)
        self.add_button.setObjectName("add_village")
        self.add_button.setEnabled(False)
        self.remove_button = QPushButton(_("Hapus dari daftar"), self)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(QLabel(_("Desa tugas:"), self))
        self.list = QListWidget(self)
        self.list.setObjectName("village_list")
        layout.addWidget(self.list, 1)
        for code in codes:
            self._append(code)
        self.picker.changed.connect(lambda: self.add_button.setEnabled(self.picker.code() is not None))
        self.add_button.clicked.connect(self.add_current)
        self.remove_button.clicked.connect(self.remove_current)
        self.picker.levels[3].returnPressed.connect(self.add_current)

    def codes(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def add_current(self) -> None:
        code = self.picker.code()
        if code and code not in self.codes():
            self._append(code)
            self.changed.emit()

    def remove_current(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self.changed.emit()

    def _append(self, code: str) -> None:
        item = QListWidgetItem(f"{regions.village_label(self._db, code)}  ({code})")
        item.setData(Qt.ItemDataRole.UserRole, code)
        self.list.addItem(item)


class LanguagePage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        layout = QVBoxLayout(self)
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        layout.addSpacing(12)
        self.buttons: dict[str, QRadioButton] = {}
        for code, name in LANGUAGES:
            button = QRadioButton(name, self)
            button.setObjectName(f"language_{code}")
            button.setChecked(code == get_language())
            button.toggled.connect(partial(self._on_language_toggled, code))
            layout.addWidget(button)
            self.buttons[code] = button
        layout.addStretch(1)

    def _on_language_toggled(self, code: str, on: bool) -> None:
        if on:
            self._wizard.set_wizard_language(code)

    def retranslate(self) -> None:
        self.setTitle(_("Selamat datang"))
        self.setSubTitle(_("Pilih bahasa aplikasi. Bisa diubah nanti di Pengaturan."))
        self.intro.setText(_("Aplikasi ini mencatat rumah tangga PMI, anggotanya, riwayat penempatan dan unit usahanya. "
                             "Semua data disimpan dulu di laptop ini, jadi bisa dipakai tanpa internet; data dikirim "
                             "ke server saat sinkronisasi."))


class OfficerPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__(wizard)
        layout = QFormLayout(self)
        self.label = QLabel(self)
        self.name = QLineEdit(self)
        self.name.setObjectName("officer_name")
        self.name.setMaxLength(150)
        layout.addRow(self.label, self.name)
        self.name.textChanged.connect(lambda _t: self.completeChanged.emit())

    def retranslate(self) -> None:
        self.setTitle(_("Petugas"))
        self.setSubTitle(_("Nama Anda sebagai petugas pendataan."))
        self.label.setText(_("Nama petugas:"))

    def isComplete(self) -> bool:
        return bool(self.name.text().strip())


class VillagesPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self._layout = QVBoxLayout(self)
        self.editor: VillageListEditor | None = None
        self._built_for = ""

    def retranslate(self) -> None:
        self.setTitle(_("Desa tugas"))
        self.setSubTitle(_("Pilih desa/kelurahan tempat Anda bertugas: provinsi, kabupaten/kota, kecamatan, lalu desa. "
                           "Ketik sebagian nama untuk menyaring."))
        self._build_editor()

    def initializePage(self) -> None:
        self._build_editor()  # on a new install the database exists only from the passphrase page on

    def _build_editor(self) -> None:
        db = self._wizard.db
        if db is None or self._built_for == get_language():  # the picker's labels are built in the current language
            return
        codes = self.editor.codes() if self.editor else []
        if self.editor is not None:
            self.editor.deleteLater()
        self.editor = VillageListEditor(db, codes, self)
        self.editor.changed.connect(self.completeChanged)
        self._layout.addWidget(self.editor)
        self._built_for = get_language()

    def isComplete(self) -> bool:
        return self.editor is not None and bool(self.editor.codes())


CreateDatabase = Callable[[str | None], tuple[Database, DatabaseOpener]]


class FirstRunWizard(QWizard):
    """Shown once, before the main window, until an officer name and villages are stored.

    With ``create_database`` (a new install, no database yet) a passphrase page follows the
    language page; it calls ``create_database(passphrase or None for plaintext)`` and keeps the
    result in ``db`` / ``opener``.
    """

    def __init__(self, db: Database | None, parent: QWidget | None = None, *,
                 create_database: CreateDatabase | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.opener: DatabaseOpener | None = None
        self._create_database = create_database
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.language_page = LanguagePage(self)
        self.passphrase_page = PassphrasePage(self, self._create) if create_database is not None else None
        self.officer_page = OfficerPage(self)
        self.villages_page = VillagesPage(self)
        for page in self._pages():
            self.addPage(page)
        self.resize(720, 560)
        self.retranslate()

    def _pages(self) -> list[Any]:
        return [p for p in (self.language_page, self.passphrase_page, self.officer_page, self.villages_page)
                if p is not None]

    def _create(self, passphrase: str | None) -> None:
        assert self._create_database is not None
        if self.db is None:
            self.db, self.opener = self._create_database(passphrase)

    def set_wizard_language(self, lang: str) -> None:
        set_language(lang)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(_("Desmigratif — persiapan pertama"))
        for button, text in ((QWizard.WizardButton.NextButton, _("Lanjut >")),
                             (QWizard.WizardButton.BackButton, _("< Kembali")),
                             (QWizard.WizardButton.CommitButton, _("Lanjut >")),
                             (QWizard.WizardButton.FinishButton, _("Mulai")),
                             (QWizard.WizardButton.CancelButton, _("Batal"))):
            self.setButtonText(button, text)
        for page in self._pages():
            page.retranslate()

    def accept(self) -> None:
        assert self.db is not None  # the passphrase page (a commit page) came before the last page
        editor = self.villages_page.editor
        settings.save_settings(self.db, language=get_language(), officer_name=self.officer_page.name.text().strip(),
                               villages=editor.codes() if editor else [])
        super().accept()


def needs_setup(db: Database) -> bool:
    return not settings.officer_name(db)


class SettingsDialog(QDialog):
    """Language, officer name, villages and the database passphrase after the first run.

    The passphrase row appears when the composition root handed down how the database is opened
    (``opener``) and where the app keeps its files (``paths``).
    """

    def __init__(self, db: Database, parent: QWidget | None = None, *, opener: DatabaseOpener | None = None,
                 paths: Paths | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._opener = opener
        self._paths = paths
        self.language_changed = False
        self.setWindowTitle(_("Pengaturan"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.language = QComboBox(self)
        for code, name in LANGUAGES:
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(get_language())))
        form.addRow(_("Bahasa:"), self.language)
        self.officer = QLineEdit(settings.officer_name(db), self)
        form.addRow(_("Nama petugas:"), self.officer)
        self.security_label: QLabel | None = None
        self.security_button: QPushButton | None = None
        if opener is not None and paths is not None:
            form.addRow(_("Keamanan data:"), self._security_row())
        layout.addLayout(form)
        self.villages = VillageListEditor(db, settings.villages(db), self)
        layout.addWidget(self.villages, 1)
        layout.addWidget(dialogs.button_box(self, _("Simpan")))
        self.resize(720, 560)

    def apply(self) -> bool:
        lang = self.language.currentData()
        self.language_changed = lang != get_language()
        settings.save_settings(self._db, officer_name=self.officer.text().strip(), villages=self.villages.codes(),
                               language=lang if self.language_changed else None)
        if self.language_changed:
            set_language(lang)
        return True

    def _security_row(self) -> QWidget:
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.security_label = QLabel(row)
        self.security_button = QPushButton(row)
        self.security_button.setObjectName("security_button")
        layout.addWidget(self.security_label, 1)
        layout.addWidget(self.security_button)
        self.security_button.clicked.connect(self._on_security_clicked)
        self._show_security()
        return row

    def _show_security(self) -> None:
        assert self._opener is not None and self._paths is not None
        assert self.security_label is not None and self.security_button is not None
        if self._opener.encrypted:
            self.security_label.setText(_("Data di laptop ini dienkripsi dengan kata sandi."))
            self.security_button.setText(_("Ganti kata sandi…"))
            return
        self.security_label.setText(_("Data di laptop ini TIDAK dienkripsi."))
        self.security_button.setText(_("Aktifkan enkripsi…"))
        forced = os.environ.get(PLAINTEXT_ENV) == "1"
        pending = not forced and not plaintext_allowed(self._paths)
        self.security_button.setEnabled(not forced and not pending)
        if forced:
            self.security_button.setToolTip(_("Dimatikan oleh pengaturan {name}=1.", name=PLAINTEXT_ENV))
        elif pending:
            self.security_label.setText(_("Data dienkripsi saat aplikasi dibuka lagi."))

    def _on_security_clicked(self) -> None:
        assert self._opener is not None and self._paths is not None
        if self._opener.encrypted:
            dialog = ChangePassphraseDialog(self._db, self._opener, self)
            if dialog.exec():
                dialogs.inform(self, _("Ganti kata sandi"),
                               _("Kata sandi diganti. Pakai kata sandi baru mulai saat aplikasi dibuka lagi."))
            return
        if dialogs.confirm(self, _("Aktifkan enkripsi"),
                           _("Saat aplikasi dibuka lagi, Anda diminta menentukan kata sandi dan data di laptop ini "
                             "dienkripsi. Lanjutkan?"), _("Aktifkan"), _("Batal")):
            set_plaintext_allowed(self._paths, False)
            self._show_security()
