"""The status bar's notice of a new questionnaire version (after a sync applied one) is readable on a
1024-pixel screen: never painted under, or clipped by, the bar's own widgets (record count, pending
changes, sync state); when cut short it ends in "…" and the bar's tooltip has the whole notice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gui_helpers import VILLAGE
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizeGrip, QWidget
from sync_helpers import WAIT_MS, FakeSync, pretend_logged_in

from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.questionnaire import update_notice
from desmig_desktop.services.sync_service import CycleReport
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.scheduler import BackoffPolicy
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import install_sync

QUIET = BackoffPolicy(base_s=5, cap_s=900, interval_s=3600, after_edit_s=3600)
CHANGES = [  # from a lone label change to every kind of change at once, in large numbers
    {"label_changed": 1},
    {"field_added": 3},
    {"field_added": 3, "choice_added": 1, "label_changed": 1},
    {"field_added": 128, "choice_added": 1024, "label_changed": 77, "help_changed": 12},
]


@pytest.fixture
def synced(window: Any, ctx: Any, db: Any) -> Iterator[Callable[[int, dict[str, int]], SyncController]]:
    generate_demo(db, 30, villages=[VILLAGE], seed=11)  # changes waiting to be sent: the sync state says how many
    window.on_data_changed()  # the record count and the pending changes beside it
    made: list[SyncController] = []

    def sync_applying(version: int, changes: dict[str, int]) -> SyncController:
        def step(db: Any, _progress: Any, _cancel: Any) -> CycleReport:
            st.put_state(db, st.K_LAST_SUCCESS, "2026-12-05T08:10:00.000000Z")
            return CycleReport(pending_ops=st.pending_count(db), questionnaire_version=version,
                               questionnaire_changes=tuple(changes.items()))

        pretend_logged_in(ctx.db)
        controller = SyncController(ctx, run_cycle=FakeSync(step), policy=QUIET)
        made.append(controller)
        install_sync(window, ctx, controller)
        return controller

    yield sync_applying
    for controller in made:
        controller.stop()


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("changes", CHANGES)
@pytest.mark.parametrize("width", [1024, 1366])
def test_questionnaire_notice_fits_beside_the_status_widgets(qtbot: Any, window: Any, synced: Any, width: int,
                                                             changes: dict[str, int], language: str) -> None:
    set_language(language)
    window.resize(width, 572)
    controller = synced(7, changes)
    with qtbot.waitSignal(controller.cycle_finished, timeout=WAIT_MS):
        controller.sync_now()
    qtbot.wait(50)
    notice = update_notice(7, changes)
    assert controller.notice == notice
    bar = window.statusBar()
    shown = bar.currentMessage()
    widgets = [w for w in bar.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
               if w.isVisible() and not isinstance(w, QSizeGrip) and w.width() > 0]
    assert widgets  # the record count and the sync state sit at the right
    room = min(w.geometry().left() for w in widgets)
    assert bar.fontMetrics().horizontalAdvance(shown) < room, (shown, room)  # painted whole, left of them
    if shown != notice:
        assert shown.endswith("…") and notice.startswith(shown[:-1].rstrip()), shown
        assert bar.toolTip() == notice
        assert "7" in shown  # the version is always readable
    else:
        assert bar.toolTip() == ""
    bar.clearMessage()
    assert bar.toolTip() == ""  # the tooltip goes with the message
