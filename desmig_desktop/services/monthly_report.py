"""The officer's monthly report (laporan bulanan, issue 15): one month's figures of the officer's
villages, the activity log and the open cases, as the lines both of its forms print.

``monthly_report`` gathers it from the local database (the figures from ``services.reports``, the
same definition as the dashboards and HQ); ``write_xlsx`` writes the spreadsheet here, the PDF is
laid out by the UI (``ui.monthly_pdf``: text layout needs Qt). Both show the same lines
(``figure_lines``, ``activity_lines``, ``case_lines``), so the two files never disagree. Open
cases name no person (no name, no NIK): the report leaves the laptop by mail or chat.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain import report_spec as spec
from desmig_desktop.domain import sheetcell
from desmig_desktop.domain.fields import ENTITIES, OPEN_CASE_STATUSES
from desmig_desktop.domain.i18n import _, get_language
from desmig_desktop.domain.report_period import Period, month_period
from desmig_desktop.errors import KnownError
from desmig_desktop.services.reports import build_report
from desmig_desktop.store import queries, regions, settings

# The figures of the report, in its order: the households for scale, then the four pillars and the
# officer's work (each map figure is followed by its parts, indented).
FIGURE_KEYS: tuple[str, ...] = ("households", "pmi_active", *spec.PROGRAMME_KEYS)
FORMATS = (".pdf", ".xlsx")


@dataclass(frozen=True)
class MonthlyReport:
    month: str  # YYYY-MM
    period: Period
    officer: str
    villages: list[tuple[str, str]]  # (code, name) of the officer's villages
    figures: dict[str, dict[str, Any]]  # village code -> its figures (every key of ``FIGURE_KEYS``)
    totals: dict[str, Any]
    activities: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    made_on: dt.date = field(default_factory=dt.date.today)


def output_format(out: Path) -> str:
    """``".pdf"`` or ``".xlsx"`` from the file's name.

    Raises:
        KnownError: another ending (nothing is written).
    """
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise KnownError(_("Nama berkas harus berakhiran .pdf atau .xlsx (bukan {name}).", name=out.name))
    return suffix


def monthly_report(db: Database, month: str, *, today: dt.date | None = None) -> MonthlyReport:
    """The report of ``month`` (``YYYY-MM``) for the villages this laptop records.

    Raises:
        PeriodError: ``month`` is not a month.
    """
    period = month_period(month)
    start, end = period.bounds()
    assert start is not None and end is not None
    assigned = queries.assigned_villages(db)
    report = build_report(db, "village", "", period, today=today)
    rows = {r["code"]: r for r in report["rows"]}
    codes = sorted(assigned) if assigned is not None else sorted(rows)
    empty = spec.empty_row()
    by_code = {code: {k: rows.get(code, empty)[k] for k in FIGURE_KEYS} for code in codes}
    totals = spec.add_rows(list(by_code.values()))
    names = regions.names(db, codes)
    officer: Any = settings.get(db, "officer_name", "") or ""
    return MonthlyReport(
        month=month, period=period, officer=str(officer), villages=[(c, names.get(c, c)) for c in codes],
        figures=by_code, totals={k: totals[k] for k in FIGURE_KEYS},
        activities=queries.officer_activities(db, codes if assigned is not None else None, start, end),
        cases=queries.open_cases(db, codes if assigned is not None else None, OPEN_CASE_STATUSES, end),
        made_on=today or dt.date.today())


# -- the lines both forms print ---------------------------------------------------------------
def _choice(entity: str, key: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    spec_field = ENTITIES[entity].field(key)
    return ", ".join(spec_field.choice_label(v, get_language()) for v in str(value).split(","))


def figure_lines(report: MonthlyReport) -> list[tuple[str, list[int | None], int | None, bool, bool]]:
    """``(label, value per village, total, money, is_part)`` of every figure; a breakdown's parts
    follow their map (``is_part``)."""
    out: list[tuple[str, list[int | None], int | None, bool, bool]] = []
    codes = [code for code, _name in report.villages]
    for key in FIGURE_KEYS:
        metric = spec.METRIC[key]
        if metric.is_map:
            for part in metric.keys:
                label = _part_label(key, part)
                out.append((label, [report.figures[c][key][part] for c in codes], report.totals[key][part],
                            False, True))
        else:
            out.append((metric.label, [report.figures[c][key] for c in codes], report.totals[key], metric.money, False))
    return out


_AGE_LABELS = {"lt30": ("di bawah 30 hari", "under 30 days"), "30_89": ("30–89 hari", "30–89 days"),
               "90plus": ("90 hari atau lebih", "90 days or more")}


def _part_label(key: str, part: str) -> str:
    if key == "services_by_type":
        return _("Layanan: {kind}", kind=_choice("services", "service_type", part))
    label_id, label_en = _AGE_LABELS[part]
    return _("Kasus terbuka {age}", age=label_en if get_language() == "en" else label_id)


def activity_header() -> list[str]:
    return [_("Tanggal"), _("Desa"), _("Jenis kegiatan"), _("Bersama"), _("Topik"), _("Peserta"),
            _("Tindak lanjut"), _("Tanggal tindak lanjut")]


def activity_lines(report: MonthlyReport) -> list[list[Any]]:
    """One line per activity: dates as ``date``, the attendance as a number (``None`` when not given)."""
    names = dict(report.villages)
    return [[_day(a["held_on"]), names.get(a["village_code"], a["village_code"]),
             _choice("officer_activities", "activity_kind", a["activity_kind"]),
             _choice("officer_activities", "partners", a["partners"]), a.get("topic") or "", a.get("attendance"),
             a.get("follow_up") or "", _day(a.get("follow_up_on"))] for a in report.activities]


def case_header() -> list[str]:
    return [_("Tanggal layanan"), _("Desa"), _("Jenis layanan"), _("Jenis kasus"), _("Rujukan"), _("Status"),
            _("Tanggal tindak lanjut"), _("Umur (hari)")]


def case_lines(report: MonthlyReport) -> list[list[Any]]:
    """One line per open case, oldest first; its age in days at the month's end. No person is named."""
    names = dict(report.villages)
    end = report.period.as_of()
    out = []
    for c in report.cases:
        served = _day(c["served_on"])
        out.append([served, names.get(c["village_code"], c["village_code"]),
                    _choice("services", "service_type", c["service_type"]), _choice("services", "case_kind",
                                                                                   c.get("case_kind")),
                    _choice("services", "referral", c.get("referral")), _choice("services", "status", c["status"]),
                    _day(c.get("follow_up_on")), (end - served).days if served else None])
    return out


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)) if value else None


