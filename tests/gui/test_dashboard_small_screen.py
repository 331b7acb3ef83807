"""The dashboard on the smallest laptop we support (1024×600: a window of at most 1024×572) and on
1366×768, with demo data and the programme's second row of cards: the page is no wider than the
window (no button, field or card cut at the right edge), the region table shows at least three whole
rows, and the charts can be reached (scrolled to) and drawn whole. On 1366×768 nothing needs scrolling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox, QFrame, QLabel, QLineEdit, QScrollArea, QWidget

from desmig_desktop.domain.report_period import month_period
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.store import settings
from desmig_desktop.ui.dashboard.monthly import month_choices

VILLAGES = [f"33.01.01.200{n}" for n in range(1, 8)]  # seven villages of one district, as make_all.sh's demo
SIZES = [(1024, 572), (1366, 740)]  # the window on a 1024×600 and a 1366×768 screen
MIN_WHOLE_ROWS = 3


@pytest.fixture
def page(qtbot: Any, window: Any, db: Any) -> Any:
    settings.put(db, "villages", VILLAGES)
    generate_demo(db, 140, villages=VILLAGES, seed=7)
    dashboard = window.dashboard
    with qtbot.waitSignal(dashboard.report_shown, timeout=20_000):
        qtbot.keyClick(window.tabs.tabBar(), Qt.Key.Key_Right)  # Daftar → Dasbor by keyboard
    with qtbot.waitSignal(dashboard.report_shown, timeout=20_000):
        dashboard.navigate("33.01.01")  # the district of the seven villages: one row per village
    with qtbot.waitSignal(dashboard.report_shown, timeout=20_000):
        dashboard.set_period(month_period(month_choices(dt.date.today())[0]))  # last month, as in the screenshots
    assert dashboard.proxy.rowCount() == len(VILLAGES)
    return dashboard


def _resize(qtbot: Any, window: Any, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.wait(100)  # layouts settle, the header refits its titles


def _shown_part(widget: QWidget) -> QRect:
    """The part of ``widget`` (in its own coordinates) its ancestors — a scroll area's viewport, a
    splitter, the window — leave on screen."""
    shown = QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())
    parent = widget.parentWidget()
    while parent is not None:
        shown &= QRect(parent.mapToGlobal(parent.rect().topLeft()), parent.size())
        parent = parent.parentWidget()
    return shown.translated(-widget.mapToGlobal(widget.rect().topLeft()))


def _shown_whole(widget: QWidget) -> bool:
    """``widget`` is painted whole: no ancestor clips any part of it."""
    return not widget.rect().isEmpty() and _shown_part(widget) == widget.rect()


def _horizontally_inside(widget: QWidget, window: QWidget) -> bool:
    left = widget.mapTo(window, widget.rect().topLeft()).x()
    return left >= 0 and left + widget.width() <= window.width()


def _whole_rows(table: Any) -> int:
    viewport = table.viewport()
    shown = _shown_part(viewport)
    return sum(1 for row in range(table.model().rowCount())
               if shown.contains(QRect(0, table.rowViewportPosition(row), viewport.width(), table.rowHeight(row))))


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_fits_a_small_laptop(qtbot: Any, window: Any, page: Any, size: tuple[int, int]) -> None:
    _resize(qtbot, window, size)
    assert window.width() <= size[0] and window.height() <= size[1], window.size()
    assert page.width() <= window.width()
    controls = [w for w in page.findChildren(QWidget) if w.isVisible() and isinstance(w, (QAbstractButton, QComboBox, QLineEdit))
                and not page.table.isAncestorOf(w)]
    assert page.monthly_button in controls and page.refresh_button in controls and page.search in controls
    cut = [w.text() if isinstance(w, QAbstractButton) else w.objectName() or type(w).__name__
           for w in controls if not _shown_whole(w)]
    assert not cut, (size, cut)  # every button, chooser and the filter field painted whole
    cards = [w for w in page.findChildren(QFrame, "figure_card") if w.isVisible()]
    captions = [w for card in cards for w in card.findChildren(QLabel)]
    assert [w.text() for w in (*cards, *captions) if not _horizontally_inside(w, window)] == []
    assert _whole_rows(page.table) >= MIN_WHOLE_ROWS, (size, _shown_part(page.table.viewport()))
    charts = page.charts
    scroll = next((w for w in _ancestors(charts, page) if isinstance(w, QScrollArea)), None)
    if size[0] >= 1366:
        assert _shown_whole(charts), _shown_part(charts)  # no scrolling on the larger screen
    elif scroll is not None:
        scroll.ensureWidgetVisible(charts, 0, 0)
        qtbot.wait(50)
    assert _shown_whole(charts), (size, _shown_part(charts), charts.size())
    assert charts.height() >= charts.minimumSizeHint().height()
    for chart in (charts.sectors, charts.countries):
        assert len(chart.shown_labels()) >= 3  # room for at least three labelled bars


def _ancestors(widget: QWidget, stop: QWidget) -> list[QWidget]:
    found = []
    parent = widget.parentWidget()
    while parent is not None and parent is not stop:
        found.append(parent)
        parent = parent.parentWidget()
    return found
