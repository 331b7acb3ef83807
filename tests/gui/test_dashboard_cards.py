"""The dashboard's two rows of figure cards: every card's number sits at the same height whatever
its caption's length (a caption wrapping to three lines at 1024 pixels used to lift its number)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from desmig_desktop.services.demo import generate_demo
from desmig_desktop.store import settings

VILLAGES = ["32.01.05.2001", "32.01.05.2002", "32.01.06.2001", "33.01.01.2001"]
SIZES = [(1366, 740), (1024, 572)]  # the window on the two laptop screens


@pytest.fixture
def page(qtbot: Any, window: Any, db: Any) -> Any:
    settings.put(db, "villages", VILLAGES)
    generate_demo(db, 60, villages=VILLAGES, seed=3)
    dashboard = window.dashboard
    with qtbot.waitSignal(dashboard.report_shown, timeout=20_000):
        qtbot.keyClick(window.tabs.tabBar(), Qt.Key.Key_Right)  # Daftar → Dasbor by keyboard
    return dashboard


@pytest.mark.parametrize("size", SIZES)
def test_card_numbers_line_up(qtbot: Any, window: Any, page: Any, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.wait(50)
    for row in (page.cards, page.pillar_cards):
        # where the number is painted: the label's top and height (a taller label centres it lower)
        places = {key: (label.mapTo(row, QPoint(0, 0)).y(), label.height())
                  for key, label in row.values.items() if label.isVisible()}
        assert len(set(places.values())) == 1, places
