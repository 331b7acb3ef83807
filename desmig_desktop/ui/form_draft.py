"""One open form's draft: nothing typed is lost to a crash, a power cut or a closed window.

The draft follows each change ``delay_ms`` after the last keystroke (typing in one go is one
write, not one per key), at once when the cursor leaves a field, and is forgotten after a save
or an explicit discard. What is written, and when a write is spared, is ``services.drafts``'.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer

from desmig_desktop.services import drafts
from desmig_desktop.services.handle import Database

DRAFT_DELAY_MS = 400  # the draft is written this long after the last keystroke (and on leaving a field)


class DraftSource(Protocol):
    """The form a draft is kept for."""

    dirty: bool

    @property
    def household_id(self) -> str: ...

    def snapshot(self) -> dict[str, Any]: ...


class FormDraft(QObject):
    """Writes ``form``'s draft after its changes settle; ``write()``/``discard()`` act at once.

    Holds the form weakly (the form owns this object; a strong reference back would keep a
    closed form's Python object alive after Qt deleted it)."""

    def __init__(self, db: Database, form: DraftSource, *, delay_ms: int = DRAFT_DELAY_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._form = weakref.ref(form)
        self._writer = drafts.DraftWriter(db)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.write)

    def changed(self) -> None:
        """The form changed: write once it has been quiet for ``delay_ms``."""
        self.timer.start()

    def flush(self) -> None:
        """Write now what waits for the delay (the cursor left a field), if anything does."""
        if self.timer.isActive():
            self.write()

    def write(self) -> None:
        """Keep the form's unsaved edits (nothing when it has none)."""
        self.timer.stop()
        form = self._form()
        if form is not None and form.dirty:
            self._writer.write(form.household_id, form.snapshot())

    def discard(self) -> None:
        self.timer.stop()
        form = self._form()
        if form is not None:
            self._writer.discard(form.household_id)
