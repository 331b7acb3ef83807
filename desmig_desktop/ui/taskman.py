"""One small task manager: runs a job off the GUI thread, hands its result back on the GUI thread.

After Anki's ``TaskManager`` and Orange's ``concurrent``: a job is a plain function
``job(db, progress) -> result`` (see ``services.jobs``); it gets its *own* database connection,
opened in the worker thread from the factory the composition root provides, because a
connection belongs to the thread that opened it. One worker thread means one background writer
at a time. Results and errors reach widgets only through callbacks run on the GUI thread.

Three ways to run a job, for three kinds of wait:
- ``run``: a job the officer started (import, export), behind a window-modal progress dialog
  that can cancel it; refused while another job runs.
- ``run_quietly``: background work the officer must not be stopped by (a sync, the dashboard's
  figures): no dialog, and queued behind a running job instead of refused.
- ``run_modal``: work the caller must wait for (creating or encrypting the database before any
  window exists): a busy dialog with a progress text, no cancel; returns the job's result or
  raises its error, while the GUI keeps painting.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QProgressDialog, QVBoxLayout, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.services.handle import Database
from desmig_desktop.ui import dialogs

log = logging.getLogger(__name__)
Report = Callable[[int, int], bool]  # report(done, total) -> False once the job should stop
Job = Callable[[Database, Report], Any]


class BusyDialog(QDialog):
    """A modal "please wait" with a running bar; it cannot be closed while the work runs."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Mohon tunggu"))
        self.setObjectName("busy_dialog")
        self.setModal(True)
        layout = QVBoxLayout(self)
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        layout.addWidget(self.bar)
        self.setMinimumWidth(420)
        self.busy = True

    def set_progress(self, done: int, total: int) -> None:
        """A known total turns the running bar into a filling one."""
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))

    def reject(self) -> None:
        if not self.busy:  # Esc or the close box would leave the work running unseen
            super().reject()

    def finish(self) -> None:
        self.busy = False
        self.close()
        self.deleteLater()


@dataclass(frozen=True)
class _Quiet:
    """A ``run_quietly`` job waiting for the running one to end."""

    job: Job
    label: str
    on_done: Callable[[Any], None]
    on_started: Callable[[], None] | None


