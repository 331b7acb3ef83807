"""Planned dates in the programme window, by keyboard: a follow-up next week is typed and saved
(the date field itself caps nothing), while a service date next week, or a follow-up beyond the
planning horizon, is refused at its field and nothing is saved."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from gui_helpers import VILLAGE, fill, press_ctrl, show_active
from PySide6.QtCore import Qt

from desmig_desktop.domain.field_rules import PLANNING_HORIZON_DAYS
from desmig_desktop.ui.field_widgets import DateEditor
from desmig_desktop.ui.programme import ProgrammeWindow


@pytest.fixture
def programme(qtbot: Any, db: Any) -> ProgrammeWindow:
    win = ProgrammeWindow(db, [VILLAGE], draft_delay_ms=60_000)
    qtbot.addWidget(win)
    show_active(qtbot, win)
    return win


def _typed(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _rows(db: Any, entity: str) -> list[tuple[Any, ...]]:
    return list(db.execute(f"SELECT held_on, follow_up_on FROM {entity} WHERE deleted = 0").fetchall()
                if entity == "officer_activities" else
                db.execute(f"SELECT served_on, follow_up_on FROM {entity} WHERE deleted = 0").fetchall())


@pytest.mark.parametrize("page_number, entity, values, day_key", [
    (2, "services", {"walk_in_name": "Contoh Warga", "service_type": "pengaduan", "case_kind": "gaji",
                     "status": "terbuka"}, "served_on"),
    (6, "officer_activities", {"activity_kind": "rapat_koordinasi", "partners": ["pemdes"],
                               "topic": "Tindak lanjut kasus"}, "held_on"),
])
def test_a_follow_up_next_week_is_typed_and_saved(qtbot: Any, programme: ProgrammeWindow, db: Any, page_number: int,
                                                   entity: str, values: dict[str, Any], day_key: str) -> None:
    win, today = programme, dt.date.today()
    next_week = today + dt.timedelta(days=7)
    qtbot.keyClick(win.tabs.tabBar(), Qt.Key(Qt.Key.Key_0 + page_number), Qt.KeyboardModifier.AltModifier)
    page = win.current_page()
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    assert isinstance(page.editor.form.editors["follow_up_on"], DateEditor)
    fill(qtbot, page.editor.form, {day_key: _typed(today), **values, "follow_up_on": _typed(next_week)})
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    assert not page.editor.dirty, page.editor.status.text()
    assert _rows(db, entity) == [(today.isoformat(), next_week.isoformat())]


def test_a_service_date_ahead_or_a_follow_up_too_far_is_refused_at_its_field(qtbot: Any, programme: ProgrammeWindow,
                                                                              db: Any) -> None:
    win, today = programme, dt.date.today()
    qtbot.keyClick(win.tabs.tabBar(), Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    page = win.current_page()
    press_ctrl(qtbot, win, Qt.Key.Key_N)
    too_far = today + dt.timedelta(days=PLANNING_HORIZON_DAYS + 1)
    fill(qtbot, page.editor.form, {"served_on": _typed(today + dt.timedelta(days=7)), "walk_in_name": "Contoh Warga",
                                   "service_type": "informasi", "status": "terbuka", "follow_up_on": _typed(too_far)})
    press_ctrl(qtbot, win.focusWidget(), Qt.Key.Key_S)
    messages = page.editor.form.messages
    assert {k for k, m in messages.items() if m.isVisibleTo(page.editor)} == {"served_on", "follow_up_on"}
    assert messages["served_on"].text() == "Tanggal tidak boleh di masa depan."
    assert messages["follow_up_on"].text() == "Tanggal rencana paling lambat dua tahun dari hari ini."
    assert _rows(db, "services") == [] and page.editor.dirty
