"""One error hierarchy: ``KnownError`` for what the environment or the user did, anything else is a bug."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desmig_desktop.domain.issues import Issue


class DesmigError(Exception):
    """Root of every error this application raises on purpose."""


class KnownError(DesmigError):
    """An expected failure (bad input, missing file, offline, locked DB) with a message fit for an officer."""


@dataclass(frozen=True)
class RecordIssue:
    """An ``Issue`` located in one record of a household graph."""

    entity: str
    record_id: str
    issue: Issue


class RecordIssues(KnownError):
    """Validation of a household graph found problems; ``issues`` says which record and field."""

    def __init__(self, message: str, issues: Sequence[RecordIssue]) -> None:
        super().__init__(message)
        self.issues = list(issues)


class ValidationFailed(RecordIssues):
    """At least one hard error: nothing was saved."""


class NeedsConfirmation(RecordIssues):
    """Only soft warnings: saving needs the officer's explicit confirmation."""
