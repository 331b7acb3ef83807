"""Issue 20 §13: at 1024×600 every dashboard column title and chart label is readable, none clipped.

A title or label shown shorter than it is (wrapped, abbreviated or cut with "…") has its full text
in the tooltip. Widths are measured with the fonts and style rectangles Qt paints them in.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCharts import QBarCategoryAxis
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QStyle, QStyleOptionHeader

from desmig_desktop.services.demo import generate_demo
from desmig_desktop.store import settings

VILLAGES = ["32.01.05.2001", "32.01.05.2002", "32.01.06.2001", "33.01.01.2001"]


@pytest.fixture
def dashboard_at(qtbot: Any, window: Any, db: Any) -> Any:
    settings.put(db, "villages", VILLAGES)  # the officer serves the four demo villages
    generate_demo(db, 80, villages=VILLAGES, seed=3)

    def show(width: int, height: int) -> Any:
        window.resize(width, height)
        page = window.dashboard
        if page.report is None:
            with qtbot.waitSignal(page.report_shown, timeout=20_000):
                qtbot.keyClick(window.tabs.tabBar(), Qt.Key.Key_Right)  # Daftar → Dasbor by keyboard
        qtbot.waitUntil(lambda: window.width() == width)
        page.table.selectRow(0)  # a selected row paints every title bold
        qtbot.wait(50)  # the header refits on the next turn of the event loop
        return page

    return show


def label_room(header: Any, section: int) -> int:
    """The width the style gives the title of ``section`` as the header paints it now (sort arrow included)."""
    option = QStyleOptionHeader()
    header.initStyleOptionForIndex(option, section)
    option.rect = QRect(header.sectionViewportPosition(section), 0, header.sectionSize(section), header.height())
    return header.style().subElementRect(QStyle.SubElement.SE_HeaderLabel, option, header).width()


def bold(font: QFont) -> QFont:
    font = QFont(font)
    font.setBold(True)  # how a header paints the titles of a selected row
    return font


def _shown_titles(page: Any) -> list[tuple[int, str, str]]:
    header = page.table.horizontalHeader()
    model = page.proxy
    return [(s, model.headerData(s, Qt.Orientation.Horizontal), model.headerData(
        s, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) or "") for s in range(header.count())]


@pytest.mark.parametrize("size", [(1024, 572), (1366, 740)])
def test_every_column_title_fits_its_column(dashboard_at: Any, size: tuple[int, int]) -> None:
    page = dashboard_at(*size)
    header = page.table.horizontalHeader()
    metrics = QFontMetrics(bold(header.font()))
    titles = _shown_titles(page)
    assert len(titles) >= 13
    for section, shown, _tooltip in titles:
        room = label_room(header, section)
        for line in shown.split("\n"):
            assert metrics.horizontalAdvance(line) <= room, (size, page.model.headers()[section], shown, room)
    for section, shown, tooltip in titles:
        full = page.model.headers()[section]
        assert full in tooltip, (full, tooltip)
        assert shown.count("\n") < 3
        if size[0] >= 1366:  # room enough: the full title (wrapped) or its BPS abbreviation, never cut
            assert " ".join(shown.split()) in page.model.titles(section), (full, shown)


def _label_room(chart: Any) -> tuple[QFontMetrics, float, int]:
    axis = next(a for a in chart.chart().axes() if isinstance(a, QBarCategoryAxis))
    return QFontMetrics(axis.labelsFont()), chart.chart().plotArea().left(), axis.count()


@pytest.mark.parametrize("size", [(1024, 572), (1366, 740)])
def test_chart_labels_are_drawn_whole_or_explained(dashboard_at: Any, size: tuple[int, int]) -> None:
    page = dashboard_at(*size)
    for chart in (page.charts.sectors, page.charts.countries):
        axis = next(a for a in chart.chart().axes() if isinstance(a, QBarCategoryAxis))
        shown = [axis.at(i) for i in range(axis.count())]
        assert not axis.labelsTruncated(), (size, shown)  # QtCharts cut none of them down to "…"
        metrics, plot_left, count = _label_room(chart)
        slot = chart.chart().plotArea().height() / count
        assert slot >= metrics.height() + 13  # the room a label needs, or QtCharts shows "…" alone
        for label in shown:
            assert metrics.horizontalAdvance(label) <= plot_left - 18, (size, label)
        full = [label for label, _n in chart.entries]
        if sorted(shown) != sorted(full):
            for label in full:
                assert label in chart.toolTip()
        assert sum(n for _label, n in chart.values()) == sum(n for _label, n in chart.entries)  # nothing lost


def test_no_figure_cell_is_cut_on_a_small_laptop(qtbot: Any, ctx: Any, db: Any) -> None:
    """At 1024 px with a vertical scroll bar (8 villages), every figure — "Rp 4,75 jt" in a
    median column included — is drawn whole: the table scrolls sideways before it cuts a cell."""
    from PySide6.QtWidgets import QStyle as Style

    from desmig_desktop.ui.dashboard.page import DashboardPage

    villages = [f"33.01.01.{2001 + n}" for n in range(8)]
    settings.put(db, "villages", villages)
    generate_demo(db, 160, villages=villages, seed=5)
    page = DashboardPage(ctx, prefix="33.01.01")
    qtbot.addWidget(page)
    page.resize(1000, 300)
    with qtbot.waitSignal(page.report_shown, timeout=20_000):
        page.show()
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 8)
    table = page.table
    font = QFont(table.font())
    font.setBold(True)  # the widest a cell is drawn (a selected row)
    metrics = QFontMetrics(font)
    margin = 2 * (table.style().pixelMetric(Style.PixelMetric.PM_FocusFrameHMargin, None, table) + 1)
    cut = [(page.model.headers()[c], str(page.proxy.index(r, c).data()))
           for r in range(page.proxy.rowCount()) for c in range(2, page.proxy.columnCount())
           if metrics.horizontalAdvance(str(page.proxy.index(r, c).data())) > table.columnWidth(c) - margin]
    assert not cut, cut
