"""Long-running use cases as plain functions ``job(db, progress) -> result`` for a background worker.

``progress(done, total)`` returns False once the officer asked to cancel. A cancelled job that
writes raises ``Cancelled`` inside one outer transaction, so the database is exactly as it was
before the job started (whole-run all-or-nothing, stricter than the per-batch commits of the
CLI's demo generator).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from desmig_desktop.domain.i18n import _
from desmig_desktop.errors import KnownError
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.exchange import export, import_file
from desmig_desktop.services.handle import Database

Progress = Callable[[int, int], bool]
Job = Callable[[Any, Progress], Any]


class Cancelled(KnownError):
    """The officer cancelled; nothing was changed."""

    def __init__(self) -> None:
        super().__init__(_("Dibatalkan; tidak ada data yang berubah."))


def demo_job(households: int, villages: Sequence[str] = (), seed: int = 1, batch: int = 50) -> Job:
    """Create synthetic households; all of them or, if cancelled, none."""

    def run(db: Database, progress: Progress) -> int:
        with db.atomic():
            done = generate_demo(db, households, villages=list(villages), seed=seed, batch=batch, progress=progress)
            if not progress(done, households):
                raise Cancelled()
        return done

    return run


def import_job(path: Path, valid_only: bool = False, *, report: Path | None = None, gui: bool = False) -> Job:
    """Import a file all-or-nothing; a cancel at any point (even during the write) changes nothing.

    ``report``: where the list of errors and warnings is written when there is any (see ``import_file``).
    """

    def run(db: Database, progress: Progress) -> dict[str, Any]:
        with db.atomic():
            try:
                result = import_file(db, path, valid_only=valid_only, progress=progress, report=report, gui=gui)
            except KnownError:
                if not progress(0, 0):
                    raise Cancelled() from None
                raise
            if not progress(result["rows"], result["rows"]):
                raise Cancelled()
        return result

    return run


def export_job(fmt: str, out: Path, mask: bool = True) -> Job:
    """Export every live record; a cancel leaves no partial file behind."""

    def run(db: Database, progress: Progress) -> int:
        try:
            return export(db, fmt, out, mask=mask, progress=progress)
        except KnownError:
            if not progress(0, 0):
                raise Cancelled() from None
            raise

    return run
