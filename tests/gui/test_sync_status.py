"""The sync status indicator in each state, "Sync now", and the timer's backoff (stand-in sync functions)."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gui_helpers import VILLAGE
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from sync_helpers import WAIT_MS, FakeSync, TopOfWindow, add_household, pretend_logged_in

from desmig_desktop.services.sync_service import ErrorKind, Progress
from desmig_desktop.sync.scheduler import BackoffPolicy
from desmig_desktop.ui.sync.controller import Phase, SyncController
from desmig_desktop.ui.sync.extension import SyncWindowPart, install_sync
from desmig_desktop.ui.sync.indicator import describe
from desmig_desktop.ui.sync.login_dialog import LoginDialog

QUIET = BackoffPolicy(base_s=5, cap_s=900, interval_s=3600, after_edit_s=3600)  # nothing runs by itself


@pytest.fixture
def make_sync(window: Any, ctx: Any) -> Iterator[Callable[..., tuple[SyncController, SyncWindowPart]]]:
    """A controller with a stand-in sync function, wired into the test's window like the app does."""
    made: list[SyncController] = []

    def make(fake: FakeSync, *, policy: BackoffPolicy = QUIET, rng: random.Random | None = None,
             logged_in: bool = True) -> tuple[SyncController, SyncWindowPart]:
        if logged_in:
            pretend_logged_in(ctx.db)
        controller = SyncController(ctx, run_cycle=fake, policy=policy, rng=rng)
        made.append(controller)
        part = install_sync(window, ctx, controller)
        assert window.findChild(SyncWindowPart) is part
        return controller, part

    yield make
    for controller in made:
        controller.stop()


def text_of(part: SyncWindowPart) -> str:
    return part.indicator.text.text()


def test_logged_out_offers_login(make_sync: Any, qtbot: Any, window: Any) -> None:
    fake = FakeSync()
    controller, part = make_sync(fake, logged_in=False)
    assert controller.view().phase is Phase.LOGGED_OUT
    assert text_of(part) == "Belum masuk ke server"
    assert part.indicator.action_button.isVisible() and part.indicator.action_button.text() == "Masuk…"
    assert not controller.timer.isActive()  # nothing to sync until a login
    assert window.sync_menu.menuAction().isVisible()
    part.indicator.action_button.click()
    assert isinstance(part.login_dialog, LoginDialog) and part.login_dialog.isVisible()
    part.login_dialog.reject()
    assert fake.calls == 0


def test_syncing_shows_progress_in_records_and_typing_goes_on(make_sync: Any, qtbot: Any, window: Any,
                                                              ctx: Any) -> None:
    steps = [threading.Event(), threading.Event()]

    def slow_cycle(db: Any, progress: Any, cancel: Any) -> None:
        progress(Progress("push", 3, 10))
        steps[0].wait(WAIT_MS / 1000)
        progress(Progress("pull", 250))
        steps[1].wait(WAIT_MS / 1000)

    controller, part = make_sync(FakeSync(slow_cycle))
    try:
        with qtbot.waitSignal(controller.changed, timeout=WAIT_MS):
            part.sync_action.trigger()
        qtbot.waitUntil(lambda: text_of(part) == "Mengirim data: 3 dari 10", timeout=WAIT_MS)
        assert part.indicator.bar.isVisible() and part.indicator.bar.maximum() == 10
        assert part.indicator.bar.value() == 3
        assert ctx.tasks.dialog is None or not ctx.tasks.dialog.isVisible()  # no modal progress box
        assert not part.sync_action.isEnabled()  # one cycle at a time
        # The officer keeps working while the cycle waits on the "network": saving and searching.
        add_household(ctx.db, VILLAGE, head="Rahmat Hidayat")
        window.on_data_changed()
        qtbot.keyClicks(window.list_page.search, "Rahmat")
        window.list_page.apply_filter()
        assert window.list_page.model.total == 1
        assert controller.sync_now()  # pressing again does not start a second cycle
        steps[0].set()
        qtbot.waitUntil(lambda: text_of(part) == "Menerima data: 250", timeout=WAIT_MS)
        assert part.indicator.bar.maximum() == 0  # total unknown while pulling: a busy bar
        with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS) as finished:
            steps[1].set()
        assert finished.args[0].ok
        assert controller._run_cycle.calls == 1  # type: ignore[attr-defined]
    finally:
        for step in steps:
            step.set()


