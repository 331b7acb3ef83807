"""One small task manager: runs a job off the GUI thread, hands its result back on the GUI thread.

After Anki's ``TaskManager`` and Orange's ``concurrent``: a job is a plain function
``job(db, progress) -> result`` (see ``services.jobs``); it gets its *own* database connection,
opened in the worker thread from the factory the composition root provides, because a
connection belongs to the thread that opened it. One worker thread means one background writer
at a time. Results and errors reach widgets only through callbacks run on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.ui import dialogs

log = logging.getLogger(__name__)
Job = Callable[[Any, Callable[[int, int], bool]], Any]


class TaskManager(QObject):
    """Runs at most one background job, with a progress dialog that can cancel it."""

    progressed = Signal(int, int)  # done, total (GUI thread)
    finished = Signal(str)  # "done", "cancelled" or "failed"
    closing = Signal()  # shutdown began: stop starting jobs (the sync timer); the database is about to close
    _deliver = Signal(object)  # a closure to run on the GUI thread

    def __init__(self, open_db: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_db = open_db
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desmig-task")
        self._cancel = threading.Event()
        self._busy = False
        self._dialog: QProgressDialog | None = None
        self._closed = False
        self._deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def dialog(self) -> QProgressDialog | None:
        """The progress dialog of the running job (tests drive its cancel button)."""
        return self._dialog

    def run(self, job: Job, *, label: str, parent: QWidget | None, on_done: Callable[[Any], None],
            on_cancelled: Callable[[], None] | None = None,
            on_failed: Callable[[BaseException], bool] | None = None) -> bool:
        """Start ``job``; ``on_done(result)`` runs on the GUI thread. False if another job is running.

        ``on_failed(error)`` may show a failure its own way (returning True); otherwise ``show_error`` does.
        """
        if self._closed:
            log.info("background job not started: the task manager was shut down")
            return False
        if self._busy:
            dialogs.show_error(parent, _("Masih ada pekerjaan yang berjalan. Tunggu sampai selesai."))
            return False
        self._busy = True
        self._cancel.clear()
        dialog = QProgressDialog(label, _("Batal"), 0, 0, parent)
        dialog.setWindowTitle(_("Mohon tunggu"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.setMinimumWidth(380)
        dialog.canceled.connect(self.cancel)
        dialog.show()
        self._dialog = dialog
        log.info("background job started: %s", label)
        self._executor.submit(self._work, job, on_done, on_cancelled, parent, on_failed)
        return True

    def cancel(self) -> None:
        """Ask the running job to stop; it rolls back and reports "cancelled"."""
        if self._busy and not self._cancel.is_set():
            log.info("background job cancel requested")
            self._cancel.set()

    def shutdown(self) -> None:
        """Cancel any running job and wait for the worker (the app closes, or the profile is switched).

        A result the worker delivers afterwards is dropped: its database is being closed.
        """
        if not self._closed:
            self._closed = True
            self.closing.emit()
        self._cancel.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._close_dialog()

    # worker thread ------------------------------------------------------------------------

    def _work(self, job: Job, on_done: Callable[[Any], None], on_cancelled: Callable[[], None] | None,
              parent: QWidget | None, on_failed: Callable[[BaseException], bool] | None = None) -> None:
        try:
            db = self._open_db()
            try:
                result = job(db, self._report)
            finally:
                db.close()
        except BaseException as exc:  # handed to the GUI thread; nothing is swallowed
            self._deliver.emit(partial(self._failed, exc, on_cancelled, parent, on_failed))
        else:
            self._deliver.emit(partial(self._done, result, on_done, parent))

    def _report(self, done: int, total: int) -> bool:
        self._deliver.emit(partial(self._progress, done, total))
        return not self._cancel.is_set()

    # GUI thread ---------------------------------------------------------------------------

    def _on_deliver(self, fn: Callable[[], None]) -> None:
        if self._closed:
            log.debug("background job result dropped: the task manager was shut down")
            return
        fn()

    def _progress(self, done: int, total: int) -> None:
        if self._dialog is not None and total > 0:
            self._dialog.setMaximum(total)
            self._dialog.setValue(min(done, total))
        self.progressed.emit(done, total)

    def _close_dialog(self) -> None:
        if self._dialog is not None:
            self._dialog.hide()
            self._dialog.deleteLater()
            self._dialog = None

    def _done(self, result: Any, on_done: Callable[[Any], None], parent: QWidget | None) -> None:
        self._close_dialog()
        self._busy = False
        log.info("background job finished")
        try:
            on_done(result)
        except Exception as exc:
            dialogs.show_error(parent, exc)
        self.finished.emit("done")

    def _failed(self, exc: BaseException, on_cancelled: Callable[[], None] | None, parent: QWidget | None,
                on_failed: Callable[[BaseException], bool] | None = None) -> None:
        self._close_dialog()
        self._busy = False
        if self._cancel.is_set():
            log.info("background job cancelled (%s)", type(exc).__name__)
            if on_cancelled is not None:
                on_cancelled()
            self.finished.emit("cancelled")
            return
        try:
            shown = on_failed is not None and on_failed(exc)
        except Exception:  # a bug in the handler: the officer still learns that the job failed
            log.exception("failure handler raised")
            shown = False
        if not shown:
            dialogs.show_error(parent, exc)
        self.finished.emit("failed")
