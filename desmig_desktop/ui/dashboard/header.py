"""The report table's column header: every title fits its column, whatever the window's width.

With the columns stretched over a 1024-pixel screen a figure column is about 70 pixels wide;
titles wrapped at a fixed number of characters ("Rumah tangga / dengan usaha") were clipped there.
Here each title is fitted to the width its label really gets (the style's label rectangle,
less the sort arrow): the full title on up to three lines, else its abbreviation
(``figures.short_label``), else shortened with "…". The model's tooltip always has the full title.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QStyle, QStyleOptionHeader, QWidget

from desmig_desktop.ui.dashboard.fitting import MAX_TITLE_LINES, fit_title
from desmig_desktop.ui.dashboard.model import ReportTableModel


def title_font(header: QHeaderView) -> QFont:
    """The font titles are measured in: bold, as a header paints the sections of a selected row."""
    font = QFont(header.font())
    font.setBold(True)
    return font


def label_width(header: QHeaderView, section: int) -> int:
    """The width the style gives the title of ``section``, sort arrow included (for a header three
    lines high, the tallest it gets: the arrow's room grows with the height)."""
    option = QStyleOptionHeader()
    header.initStyleOptionForIndex(option, section)
    option.sortIndicator = QStyleOptionHeader.SortIndicator.SortDown  # the room an arrow takes, sorted or not
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, option, header)
    height = max(header.height(), QFontMetrics(title_font(header)).lineSpacing() * MAX_TITLE_LINES + 4 * margin)
    option.rect = QRect(0, 0, header.sectionSize(section), height)
    return header.style().subElementRect(QStyle.SubElement.SE_HeaderLabel, option, header).width()


class FittingHeader(QHeaderView):
    """A horizontal header whose titles (from ``titles``) are refitted whenever a column's width changes."""

    def __init__(self, titles: ReportTableModel, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionsClickable(True)  # as the header QTableView makes itself
        self.setHighlightSections(True)
        self._titles = titles
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)  # once per layout pass, not once per column
        self._refit.timeout.connect(self.refit)
        self.sectionResized.connect(lambda *_args: self._refit.start())
        titles.modelReset.connect(self._refit.start)

    def refit(self) -> None:
        metrics = QFontMetrics(title_font(self))
        self._titles.set_shown_titles({
            section: fit_title(*self._titles.titles(section), metrics, label_width(self, section))
            for section in range(self.count())})
