"""The officer's monthly report as a printable A4 PDF (the lines of ``services.monthly_report``).

``monthly_html`` lays the report out as the HTML ``QTextDocument`` renders; ``write_pdf`` prints it
through ``ui.pdf``. ``write_pdf_anywhere`` is for ``desmig monthly-report``: it starts an
off-screen Qt application first when none runs (text layout needs one; no window is shown).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.numbers import figure
from desmig_desktop.services.monthly_report import (
    MonthlyReport,
    activity_header,
    activity_lines,
    case_header,
    case_lines,
    figure_lines,
    month_name,
    title,
)
from desmig_desktop.ui.formatting import format_date
from desmig_desktop.ui.pdf import TypeSizes, printout_html, write_html_pdf

_SIZES = TypeSizes(body=8, h1=13, h2=10, h3=9, muted=7, h1_bottom=4, h2_top=10, h3_top=6)
_GRID = "<table class='grid' width='100%' cellspacing='0' cellpadding='2'>"


def _cell(value: Any, *, money: bool = False) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, int):
        return f"<td align='right'>{escape(figure(value, money))}</td>"
    if hasattr(value, "isoformat"):
        return f"<td>{escape(format_date(value))}</td>"
    return f"<td>{escape(str(value))}</td>"


def _table(header: list[str], lines: list[list[Any]], empty: str) -> str:
    """A grid whose header row is repeated on every page it runs onto: Qt's HTML import makes the
    rows of ``<thead>`` the table's header rows (``QTextTableFormat.headerRowCount``)."""
    head = "<thead><tr>" + "".join(f"<th align='left'>{escape(h)}</th>" for h in header) + "</tr></thead>"
    if not lines:
        return f"{_GRID}{head}<tr><td colspan='{len(header)}'><i>{escape(empty)}</i></td></tr></table>"
    body = "".join("<tr>" + "".join(_cell(v) for v in line) + "</tr>" for line in lines)
    return f"{_GRID}{head}{body}</table>"


def _figures(report: MonthlyReport) -> str:
    head = "".join(f"<th align='right'>{escape(name)}</th>" for _code, name in report.villages)
    rows = []
    for label, values, total, money, part in figure_lines(report):
        name = ("&nbsp;&nbsp;&nbsp;&nbsp;" if part else "") + escape(label)
        cells = "".join(_cell(v, money=money) for v in values)
        rows.append(f"<tr><td>{name}</td>{cells}<td align='right'><b>{escape(figure(total, money))}</b></td></tr>")
    return (f"{_GRID}<thead><tr><th align='left' width='24%'>{escape(_('Angka'))}</th>{head}"
            f"<th align='right'>{escape(_('Jumlah'))}</th></tr></thead>{''.join(rows)}</table>")


def monthly_html(report: MonthlyReport) -> str:
    start, end = report.period.start, report.period.end
    villages = ", ".join(name for _code, name in report.villages) or "–"
    body = f"""<h1>{escape(title(report))}</h1>
<table cellspacing='0' cellpadding='1'>
<tr><td>{escape(_("Petugas"))}</td><td>: <b>{escape(report.officer or "–")}</b></td></tr>
<tr><td>{escape(_("Desa"))}</td><td>: {escape(villages)}</td></tr>
<tr><td>{escape(_("Periode"))}</td><td>: {escape(format_date(start))} – {escape(format_date(end))}</td></tr>
<tr><td>{escape(_("Dibuat"))}</td><td>: {escape(format_date(report.made_on))}</td></tr></table>
<h2>{escape(_("Angka bulan {month}", month=month_name(report.period)))}</h2>
{_figures(report)}
<p class='muted'>{escape(_("Kegiatan (layanan, pengasuhan, pelatihan, kegiatan petugas) dihitung dalam bulan ini; "
                           "kasus terbuka, anak PMI dan koperasi per akhir bulan."))}</p>
<h2>{escape(_("Kegiatan petugas"))}</h2>
{_table(activity_header(), activity_lines(report), _("Tidak ada kegiatan tercatat bulan ini."))}
<h2>{escape(_("Kasus terbuka"))}</h2>
{_table(case_header(), case_lines(report), _("Tidak ada kasus terbuka."))}"""
    return printout_html(body, sizes=_SIZES, signatures=(
        ([_("Mengetahui,"), _("Dinas Ketenagakerjaan")], ""), (["", _("Petugas Desmigratif")], report.officer)))


def write_pdf(report: MonthlyReport, out: Path) -> None:
    """Print the report to ``out`` (A4 PDF, on the GUI thread); ``KnownError`` when it cannot be written."""
    write_html_pdf(monthly_html(report), title(report), out, landscape=True)


def write_pdf_anywhere(report: MonthlyReport, out: Path) -> None:
    """``write_pdf`` from the command line: an off-screen Qt application is started if none runs
    (a widgets one, so the process can still open windows after it, as the tests do)."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        QApplication(["desmig", "-platform", "offscreen"])
    write_pdf(report, out)