def test_synced_shows_time_and_pending(make_sync: Any, qtbot: Any, ctx: Any, window: Any) -> None:
    controller, part = make_sync(FakeSync("ok"))
    assert text_of(part) == "Belum pernah sinkron"
    add_household(ctx.db, VILLAGE)
    window.on_data_changed()
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    now = dt.datetime.now()
    assert controller.view().phase is Phase.SYNCED
    assert text_of(part).startswith("Tersinkron pukul ")
    assert f"{now.hour:02d}." in text_of(part)
    assert text_of(part).endswith("· 1 perubahan belum terkirim")  # the stand-in sent nothing
    assert part.indicator.looks is not None and part.indicator.looks.tone == "ok"
    assert not part.indicator.action_button.isVisible()
    assert not window.pending_label.isVisible()  # the indicator carries the pending count
    assert controller.timer.isActive() and controller.timer.remainingTime() > 3_000_000  # periodic: an hour here


@pytest.mark.parametrize(("kind", "text", "tone", "action"), [
    (ErrorKind.NETWORK, "Offline · 1 perubahan belum terkirim", "warn", "retry"),
    (ErrorKind.SERVER, "Server sedang bermasalah · 1 perubahan belum terkirim", "warn", "retry"),
    (ErrorKind.TOO_OLD, "Aplikasi terlalu lama, perbarui", "error", None),
])
def test_errors_in_plain_words(make_sync: Any, qtbot: Any, ctx: Any, kind: ErrorKind, text: str, tone: str,
                               action: str | None) -> None:
    add_household(ctx.db, VILLAGE)
    controller, part = make_sync(FakeSync(kind))
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        controller.sync_now()
    assert text_of(part) == text
    looks = part.indicator.looks
    assert looks is not None and looks.tone == tone and looks.action == action
    assert str(kind.message()) in part.indicator.toolTip()
    if kind.retry_later:
        assert "Dicoba lagi otomatis pukul" in part.indicator.toolTip()
        assert controller.timer.isActive()
    else:
        assert not controller.timer.isActive()  # too old: no retries until the app is updated


def test_401_asks_to_log_in_again(make_sync: Any, qtbot: Any) -> None:
    controller, part = make_sync(FakeSync(ErrorKind.AUTH))
    with qtbot.waitSignal(controller.login_requested, timeout=WAIT_MS) as asked:
        part.sync_action.trigger()
    assert "Silakan masuk lagi" in asked.args[0]
    dialog = part.login_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.findChild(QLabel, "login_reason").text() == asked.args[0]
    assert dialog.username.text() == "ana" and dialog.server.text() == "http://127.0.0.1:9"
    assert text_of(part) == "Perlu masuk lagi"
    assert not controller.timer.isActive()  # blocked until a login
    dialog.reject()
    with qtbot.waitSignal(controller.login_requested, timeout=WAIT_MS):
        controller.sync_now()  # asks again instead of hammering the server with a dead token
    assert controller._run_cycle.calls == 1  # type: ignore[attr-defined]


def test_describe_never_shows_codes() -> None:
    from desmig_desktop.ui.sync.controller import SyncView

    for phase in Phase:
        looks = describe(SyncView(phase, pending=2, message="Pesan."))
        assert looks.text and "None" not in looks.text and "HTTP" not in looks.text
    clock = "Jam laptop berbeda 15 menit dari server. Periksa tanggal dan jam laptop."
    warned = describe(SyncView(Phase.SYNCED, last_success="2025-05-01T03:04:05.000000Z", warnings=(clock,)))
    assert warned.tone == "warn" and warned.text.endswith("· 1 peringatan") and clock in warned.tooltip


def test_backoff_grows_and_is_capped(make_sync: Any, qtbot: Any) -> None:
    policy = BackoffPolicy(base_s=0.02, cap_s=0.16, interval_s=3600, after_edit_s=3600)
    controller, part = make_sync(FakeSync(ErrorKind.NETWORK), policy=policy, rng=TopOfWindow())
    delays: list[float] = []
    intervals: list[int] = []

    def note(_outcome: Any) -> None:
        delays.append(controller.last_delay_s or 0.0)
        intervals.append(controller.timer.interval())

    controller.cycle_finished.connect(note)
    controller.start()  # logged in: the first cycle runs right away, each retry by the timer alone
    qtbot.waitUntil(lambda: len(delays) >= 6, timeout=WAIT_MS)
    controller.stop()
    assert delays[:6] == pytest.approx([0.02, 0.04, 0.08, 0.16, 0.16, 0.16])
    assert all(d * 1000 - 5 <= i <= d * 1000 for d, i in zip(delays[:6], intervals[:6]))  # the timer sleeps that long
    assert text_of(part).startswith("Offline")


