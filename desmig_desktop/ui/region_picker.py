"""Cascading region picker: province → regency/city → district → village, type-to-filter at each level.

Each level is a line edit whose completer lists only the children of the level above, filtered
in SQL as the officer types (``services.regions``); the 83,762 villages are never loaded at once.
Enter takes the highlighted (or first) match and moves on; a full dotted Kemendagri village code
typed anywhere selects the whole chain. With ``allowed`` villages (the editor: the officer's
assigned villages) each level lists only the regions leading to one of them, and a typed code
of another village is not taken.

Typing only filters: the chosen region (and the levels under it) stays until another region is
taken (Enter, a click in the list, or leaving a level whose text names exactly one region). A
stray key in a filled-in province is undone on leaving it, and when taking another province did
empty the levels under it, Ctrl+Z brings the previous village back.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QCompleter, QGridLayout, QLabel, QLineEdit, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.reference import Region, is_village_code
from desmig_desktop.services import regions as region_service
from desmig_desktop.services.handle import Database

CODE_ROLE = Qt.ItemDataRole.UserRole
_Index = QModelIndex | QPersistentModelIndex


def region_prefixes(villages: Collection[str] | None) -> frozenset[str] | None:
    """Every region code on the way to one of ``villages`` (province, regency, district, village)."""
    if villages is None:
        return None
    out: set[str] = set()
    for code in villages:
        parts = code.split(".")
        out.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return frozenset(out)


class RegionListModel(QAbstractListModel):
    """The children of one parent region, filtered by typed text (rows come from SQL) and, when
    ``allowed`` is set (see ``region_prefixes``), to the regions leading to an allowed village."""

    def __init__(self, db: Database, parent: Any = None, allowed: frozenset[str] | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._rows: list[Region] = []
        self.parent_code: str | None = None
        self.text = ""
        self.allowed = allowed

    def load(self, parent_code: str | None, text: str = "") -> None:
        self.beginResetModel()
        self.parent_code, self.text = parent_code, text
        rows = region_service.children(self._db, parent_code, text)
        self._rows = rows if self.allowed is None else [r for r in rows if r.code in self.allowed]
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.endResetModel()

    def region(self, row: int) -> Region:
        return self._rows[row]

    def regions(self) -> list[Region]:
        return list(self._rows)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        region = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return region.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return region.code
        if role == CODE_ROLE:
            return region.code
        return None


class RegionLevelEdit(QLineEdit):
    """One level of the picker; ``region`` is the chosen region or ``None``."""

    chosen = Signal(object)  # Region | None, after the officer (or set_region) changed the choice
    code_typed = Signal(str)  # a full village code was typed
    undo_requested = Signal()  # Ctrl+Z with no typing of its own to undo

    def __init__(self, db: Database, placeholder: str, parent: QWidget | None = None, *,
                 allowed: frozenset[str] | None = None) -> None:
        super().__init__(parent)
        self.setProperty("handles_enter", True)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self.model = RegionListModel(db, self, allowed)
        self.completer_ = QCompleter(self.model, self)
        self.completer_.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer_.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer_.setMaxVisibleItems(12)
        self.setCompleter(self.completer_)
        # the QModelIndex overload of activated(); PySide6's stubs do not type a signal's overloads
        self.completer_.activated[QModelIndex].connect(self._on_completer_activated)  # type: ignore[index]
        self.textEdited.connect(self._on_text_edited)
        self.parent_code: str | None = None
        self.region: Region | None = None

    def set_parent_code(self, parent_code: str | None, enabled: bool = True) -> None:
        """Show the children of ``parent_code`` from now on (and forget the current choice)."""
        self.parent_code = parent_code
        self.model.clear()
        self.set_region(None, notify=False)
        self.setEnabled(enabled)

    def set_region(self, region: Region | None, *, notify: bool = True) -> None:
        self.region = region
        self.setText(region.name if region else "")
        self.setToolTip(region.code if region else "")
        if notify:
            self.chosen.emit(region)

    def filter(self, text: str) -> list[Region]:
        """Narrow the list to names containing ``text`` (what typing does); returns the matches."""
        self.model.load(self.parent_code, text)
        return self.model.regions()

    def show_choices(self) -> None:
        self.completer_.complete()

    def _popup(self) -> QAbstractItemView:
        popup = self.completer_.popup()  # made on first use: never None
        assert popup is not None
        return popup

    def choose_best(self) -> bool:
        """Take the highlighted match, else the only/first match of the typed text. True if chosen."""
        text = self.text().strip()
        if self.region is not None and text == self.region.name:
            return True
        popup = self._popup()
        current = popup.currentIndex() if popup.isVisible() else QModelIndex()
        if current.isValid():
            code = current.data(CODE_ROLE)
            match = next((r for r in self.model.regions() if r.code == code), None)
        else:
            matches = self.filter(text) if self.model.text != text or not self.model.rowCount() else self.model.regions()
            exact = [r for r in matches if r.name.casefold() == text.casefold()]
            candidates = exact or matches
            match = candidates[0] if text and candidates else None
        popup.hide()
        if match is None:
            return False
        self.set_region(match)
        return True

    def _on_text_edited(self, text: str) -> None:
        if is_village_code(text.strip()):
            self.code_typed.emit(text.strip())
            return
        self.filter(text)  # the choice itself stays until another region is taken
        if self.model.rowCount():
            self.completer_.complete()
        else:
            self._popup().hide()

    def _on_completer_activated(self, index: QModelIndex) -> None:
        code = index.data(CODE_ROLE)
        match = next((r for r in self.model.regions() if r.code == code), None)
        if match is not None:
            self.set_region(match)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Down and not self._popup().isVisible():
            self.filter("" if self.region is not None else self.text())
            self.show_choices()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            if self.choose_best():
                self.focusNextChild()
            return
        if event.matches(QKeySequence.StandardKey.Undo) and not self.isUndoAvailable():
            self.undo_requested.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        if event.reason() != Qt.FocusReason.PopupFocusReason:
            text = self.text().strip()
            if (self.region is None or text != self.region.name) and text:
                matches = self.filter(text)
                exact = [r for r in matches if r.name.casefold() == text.casefold()]
                # Nothing chosen yet: the one match is meant. A choice already made changes only to
                # a region named in full (one stray key must not empty the levels under it).
                match = (exact or (matches if self.region is None else []))
                if len(match) == 1:
                    self.set_region(match[0])
            if self.region is not None and self.text() != self.region.name:
                self.setText(self.region.name)
        super().focusOutEvent(event)


class RegionPicker(QWidget):
    """Four cascading levels; ``code()`` is the chosen village code (or ``None``).

    ``allowed``: the only villages offered (``None``: every village). A value set from a record
    (``set_code``) is shown whatever it is, so an existing record outside them is visible and
    validation says why it cannot be saved there."""

    changed = Signal()

    def __init__(self, db: Database, parent: QWidget | None = None, *, columns: int = 2,
                 allowed: Collection[str] | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self.allowed = None if allowed is None else frozenset(allowed)
        prefixes = region_prefixes(self.allowed)
        titles = (_("Provinsi"), _("Kabupaten/kota"), _("Kecamatan"), _("Desa/kelurahan"))
        hints = (_("ketik nama provinsi"), _("ketik nama kabupaten/kota"), _("ketik nama kecamatan"),
                 _("ketik nama desa/kelurahan"))
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(8)
        layout.setVerticalSpacing(4)
        self.levels: list[RegionLevelEdit] = []
        self._titles = titles
        self._undo_code: str | None = None  # the village before an upper level's change emptied the levels under it
        for n, (title, hint) in enumerate(zip(titles, hints)):
            edit = RegionLevelEdit(db, hint, self, allowed=prefixes)
            edit.setObjectName(f"region_level_{n + 1}")
            label = QLabel(title, self)
            label.setBuddy(edit)
            row, col = divmod(n, columns)
            layout.addWidget(label, row * 2, col)
            layout.addWidget(edit, row * 2 + 1, col)
            edit.chosen.connect(lambda region, level=n: self._on_level_chosen(level, region))
            edit.code_typed.connect(self._on_code_typed)
            edit.undo_requested.connect(self.undo)
            self.levels.append(edit)
        self.note = QLabel(self)
        self.note.setObjectName("region_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #8a5a00;")
        self.note.hide()
        layout.addWidget(self.note, (len(titles) - 1) // columns * 2 + 2, 0, 1, columns)
        for col in range(columns):
            layout.setColumnStretch(col, 1)
        self.levels[0].set_parent_code(None)
        for edit in self.levels[1:]:
            edit.set_parent_code(None, enabled=False)
        self.setFocusProxy(self.levels[0])

    def code(self) -> str | None:
        village = self.levels[3].region
        return village.code if village else None

    def set_code(self, code: str | None) -> None:
        """Select the whole chain of ``code`` (any level); unknown or empty clears the picker."""
        chain = region_service.lineage(self._db, code) if code else []
        before = self.code()
        self._undo_code = None
        self.note.hide()
        self.levels[0].set_region(chain[0] if chain else None, notify=False)
        for n in range(1, 4):
            parent = chain[n - 1] if len(chain) >= n else None
            self.levels[n].set_parent_code(parent.code if parent else None, enabled=parent is not None)
            if len(chain) > n:
                self.levels[n].set_region(chain[n], notify=False)
        if self.code() != before:
            self.changed.emit()

    def _on_code_typed(self, code: str) -> None:
        if self.allowed is None or code in self.allowed:
            self.set_code(code)

    def undo(self) -> None:
        """Ctrl+Z after another province/regency/district emptied the levels under it: the previous village back."""
        if self._undo_code is None:
            return
        code, self._undo_code = self._undo_code, None
        self.set_code(code)
        self.note.hide()

    def _on_level_chosen(self, level: int, region: Region | None) -> None:
        before_child = self.levels[level + 1].parent_code if level < 3 else None
        if level < 3 and (region is None or region.code != before_child):
            emptied = self.levels[level + 1].region is not None
            if emptied and self.code() is not None:
                self._undo_code = self.code()
                self.note.setText(_("{levels} dikosongkan karena {level} diganti. Ctrl+Z mengembalikan {village}.",
                                    levels=", ".join(self._titles[level + 1:]), level=self._titles[level],
                                    village=self.levels[3].region.name if self.levels[3].region else ""))
                self.note.show()
            self.levels[level + 1].set_parent_code(region.code if region else None, enabled=region is not None)
            for lower in self.levels[level + 2:]:
                lower.set_parent_code(None, enabled=False)
        elif level == 3 and region is not None:
            self._undo_code = None
            self.note.hide()
        self.changed.emit()