def title(report: MonthlyReport) -> str:
    return _("Laporan Bulanan Petugas Desmigratif — {month}", month=month_name(report.period))


_MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
              "November", "Desember")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def month_name(period: Period) -> str:
    """``"November 2026"`` (in the current language)."""
    day = period.as_of()
    names = _MONTHS_EN if get_language() == "en" else _MONTHS_ID
    return f"{names[day.month - 1]} {day.year}"


# -- the spreadsheet --------------------------------------------------------------------------
def write_xlsx(report: MonthlyReport, out: Path) -> None:
    """Three sheets — figures, activity log, open cases — with numbers as numbers and dates as
    dates; text is always text (``sheetcell``). Written beside ``out`` and renamed into place.

    Raises:
        KnownError: the file cannot be written.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Angka")
    _row(ws, [title(report)])
    _row(ws, [_("Petugas"), report.officer or "–"])
    _row(ws, [_("Periode"), report.period.start, report.period.end])
    _row(ws, [])
    _row(ws, [_("Angka"), *(name for _code, name in report.villages), _("Jumlah")])
    for label, values, total, _money, part in figure_lines(report):
        _row(ws, [("    " if part else "") + label, *values, total])
    for name, header, lines in ((_("Kegiatan petugas"), activity_header(), activity_lines(report)),
                                (_("Kasus terbuka"), case_header(), case_lines(report))):
        sheet = wb.create_sheet(name)
        _row(sheet, header)
        for line in lines:
            _row(sheet, line)
    tmp = out.with_name(out.stem + ".part.xlsx")
    try:
        wb.save(tmp)
        tmp.replace(out)
    except OSError as exc:
        raise KnownError(_("Berkas XLSX tidak bisa ditulis: {reason}", reason=exc.strerror or exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _row(ws: Any, values: list[Any]) -> None:
    ws.append([sheetcell.xlsx_text(v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, dt.date):
            cell.number_format = "DD/MM/YYYY"
        elif isinstance(cell.value, str):
            sheetcell.keep_as_text(cell)
