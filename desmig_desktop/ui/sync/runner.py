"""Running the sync part's jobs on the shared task manager, without its progress dialog.

The task manager has one worker (so one background writer at a time) and shows a window-modal
progress dialog for jobs the officer started (import, export). A sync must never stop the
officer typing, so ``run_quietly`` hides that dialog as soon as the job starts, and when another
job is running it waits for its turn instead of showing "a job is still running". The status-bar
indicator shows the sync's progress instead.

Workaround until ``TaskManager.run`` grows a ``quiet=True`` option (no dialog, queue when busy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt

from desmig_desktop.ui.taskman import Job, TaskManager

log = logging.getLogger(__name__)


def run_quietly(tasks: TaskManager, job: Job, *, label: str, on_done: Callable[[Any], None],
                on_started: Callable[[], None] | None = None) -> bool:
    """Start ``job`` now (True) or as soon as the running job ends (False); ``on_started`` runs
    when it really starts, ``on_done(result)`` on the GUI thread when it ends."""
    if tasks.busy:
        def retry(_how: str) -> None:
            run_quietly(tasks, job, label=label, on_done=on_done, on_started=on_started)

        tasks.finished.connect(retry, Qt.ConnectionType.SingleShotConnection)
        log.debug("background job waits for the running one: %s", label)
        return False
    if not tasks.run(job, label=label, parent=None, on_done=on_done):
        return False  # unreachable while busy is checked above; the task manager said why
    dialog = tasks.dialog
    if dialog is not None:
        # Hidden before it is ever painted (a hidden dialog blocks no input). ``forceShow`` first marks
        # it "shown once", or its next ``setValue`` would show it again; non-modal, progress updates
        # never spin a nested event loop.
        dialog.forceShow()
        dialog.hide()
        dialog.setWindowModality(Qt.WindowModality.NonModal)
    if on_started is not None:
        on_started()
    return True
