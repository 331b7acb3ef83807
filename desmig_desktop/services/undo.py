"""Ctrl+Z: the last save or delete of a household (or of a programme record) in this session, undone once.

One level only: the officer undoes what they just did, not a history (an older step may have
been synced and changed at HQ since). The undo is a new edit, synced like any other (see
``households.undo``); a failure leaves the step in place so the officer can try again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from desmig_desktop.services.households import undo
from desmig_desktop.store import records
from desmig_desktop.store.records import Change


@dataclass(frozen=True)
class UndoStep:
    """What one Ctrl+Z undoes: ``changes`` restore the state before the save or delete."""

    label: str  # what the officer did, in their words ("simpan Budi Santoso")
    household_id: str  # the id of the record the step is about (a household unless ``entity`` says otherwise)
    changes: list[Change]
    entity: str = "households"


@dataclass(frozen=True)
class Undone:
    step: UndoStep
    live: bool  # the household exists after the undo (False: undoing its creation removed it)


class UndoHistory:
    """The step Ctrl+Z undoes next (``None`` when there is none)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.last: UndoStep | None = None

    def record(self, label: str, household_id: str, changes: list[Change], *, entity: str = "households") -> None:
        """A save or delete just made: it replaces the step undone so far."""
        self.last = UndoStep(label, household_id, list(changes), entity)

    def undo(self) -> Undone | None:
        """Undo the last step (``KnownError`` if the database refuses: the step stays)."""
        step = self.last
        if step is None:
            return None
        undo(self._db, step.changes)
        self.last = None
        row = records.get(self._db, step.entity, step.household_id)
        return Undone(step, row is not None and not row["deleted"])