class TaskManager(QObject):
    """Runs at most one background job at a time: with a progress dialog, quietly, or modally."""

    progressed = Signal(int, int)  # done, total (GUI thread)
    finished = Signal(str)  # "done", "cancelled" or "failed"
    closing = Signal()  # shutdown began: stop starting jobs (the sync timer); the database is about to close
    _deliver = Signal(object)  # a closure to run on the GUI thread
    _modal_ended = Signal()  # the modal job's worker returned (never dropped, unlike ``_deliver``)

    def __init__(self, open_db: Callable[[], Database], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_db = open_db
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desmig-task")
        self._cancel = threading.Event()
        self._busy = False
        self._dialog: QProgressDialog | None = None
        self._busy_dialog: BusyDialog | None = None
        self._waiting: deque[_Quiet] = deque()
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
        self._executor.submit(self._work, job, partial(self._done, on_done=on_done, parent=parent),
                              partial(self._failed, on_cancelled=on_cancelled, parent=parent, on_failed=on_failed))
        return True

    def run_quietly(self, job: Job, *, label: str, on_done: Callable[[Any], None],
                    on_started: Callable[[], None] | None = None) -> bool:
        """Start ``job`` without a dialog now (True), or as soon as the running job ends (False).

        ``on_started`` runs when it really starts, ``on_done(result)`` on the GUI thread when it
        ends; a failure is shown by ``show_error``. Nothing starts after ``shutdown``.
        """
        if self._closed:
            log.info("background job not started: the task manager was shut down")
            return False
        if self._busy:
            log.debug("background job waits for the running one: %s", label)
            self._waiting.append(_Quiet(job, label, on_done, on_started))
            return False
        self._busy = True
        self._cancel.clear()
        log.info("background job started: %s", label)
        self._executor.submit(self._work, job, partial(self._done, on_done=on_done, parent=None),
                              partial(self._failed, on_cancelled=None, parent=None))
        if on_started is not None:
            on_started()
        return True

    def run_modal(self, job: Job, *, label: str, parent: QWidget | None = None) -> Any:
        """Run ``job`` on the worker behind a modal busy dialog showing ``label``; return its result here.

        The job's error is raised here. The GUI keeps repainting meanwhile (a local event loop
        runs until the worker returns); the officer cannot act, and there is no cancel.
        """
        if self._closed or self._busy:
            raise RuntimeError("run_modal needs an idle task manager")
        self._busy = True
        self._cancel.clear()
        loop = QEventLoop()
        self._modal_ended.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
        dialog = BusyDialog(label, parent)
        dialog.show()
        self._busy_dialog = dialog
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        log.info("modal job started: %s", label)
        try:
            future = self._executor.submit(self._work_modal, job)
            loop.exec()  # the queued ``_modal_ended`` arrives only once the loop runs, so it is never missed
            return future.result()
        finally:
            QGuiApplication.restoreOverrideCursor()
            self._modal_ended.disconnect(loop.quit)
            self._busy_dialog = None
            dialog.finish()
            self._busy = False
            self._start_waiting()

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
        self._waiting.clear()
        self._cancel.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._close_dialog()

    # worker thread ------------------------------------------------------------------------

    def _call(self, job: Job) -> Any:
        db = self._open_db()
        try:
            return job(db, self._report)
        finally:
            db.close()

    def _work(self, job: Job, done: Callable[[Any], None], failed: Callable[[BaseException], None]) -> None:
        try:
            result = self._call(job)
        except BaseException as exc:  # noqa: BLE001 — handed to the GUI thread; nothing is swallowed
            self._deliver.emit(partial(failed, exc))
        else:
            self._deliver.emit(partial(done, result))

    def _work_modal(self, job: Job) -> Any:
        try:
            return self._call(job)  # result or error travel in the future ``run_modal`` waits on
        finally:
            self._modal_ended.emit()

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
        if self._busy_dialog is not None:
            self._busy_dialog.set_progress(done, total)
        self.progressed.emit(done, total)

    def _close_dialog(self) -> None:
        if self._dialog is not None:
            self._dialog.hide()
            self._dialog.deleteLater()
            self._dialog = None

    def _done(self, result: Any, *, on_done: Callable[[Any], None], parent: QWidget | None) -> None:
        self._close_dialog()
        self._busy = False
        log.info("background job finished")
        try:
            on_done(result)
        except Exception as exc:  # noqa: BLE001 — a bug in the callback is logged and shown once; the queue goes on
            dialogs.show_error(parent, exc)
        self.finished.emit("done")
        self._start_waiting()

    def _failed(self, exc: BaseException, *, on_cancelled: Callable[[], None] | None, parent: QWidget | None,
                on_failed: Callable[[BaseException], bool] | None = None) -> None:
        self._close_dialog()
        self._busy = False
        if self._cancel.is_set():
            log.info("background job cancelled (%s)", type(exc).__name__)
            if on_cancelled is not None:
                on_cancelled()
            self.finished.emit("cancelled")
            self._start_waiting()
            return
        try:
            shown = on_failed is not None and on_failed(exc)
        except Exception:  # a bug in the handler: the officer still learns that the job failed
            log.exception("failure handler raised")
            shown = False
        if not shown:
            dialogs.show_error(parent, exc)
        self.finished.emit("failed")
        self._start_waiting()

    def _start_waiting(self) -> None:
        """The next queued quiet job, once nothing runs (a ``finished`` slot may have started one)."""
        if self._waiting and not self._busy and not self._closed:
            quiet = self._waiting.popleft()
            self.run_quietly(quiet.job, label=quiet.label, on_done=quiet.on_done, on_started=quiet.on_started)
