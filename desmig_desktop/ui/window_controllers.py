"""What the main window does with whole households besides showing them: keep the open forms'
drafts and offer earlier ones back, delete a household after asking, and undo the last save or
delete (Ctrl+Z).

The window owns one of each controller and wires them to its menus and tabs; the controllers
reach the tabs only through ``EditorTabs`` and tell the window what to show with ``done``.
The rules themselves (what a draft holds, which step is undone) are in ``services.drafts`` and
``services.undo``, without Qt.
"""

from __future__ import annotations

import logging
import weakref
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services import drafts
from desmig_desktop.services.handle import Database
from desmig_desktop.services.households import Base, Change, delete_household, find_household
from desmig_desktop.services.undo import UndoHistory
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.drafts_dialog import DraftsDialog
from desmig_desktop.ui.editor import HouseholdEditor
from desmig_desktop.ui.form_draft import DRAFT_DELAY_MS

log = logging.getLogger(__name__)


class EditorTabs(Protocol):
    """The window (the controllers' parent: its dialogs' too) with its open household forms."""

    def editors(self) -> list[HouseholdEditor]: ...

    def editor_for(self, household_id: str) -> HouseholdEditor | None: ...

    def current_editor(self) -> HouseholdEditor | None: ...

    def close_editor(self, widget: QWidget | None, *, ask: bool = True) -> bool: ...

    def add_restored(self, editor: HouseholdEditor) -> None: ...


class DraftsController(QObject):
    """Every open form's draft kept when the window closes; drafts of an earlier session (closed or
    crashed) offered back in a chooser, restored as forms or thrown away."""

    def __init__(self, db: Database, tabs: EditorTabs, window: QWidget, *,
                 autosave_ms: int = DRAFT_DELAY_MS) -> None:
        super().__init__(window)
        self._db = db
        self._host = _Host(tabs, window)
        self.autosave_ms = autosave_ms  # how long after the last change a form writes its draft

    def write_all(self) -> None:
        for editor in self._host.tabs().editors():
            editor.draft.write()

    def offer(self) -> DraftsDialog | None:
        """Open the chooser (not waited for) if there is anything to offer; drafts holding nothing
        unsaved (their household was saved anyway) are dropped first."""
        found = drafts.drop_saved(self._db, skip={e.household_id for e in self._host.tabs().editors()})
        if not found:
            return None
        dialog = DraftsDialog(found, restore=self.restore, discard=self.discard, parent=self._host.window())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def discard(self, chosen: list[drafts.Draft]) -> None:
        for draft in chosen:
            drafts.discard_draft(self._db, draft.key)

    def restore(self, found: list[drafts.Draft]) -> int:
        """Open a form for each draft; one that cannot be read is skipped (and logged). Returns how
        many were opened."""
        restored = 0
        for draft in found:
            try:
                graph, is_new = drafts.restored(self._db, draft.data)
                editor = HouseholdEditor(self._db, graph, draft_delay_ms=self.autosave_ms)
                editor.mark_restored(is_new=is_new)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("draft %s could not be restored: %s", draft.key, exc)
                continue
            self._host.tabs().add_restored(editor)
            restored += 1
        return restored


class EditsController(QObject):
    """Deleting a household (asked first) and undoing the last save or delete, with the open forms
    following: a form whose household an undo removed closes, an unchanged one shows the result."""

    # A save, delete or undo went through (what Ctrl+Z would undo changed with it): what to tell
    # the officer, for how long (ms), and the household to select in the list (or None).
    done = Signal(str, int, object)

    def __init__(self, db: Database, tabs: EditorTabs, window: QWidget) -> None:
        super().__init__(window)
        self._db = db
        self._host = _Host(tabs, window)
        self.history = UndoHistory(db)

    def undo_label(self) -> str | None:
        """What Ctrl+Z would undo, in the officer's words (``None``: nothing)."""
        return self.history.last.label if self.history.last is not None else None

    def saved(self, household_id: str, changes: list[Change], title: str) -> None:
        self.history.record(_("simpan {name}", name=title), household_id, changes)
        self.done.emit(_("{name} tersimpan.", name=title), 5000, household_id)

    def delete(self, household_id: str, *, loaded: dict[tuple[str, str], Base] | None = None) -> bool:
        """Delete after asking; ``loaded``: the copy an open form shows (the deletes are made on it)."""
        household = find_household(self._db, household_id)
        if household is None or household["deleted"]:
            return False
        name = household.get("head_name") or _("rumah tangga ini")
        if not dialogs.confirm(self._host.window(), _("Hapus rumah tangga"),
                               _("Hapus {name} beserta anggota, riwayat penempatan dan usahanya?", name=name),
                               _("Hapus"), _("Batal"), destructive=True,
                               detail=_("Masih bisa diurungkan dengan Ctrl+Z selama aplikasi belum ditutup.")):
            return False
        try:
            changes = delete_household(self._db, household_id, loaded=loaded)
        except KnownError as exc:
            dialogs.show_error(self._host.window(), exc)
            return False
        editor = self._host.tabs().editor_for(household_id)
        if editor is not None:
            self._host.tabs().close_editor(editor, ask=False)
        self.history.record(_("hapus {name}", name=name), household_id, changes)
        self.done.emit(_("{name} dihapus. Tekan Ctrl+Z untuk mengurungkan.", name=name), 8000, None)
        return True

    def undo(self) -> bool:
        label = self.undo_label()
        if label is None:
            return False
        if self._host.tabs().current_editor() is not None and not dialogs.confirm(
                self._host.window(), _("Urungkan"), _("Urungkan {what}?", what=label), _("Urungkan"), _("Batal")):
            return False  # inside a form Ctrl+Z is easily meant for a field: ask before touching saved data
        try:
            undone = self.history.undo()
        except KnownError as exc:
            dialogs.show_error(self._host.window(), exc)
            return False
        if undone is None:
            return False
        editor = self._host.tabs().editor_for(undone.step.household_id)
        if editor is not None and not editor.dirty:
            editor.reload() if undone.live else self._host.tabs().close_editor(editor, ask=False)
        elif editor is not None:
            editor.check_underneath()
        self.done.emit(_("Diurungkan: {what}.", what=label), 5000, undone.step.household_id if undone.live else None)
        return True


class _Host:
    """The window, held weakly: a controller is the window's child, and a strong reference back
    would keep a closed window's Python object alive after Qt deleted it."""

    def __init__(self, tabs: EditorTabs, window: QWidget) -> None:
        self._tabs = weakref.ref(tabs)
        self._window = weakref.ref(window)

    def tabs(self) -> EditorTabs:
        tabs = self._tabs()
        assert tabs is not None, "the window is gone"
        return tabs

    def window(self) -> QWidget:
        window = self._window()
        assert window is not None, "the window is gone"
        return window