def test_backoff_is_fully_jittered_and_resets_after_success(make_sync: Any, qtbot: Any) -> None:
    policy = BackoffPolicy(base_s=0.01, cap_s=0.08, interval_s=3600, after_edit_s=3600)
    fake = FakeSync(*[ErrorKind.SERVER] * 7, "ok")
    controller, _part = make_sync(fake, policy=policy, rng=random.Random(7))
    delays: list[float] = []
    controller.cycle_finished.connect(lambda _o: delays.append(controller.last_delay_s or 0.0))
    controller.start()
    qtbot.waitUntil(lambda: len(delays) >= 8, timeout=WAIT_MS)
    windows = [min(0.08, 0.01 * 2 ** n) for n in range(7)]
    assert all(0 <= d <= w for d, w in zip(delays, windows))
    assert len(set(delays[:7])) == 7  # random within each window, not a fixed ladder
    assert delays[7] == 3600 and controller.scheduler.failures == 0  # healthy again: the periodic interval


def test_periodic_sync_runs_without_any_edit(make_sync: Any, qtbot: Any) -> None:
    fake = FakeSync("ok")
    controller, _part = make_sync(fake, policy=BackoffPolicy(base_s=5, cap_s=900, interval_s=0.05,
                                                            after_edit_s=3600))
    controller.start()
    qtbot.waitUntil(lambda: fake.calls >= 3, timeout=WAIT_MS)  # the timer alone; nobody edited anything


def test_saves_bring_one_sync_once_they_go_quiet(make_sync: Any, qtbot: Any, ctx: Any, window: Any) -> None:
    fake = FakeSync("ok")
    controller, _part = make_sync(fake, policy=BackoffPolicy(base_s=5, cap_s=900, interval_s=3600,
                                                            after_edit_s=0.2))
    controller.scheduler.succeeded(controller._clock())  # as if it had just synced: next run in an hour
    controller.start()
    assert not controller.save_timer.isActive()
    for name in ("Satu", "Dua"):
        add_household(ctx.db, VILLAGE, head=name)
        window.on_data_changed()  # what a save does: the list refreshes
        assert controller.save_timer.isActive()  # restarted by each save
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        pass
    assert fake.calls == 1  # one cycle once the saves went quiet, not one per save


def test_a_rebuilt_window_gets_the_same_controller(qtbot: Any, ctx: Any, window: Any) -> None:
    """A language switch rebuilds the window: the controller (and its backoff) carries over, the
    old window's indicator and menu go with it."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from desmig_desktop.domain.i18n import set_language
    from desmig_desktop.ui.main_window import MainWindow

    pretend_logged_in(ctx.db)
    controller = SyncController(ctx, run_cycle=FakeSync(ErrorKind.NETWORK), policy=QUIET)
    try:
        old = MainWindow(ctx, autosave_ms=60_000)
        install_sync(old, ctx, controller)
        with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
            controller.sync_now()
        failures = controller.scheduler.failures
        set_language("en")
        install_sync(window, ctx, controller)  # the rebuilt window (the shell builds it before closing the old one)
        old.close()
        old.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        part = window.findChild(SyncWindowPart)
        assert part is not None and part.controller is controller and controller.scheduler.failures == failures
        assert controller.window() is window
        assert part.indicator.text.text() == "Offline"
        controller.refresh()  # signals reach only live widgets (a dead receiver would raise here)
        assert part.sync_action.text() == "&Sync now"
    finally:
        controller.stop()


def test_logout_forgets_the_token_and_stops_syncing(make_sync: Any, qtbot: Any, ctx: Any, answers: Any) -> None:
    from desmig_desktop.services import sync_service

    controller, part = make_sync(FakeSync("ok"))
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        pass  # the first cycle, right after start
    calls = controller._run_cycle.calls  # type: ignore[attr-defined]
    assert part.logout_action.isEnabled()
    with qtbot.waitSignal(controller.changed, timeout=WAIT_MS,
                          check_params_cb=lambda: controller.view().phase is Phase.LOGGED_OUT):
        part.logout_action.trigger()
    assert "Keluar dari server HQ di laptop ini?" in answers.questions[-1]
    assert not sync_service.sync_status(ctx.db).logged_in
    assert text_of(part) == "Belum masuk ke server" and not part.logout_action.isEnabled()
    assert not controller.timer.isActive()
    assert controller._run_cycle.calls == calls  # type: ignore[attr-defined]
