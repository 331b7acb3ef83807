"""The officer's dashboard tab: figures by region with drill-down, charts, XLSX/CSV export and a
printable PDF summary per village.

Figures come from ``services.reports.build_report`` — the same definition HQ uses — computed in
a background job on the shared task manager (quietly: no progress dialog, waiting its turn
behind a sync). Results are cached per (level, region) until records change:
``mark_stale()`` (wired to the main window's ``data_changed``) drops the cache and recomputes
when the tab is on screen, or the next time it is shown.

The programme's figures (issue 15) have a second row of cards; activities among them count in
the period chosen at the top (everything by default). "Laporan bulanan…" writes the officer's
monthly report (``ui.dashboard.monthly``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from functools import partial
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.domain.report_period import EVERYTHING, Period
from desmig_desktop.domain.report_spec import PROGRAMME_SUMMARY_KEYS, child_level
from desmig_desktop.errors import KnownError
from desmig_desktop.services import regions, settings
from desmig_desktop.services.handle import Database
from desmig_desktop.services.reports import LEVELS, build_report, home_prefix
from desmig_desktop.ui import dialogs
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.dashboard import figures
from desmig_desktop.ui.dashboard.cards import FigureCards
from desmig_desktop.ui.dashboard.charts import ChartsPanel
from desmig_desktop.ui.dashboard.exporting import TableExport, export_table_job
from desmig_desktop.ui.dashboard.fitting import CompactSplitter, ElidedLabel
from desmig_desktop.ui.dashboard.header import FittingHeader
from desmig_desktop.ui.dashboard.model import CODE_ROLE, SORT_ROLE, ReportTableModel
from desmig_desktop.ui.dashboard.monthly import MonthlyReportDialog, default_name, write_monthly_report
from desmig_desktop.ui.dashboard.village_pdf import VillageSummary, write_pdf
from desmig_desktop.ui.dialogs import file_dialog
from desmig_desktop.ui.tables import ENTER, KeyTable, record_list

log = logging.getLogger(__name__)
MIN_WHOLE_ROWS = 3  # of the region table, on the smallest screen (the page scrolls below its header first)
Report = Mapping[str, Any]


def report_job(level: str, prefix: str, period: Period = EVERYTHING) -> Callable[[Any, Any], dict[str, Any] | Exception]:
    """The background job computing one report (its own connection, plain data out).

    A failure is returned, not raised, so the page always learns that its job ended.
    """

    def run(db: Database, _progress: Any) -> dict[str, Any] | Exception:
        try:
            return build_report(db, level, prefix, period)
        except Exception as exc:  # noqa: BLE001 — shown on the GUI thread by ``_on_report``
            return exc

    return run


class DashboardPage(QWidget):
    """Figures of one area (``prefix``) grouped by ``level``; double-click or Enter drills down."""

    message = Signal(str)  # a note for the status bar (export written, PDF saved)
    report_shown = Signal()  # a report reached the screen (tests wait for it)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, prefix: str | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.prefix = home_prefix(settings.villages(ctx.db)) if prefix is None else prefix
        self.level = child_level(self.prefix)
        self.report: Report | None = None
        self.period: Period = EVERYTHING
        self._cache: dict[tuple[str, str, Period], Report] = {}
        self._generation = 0  # bumped when records change: older results are not cached
        self._running: tuple[str, str, Period] | None = None
        self._reselect = ""  # the row to select once the next report is shown
        self._build()
        self._show_place()

    # building ----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 6)
        top = QHBoxLayout()
        self.up_button = QPushButton(_("◀ Naik"), self)
        self.up_button.setToolTip(_("Kembali ke wilayah di atasnya (Backspace)"))
        self.breadcrumb = QLabel(self)
        self.breadcrumb.setObjectName("breadcrumb")
        self.breadcrumb.setStyleSheet("font-size: 12pt;")
        self.breadcrumb.setTextFormat(Qt.TextFormat.RichText)
        self.breadcrumb.setWordWrap(True)  # a long chain of names takes a second line, not the buttons' room
        self.level_box = QComboBox(self)
        self.level_box.setObjectName("level_box")
        self.period_box = QComboBox(self)
        self.period_box.setObjectName("period_box")
        self.period_box.setToolTip(_("Layanan, kegiatan pengasuhan, pelatihan dan kegiatan petugas dihitung dalam "
                                     "periode ini; kasus terbuka dan anak PMI per akhir periode."))
        choices = figures.period_choices(dt.date.today())
        self.periods = [period for _text, period in choices]  # the box's items (an index as their data)
        for n, (text, _period) in enumerate(choices):
            self.period_box.addItem(text, n)
        self.refresh_button = QPushButton(_("Muat ulang"), self)
        self.refresh_button.setToolTip(_("Hitung ulang angka dari data terbaru (F5)"))
        top.addWidget(self.up_button)
        top.addWidget(self.breadcrumb, 1)
        top.addWidget(QLabel(_("Satu baris per:"), self))
        top.addWidget(self.level_box)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.coverage = QLabel(self)
        self.coverage.setObjectName("coverage")
        self.coverage.setStyleSheet("font-size: 11pt; color: #1d3d5f;")
        self.coverage.setWordWrap(True)
        self.coverage.setToolTip(_("Wilayah yang memiliki sedikitnya satu rumah tangga tercatat."))
        areas = QHBoxLayout()  # the areas holding data, and the period the activities count in
        areas.addWidget(self.coverage, 1)
        areas.addWidget(QLabel(_("Periode:"), self))
        areas.addWidget(self.period_box)
        layout.addLayout(areas)
        # Below the header: the cards, the table and the charts, scrolled together when the screen is
        # too short for all of them (1024×600) — the table keeps three whole rows, the charts their
        # height; the header and the buttons below stay in place.
        self.body = QScrollArea(self)
        self.body.setObjectName("dashboard_body")
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.setWidgetResizable(True)
        self.body.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # widths follow the window
        inner = QWidget(self.body)
        column = QVBoxLayout(inner)
        column.setContentsMargins(0, 0, 0, 0)
        self.cards = FigureCards(inner)
        column.addWidget(self.cards)
        self.pillar_cards = FigureCards(inner, PROGRAMME_SUMMARY_KEYS)
        self.pillar_cards.setObjectName("pillar_cards")
        column.addWidget(self.pillar_cards)
        self.model = ReportTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = KeyTable(self)
        self.table.setObjectName("report_table")
        self.table.setHorizontalHeader(FittingHeader(self.model, self.table))  # titles fit at 1024 pixels too
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        record_list(self.table)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)  # the figures share the width: no sideways scrolling
        header.geometriesChanged.connect(self._fit_table_height)  # titles on more lines: a taller header
        self._fit_table_height()
        self.charts = ChartsPanel(self)
        splitter = CompactSplitter(Qt.Orientation.Vertical, inner)
        splitter.addWidget(self.table)
        splitter.addWidget(self.charts)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        column.addWidget(splitter, 1)
        self.body.setWidget(inner)
        layout.addWidget(self.body, 1)
        bottom = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(_("Saring nama wilayah…"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(140)  # narrower on a 1024-pixel screen, so every button fits beside it
        self.search.setMaximumWidth(220)
        self.status = ElidedLabel(self)
        self.status.setObjectName("dashboard_status")
        self.xlsx_button = QPushButton(_("Ekspor Excel…"), self)
        self.csv_button = QPushButton(_("Ekspor CSV…"), self)
        self.pdf_button = QPushButton(_("Cetak ringkasan desa (PDF)…"), self)
        self.pdf_button.setObjectName("pdf_button")
        self.monthly_button = QPushButton(_("Laporan bulanan…"), self)
        self.monthly_button.setObjectName("monthly_button")
        self.monthly_button.setToolTip(_("Laporan bulanan petugas untuk Dinas (PDF atau Excel)"))
        bottom.addWidget(self.search, 1)
        bottom.addWidget(self.status, 2)
        for button in (self.xlsx_button, self.csv_button, self.pdf_button, self.monthly_button):
            bottom.addWidget(button)
        layout.addLayout(bottom)
        self.up_button.clicked.connect(self.go_up)
        self.breadcrumb.linkActivated.connect(lambda href: self.navigate(href.removeprefix("code:")))
        self.level_box.activated.connect(lambda _i: self.set_level(self.level_box.currentData()))
        self.period_box.activated.connect(lambda i: self.set_period(self.periods[i]))
        self.refresh_button.clicked.connect(self.reload)
        self.table.doubleClicked.connect(lambda _index: self.drill())
        self.table.bind(ENTER, self.drill)  # Enter drills into the current region, Backspace goes up
        self.table.bind(Qt.Key.Key_Backspace, self.go_up)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._update_actions())
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.xlsx_button.clicked.connect(lambda: self.start_export("xlsx"))
        self.csv_button.clicked.connect(lambda: self.start_export("csv"))
        self.pdf_button.clicked.connect(self.start_village_pdf)
        self.monthly_button.clicked.connect(self.start_monthly_report)
        reload_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self)
        reload_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        reload_key.activated.connect(self.reload)

    # where we are ------------------------------------------------------------------------

    def navigate(self, prefix: str, level: str | None = None) -> None:
        """Show the area ``prefix`` ("" = Indonesia) grouped by ``level`` (default: the level below)."""
        self.prefix = prefix
        self.level = level if level in figures.levels_below(prefix) else child_level(prefix)
        self.search.clear()
        self._show_place()
        self.refresh()

    def set_period(self, period: Period) -> None:
        """Count activities in ``period`` (the figures are computed again, or taken from the cache)."""
        if period != self.period:
            self.period = period
            if period in self.periods:
                self.period_box.setCurrentIndex(self.periods.index(period))
            self.refresh()

    def set_level(self, level: str) -> None:
        if level != self.level:
            self.navigate(self.prefix, level)

    def drill(self) -> None:
        """Into the selected region (a village: that village alone)."""
        code = self.selected_code()
        if code is not None and code != self.prefix:
            self.navigate(code)

    def go_up(self) -> None:
        """To the area above, grouped by the level we were at, with the area we left selected."""
        if not self.prefix:
            return
        came_from = self.prefix
        shorter = [n for n in LEVELS.values() if n < len(came_from)]
        self.navigate(came_from[:shorter[-1]] if shorter else "", level=figures.level_of(came_from))
        self._reselect = came_from
        self._select_code(came_from)

    def selected_code(self) -> str | None:
        index = self.table.currentIndex()
        return str(index.data(CODE_ROLE)) if index.isValid() else None

    def _select_code(self, code: str) -> None:
        row = self.model.row_of(code)
        if row is not None:
            self.table.setCurrentIndex(self.proxy.mapFromSource(self.model.index(row, 0)))

    def _show_place(self) -> None:
        chain = regions.lineage(self.ctx.db, self.prefix) if self.prefix else []
        parts = [("", _("Indonesia")), *((r.code, r.name) for r in chain)]
        links = [f"<a href='code:{code}'>{escape(name)}</a>" for code, name in parts[:-1]]
        self.breadcrumb.setText(" › ".join([*links, f"<b>{escape(parts[-1][1])}</b>"]))
        self.up_button.setEnabled(bool(self.prefix))
        self.level_box.clear()
        for level in figures.levels_below(self.prefix):
            self.level_box.addItem(figures.level_label(level), level)
        self.level_box.setCurrentIndex(max(0, self.level_box.findData(self.level)))

    # computing ---------------------------------------------------------------------------

    def mark_stale(self) -> None:
        """Records changed: forget computed figures; recompute now if on screen, else when next shown."""
        self._forget()
        if self.isVisible():
            self.refresh()

    def reload(self) -> None:
        self._forget()
        self.refresh()

    def _forget(self) -> None:
        self._generation += 1  # a job already running computes from older data: its result is not kept
        self._cache.clear()

    def refresh(self) -> None:
        """Show the current area's figures, computing them in the background unless cached."""
        wanted = (self.level, self.prefix, self.period)
        if wanted in self._cache:
            self._show(self._cache[wanted])
            return
        if self._running is not None:
            return  # when the running job ends, ``_on_report`` asks for what is wanted then
        self._running = wanted
        self.status.setText(_("Menghitung angka…"))
        self.ctx.tasks.run_quietly(report_job(*wanted), label=_("Menghitung laporan…"),
                                   on_done=partial(self._on_report, wanted, self._generation))

    def _on_report(self, key: tuple[str, str, Period], generation: int, report: Report | Exception) -> None:
        if not isValid(self):
            return  # the window was rebuilt meanwhile (language switch)
        self._running = None
        if isinstance(report, Exception):
            self.status.setText("")
            dialogs.show_error(self, report)
            return
        if generation == self._generation:
            self._cache[key] = report
        wanted = (self.level, self.prefix, self.period)
        if wanted in self._cache:
            self._show(self._cache[wanted])
        elif wanted != key or self.isVisible():
            self.refresh()

    def _fit_figure_cells(self) -> None:
        """No figure column narrower than its widest cell (in bold, as a selected row paints it): on a
        small screen the table scrolls sideways rather than cut "Rp 4,75 jt" to "Rp 4,7…"."""
        font = QFont(self.table.font())
        font.setBold(True)
        metrics = QFontMetrics(font)
        widest = max((metrics.horizontalAdvance(str(self.proxy.index(row, column).data() or ""))
                      for row in range(self.proxy.rowCount()) for column in range(2, self.proxy.columnCount())),
                     default=0)
        margin = 2 * (self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.table) + 1)
        self.table.horizontalHeader().setMinimumSectionSize(widest + margin + 4)

    def _fit_table_height(self) -> None:
        """The table never shorter than its header, three whole rows and a sideways scroll bar."""
        table = self.table
        frame = 2 * table.frameWidth()
        scroll_bar = table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, table)
        table.setMinimumHeight(frame + table.horizontalHeader().sizeHint().height() + scroll_bar
                               + MIN_WHOLE_ROWS * table.verticalHeader().defaultSectionSize())

    def _show(self, report: Report) -> None:
        keep = self._reselect or self.selected_code()
        self._reselect = ""
        self.report = report
        self.model.set_report(report)
        header = self.table.horizontalHeader()
        for column in (0, 1):  # code and name as wide as they need
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self._fit_figure_cells()
        self.coverage.setText(figures.coverage(report["totals"], str(report.get("prefix") or "")))
        self.coverage.setVisible(bool(self.coverage.text()))
        self.cards.set_figures(report["totals"])
        self.pillar_cards.set_figures(report["totals"])
        self.charts.show_figures(report["totals"])
        if keep:
            self._select_code(keep)
        rows = len(report["rows"])
        self.status.setText(_("{count} {level} · dihitung pukul {time}", count=grouped(rows),
                              level=figures.level_label(self.level).lower(),
                              time=dt.datetime.now().strftime("%H:%M")) if rows else
                            _("Belum ada rumah tangga tercatat di wilayah ini."))
        self._update_actions()
        self.report_shown.emit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if (self.level, self.prefix, self.period) not in self._cache:
            self.refresh()

    def _update_actions(self) -> None:
        has_rows = self.model.rowCount() > 0
        self.xlsx_button.setEnabled(has_rows)
        self.csv_button.setEnabled(has_rows)
        self.pdf_button.setEnabled(self.village_code() is not None)

    # exports -----------------------------------------------------------------------------

    def shown_table(self) -> TableExport:
        """The table as on screen: the rows that pass the filter, in the shown order, then the total."""
        rows = [self.model.row_values(self.proxy.mapToSource(self.proxy.index(n, 0)).row())
                for n in range(self.proxy.rowCount())]
        keys = self.model.keys
        totals = self.report["totals"] if self.report else {}
        filtered = bool(self.search.text())
        total_row = None if filtered else ["", _("Jumlah"), *(totals.get(k) for k in keys)]
        place = self.breadcrumb_text()
        title = _("Desmigratif — per {level}, {place}", level=figures.level_label(self.level).lower(), place=place)
        return TableExport(title, self.model.headers(), rows,
                           frozenset(n + 2 for n, k in enumerate(keys) if figures.is_money(k)), total_row)

    def breadcrumb_text(self) -> str:
        chain = regions.lineage(self.ctx.db, self.prefix) if self.prefix else []
        return " › ".join([_("Indonesia"), *(r.name for r in chain)])

    def start_export(self, fmt: str) -> bool:
        suffix = {"xlsx": ".xlsx", "csv": ".csv"}[fmt]
        name = f"laporan-{self.level}-{self.prefix or 'indonesia'}-{dt.date.today():%Y%m%d}{suffix}"
        path = file_dialog(self, _("Simpan tabel sebagai"), save=True, directory=str(Path.home() / name),
                           name_filter=_("Excel (*.xlsx)") if fmt == "xlsx" else _("CSV (*.csv)"))
        return self.export_to(fmt, Path(path).with_suffix(suffix)) if path else False

    def export_to(self, fmt: str, out: Path) -> bool:
        """Write the shown table to ``out`` in the background; False if another job is running."""
        def done(count: int) -> None:
            self.message.emit(_("{count} baris diekspor ke {path}.", count=count, path=out))

        return self.ctx.tasks.run(export_table_job(self.shown_table(), fmt, out), label=_("Mengekspor tabel…"),
                                  parent=self, on_done=done)

    # village summary ---------------------------------------------------------------------

    def village_code(self) -> str | None:
        """The village a PDF summary would be for: the selected village row, or the village on screen."""
        if figures.level_of(self.prefix) == "village" and self.model.row_of(self.prefix) is not None:
            return self.prefix
        code = self.selected_code()
        return code if code is not None and figures.level_of(code) == "village" else None

    def village_summary(self, code: str) -> VillageSummary:
        row = self.model.row_of(code)
        if row is None:
            raise KnownError(_("Desa {code} tidak ada di tabel.", code=code))
        chain = {r.level: r.name for r in regions.lineage(self.ctx.db, code)}
        data = self.model.row_data(row)
        return VillageSummary(code=code, name=str(data["name"]), figures=data, district=chain.get(3, ""),
                              regency=chain.get(2, ""), province=chain.get(1, ""),
                              officer=settings.officer_name(self.ctx.db))

    def start_village_pdf(self) -> bool:
        code = self.village_code()
        if code is None:
            return False
        summary = self.village_summary(code)
        safe = "".join(ch if ch.isalnum() else "-" for ch in summary.name.lower())
        name = f"ringkasan-desa-{safe}-{dt.date.today():%Y-%m}.pdf"
        path = file_dialog(self, _("Simpan ringkasan desa sebagai"), save=True, directory=str(Path.home() / name),
                           name_filter=_("PDF (*.pdf)"))
        return self.write_village_pdf(code, Path(path).with_suffix(".pdf")) if path else False

    def write_village_pdf(self, code: str, out: Path) -> bool:
        try:
            write_pdf(self.village_summary(code), out)
        except KnownError as exc:
            dialogs.show_error(self, exc)
            return False
        self.message.emit(_("Ringkasan desa tersimpan di {path}.", path=out))
        return True

    # the officer's monthly report --------------------------------------------------------

    def start_monthly_report(self) -> bool:
        dialog = MonthlyReportDialog(self)
        if not dialog.exec():
            return False
        suffix = dialog.suffix
        path = file_dialog(self, _("Simpan laporan bulanan sebagai"), save=True,
                           directory=str(Path.home() / default_name(dialog.month, suffix)),
                           name_filter=_("PDF (*.pdf)") if suffix == ".pdf" else _("Excel (*.xlsx)"))
        return self.write_monthly_report(dialog.month, Path(path).with_suffix(suffix)) if path else False

    def write_monthly_report(self, month: str, out: Path) -> bool:
        try:
            write_monthly_report(self.ctx.db, month, out)
        except KnownError as exc:
            dialogs.show_error(self, exc)
            return False
        self.message.emit(_("Laporan bulanan tersimpan di {path}.", path=out))
        return True
