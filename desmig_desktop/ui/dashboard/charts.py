"""The dashboard's three charts (QtCharts): businesses by KBLI sector, destination countries,
migration status. Each is redrawn from the figures of the region on screen."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from PySide6.QtCharts import QBarCategoryAxis, QBarSet, QChart, QChartView, QHorizontalBarSeries, QPieSeries, QValueAxis
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.ui.dashboard import figures
from desmig_desktop.ui.dashboard.fitting import shorten

BAR_COLOR = QColor("#2e6da4")
LABEL_COLOR = QColor("#1d2733")
STATUS_COLORS = (QColor("#2e6da4"), QColor("#3c9d5d"), QColor("#e0a030"), QColor("#b8bec6"))


def _chart(title: str) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    font = QFont(chart.titleFont())
    font.setBold(True)
    chart.setTitleFont(font)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.setBackgroundRoundness(0)
    return chart


class BarChart(QChartView):
    """A horizontal bar per ``(label, value)``, largest at the top, each bar labelled with its value.

    QtCharts gives the labels at most 40 % of the chart's width and cuts longer ones down to "…" alone
    (at 1024 pixels every label was "…"). So each label is fitted to that room here, by whole words
    where possible; when one is shortened the chart's tooltip lists every full label with its count.
    """

    LABEL_SHARE = 0.4  # QtCharts' cap on a vertical axis' width (cartesianchartlayout.cpp: maxAxisPortion)
    AXIS_PADDING = 26  # the axis' ticks, padding and the chart margin, measured: 20-23 pixels
    LABEL_SLOT_PADDING = 14  # a category's slot must exceed the label's line by this much (13 measured)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(_chart(title), parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart().legend().hide()
        self.setMinimumHeight(220)
        self.entries: list[tuple[str, int]] = []
        self._shown: list[str] = []  # the labels as drawn (fitted), in the order of ``entries``
        self._label_font: QFont | None = None  # the axis' label font, as the chart's theme set it

    def label_room(self) -> int:
        """How wide a label may be at the chart's current width."""
        return int(self.LABEL_SHARE * self.width()) - self.AXIS_PADDING

    def _metrics(self) -> QFontMetrics:
        return QFontMetrics(self._label_font or QBarCategoryAxis().labelsFont())

    def bar_room(self) -> int:
        """How many bars get room for their label at the chart's current height: QtCharts draws a label
        whose slot is less than about a line plus 13 pixels (its padding) as "…" alone (measured)."""
        plot = self.chart().plotArea().height()
        height = plot if plot > 0 else self.height() - 44
        return max(3, int(height // (self._metrics().height() + self.LABEL_SLOT_PADDING)))

    def shown_items(self) -> list[tuple[str, int]]:
        """``items``, the smallest summed into "Lainnya" when the bars would not have room for their labels."""
        room = self.bar_room()
        if len(self.entries) <= room:
            return list(self.entries)
        return [*self.entries[:room - 1], (_("Lainnya"), sum(n for _label, n in self.entries[room - 1:]))]

    def fitted_labels(self) -> list[str]:
        metrics, room = self._metrics(), self.label_room()
        return [shorten(label, metrics, room) for label, _n in self.shown_items()]

    def set_items(self, items: list[tuple[str, int]]) -> None:
        self.entries = list(items)
        self._draw()

    def _draw(self) -> None:
        items = self.shown_items()
        chart = self.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        if not items:
            self._shown = []
            self.setToolTip("")
            return
        categories = QBarCategoryAxis()
        chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)  # first: the theme sets its font
        self._label_font = categories.labelsFont()
        items = self.shown_items()
        self._shown = self.fitted_labels()
        shortened = len(items) < len(self.entries) or any(s != label for s, (label, _n) in zip(self._shown, items))
        self.setToolTip("\n".join(f"{label}: {grouped(n)}" for label, n in self.entries) if shortened else "")
        shown = list(reversed(items))  # a horizontal bar chart draws its first category at the bottom
        bars = QBarSet("")
        bars.setColor(BAR_COLOR)
        bars.setLabelColor(LABEL_COLOR)
        bars.append([float(n) for _label, n in shown])
        series = QHorizontalBarSeries()
        series.append(bars)
        series.setLabelsVisible(True)
        series.setLabelsFormat("@value")
        series.setLabelsPosition(QHorizontalBarSeries.LabelsPosition.LabelsOutsideEnd)
        chart.addSeries(series)
        categories.append(list(reversed(self._shown)))
        series.attachAxis(categories)
        values = QValueAxis()  # hidden: every bar carries its own number
        values.setRange(0, max(1, *(n for _label, n in items)) * 1.18)  # room for the numbers
        values.setVisible(False)
        chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(values)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.entries and self.fitted_labels() != self._shown:  # wider, narrower, more or fewer bars
            self._draw()

    def shown_labels(self) -> list[str]:
        """The labels as the axis draws them, top bar first."""
        axis = next((a for a in self.chart().axes() if isinstance(a, QBarCategoryAxis)), None)
        return list(reversed([axis.at(i) for i in range(axis.count())])) if axis is not None else []

    def values(self) -> list[tuple[str, float]]:
        """What the chart draws, top bar first, by full label (tests)."""
        series = self.chart().series()
        if not series or not isinstance(series[0], QHorizontalBarSeries):
            return []
        bars = series[0].barSets()[0]
        drawn = [bars.at(i) for i in range(bars.count())]
        return [(label, value) for (label, _n), value in zip(self.shown_items(), reversed(drawn))]


class PieChart(QFrame):
    """Slices per ``(label, value)`` (empty ones left out) and, beside the pie, a legend that wraps long
    labels (QChart's own legend elides them) with each slice's count and share."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        palette = self.palette()  # a white box like the bar charts' views
        palette.setColor(QPalette.ColorRole.Window, QColor("white"))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 13, 8, 4)  # the title level with the bar charts' own titles
        self.title = QLabel(title, self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        font = QFont(_chart("").titleFont())
        self.title.setFont(font)
        layout.addWidget(self.title)
        row = QHBoxLayout()
        self.view = QChartView(_chart(""), self)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.chart().legend().hide()
        self.view.chart().setTitle("")
        self.legend = QLabel(self)
        self.legend.setObjectName("pie_legend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        row.addWidget(self.view, 3)
        row.addWidget(self.legend, 2)
        layout.addLayout(row, 1)
        self.setMinimumHeight(220)
        self.entries: list[tuple[str, int]] = []

    def chart(self) -> QChart:
        return self.view.chart()

    def set_items(self, items: list[tuple[str, int]]) -> None:
        self.entries = list(items)
        chart = self.chart()
        chart.removeAllSeries()
        self.legend.clear()
        total = sum(n for _label, n in items)
        if not total:
            return
        series = QPieSeries()
        entries = []
        for (label, n), color in zip(items, STATUS_COLORS * 2):
            if n:
                series.append(label, float(n)).setColor(color)
                entries.append(f"<tr><td style='color: {color.name()}; font-size: 14pt;'>■</td>"
                               f"<td style='padding: 3px 0 3px 4px;'>{escape(label)}<br/>"
                               f"<b>{grouped(n)}</b> ({100 * n / total:.0f}%)</td></tr>")
        series.setPieSize(0.9)
        chart.addSeries(series)
        self.legend.setText(f"<table cellspacing='0'>{''.join(entries)}</table>")

    def values(self) -> list[tuple[str, float]]:
        series = self.chart().series()
        pie = series[0] if series else None
        return [(s.label(), s.value()) for s in pie.slices()] if isinstance(pie, QPieSeries) else []


class ChartsPanel(QWidget):
    """The three charts side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.sectors = BarChart(_("Unit usaha per sektor (KBLI)"), self)
        self.countries = BarChart(_("PMI per negara tujuan"), self)
        self.status = PieChart(_("Status migrasi anggota"), self)
        for name, view in (("sectors", self.sectors), ("countries", self.countries), ("status", self.status)):
            view.setObjectName(f"chart_{name}")
            layout.addWidget(view, 1)

    def show_figures(self, totals: Mapping[str, Any] | None) -> None:
        """Redraw for ``totals`` (a report's totals or one of its rows); ``None`` clears."""
        totals = totals or {}
        self.sectors.set_items(figures.businesses_by_sector(totals))
        self.countries.set_items(figures.destination_countries(totals))
        self.status.set_items(figures.migration_status(totals) if totals else [])
