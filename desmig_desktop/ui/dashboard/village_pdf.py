"""A one-village summary as a printable PDF (for the village head and the monthly report).

``summary_html`` lays the figures out as simple HTML (what ``QTextDocument`` renders); ``write_pdf``
prints it on A4 through ``ui.pdf`` (on the GUI thread).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.numbers import grouped
from desmig_desktop.domain.report_spec import TABLE_KEYS
from desmig_desktop.ui.dashboard import figures
from desmig_desktop.ui.formatting import format_date
from desmig_desktop.ui.pdf import TypeSizes, printout_html, write_html_pdf

# Every whole-number figure of the report that exists, in the table's order plus the rest.
SUMMARY_KEYS: tuple[str, ...] = (*TABLE_KEYS, "remittance_placements")
# One page for the whole village: larger type than the household's record.
_SIZES = TypeSizes(body=8.5, h1=14, h2=10, h3=9, muted=7.5, h1_bottom=4, h2_top=10, h3_top=8)


@dataclass(frozen=True)
class VillageSummary:
    code: str
    name: str
    figures: Mapping[str, Any]  # one row of ``build_report(db, "village", code)``
    district: str = ""
    regency: str = ""
    province: str = ""
    officer: str = ""
    printed_on: dt.date = field(default_factory=dt.date.today)


def _cells(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<td>{escape(k)}</td><td align='right'><b>{escape(v)}</b></td>" for k, v in pairs)


def _key_figures(pairs: list[tuple[str, str]]) -> str:
    """Label/value pairs in two side-by-side columns (half the height of one long list)."""
    half = (len(pairs) + 1) // 2
    rows = "".join(f"<tr>{_cells(pairs[n:n + 1])}{_cells(pairs[half + n:half + n + 1])}</tr>" for n in range(half))
    return f"<table class='grid' width='100%' cellspacing='0' cellpadding='2'>{rows}</table>"


def _small_table(title: str, head: tuple[str, str], pairs: list[tuple[str, int]], empty: str) -> str:
    body = "".join(f"<tr><td>{escape(k)}</td><td align='right'>{grouped(n)}</td></tr>" for k, n in pairs) \
        if pairs else f"<tr><td colspan='2'><i>{escape(empty)}</i></td></tr>"
    return (f"<h3>{escape(title)}</h3><table class='grid' width='100%' cellspacing='0' cellpadding='2'>"
            f"<tr><th align='left'>{escape(head[0])}</th><th align='right'>{escape(head[1])}</th></tr>{body}</table>")


def summary_html(summary: VillageSummary) -> str:
    data = summary.figures
    main = [(figures.label(k), figures.format_figure(k, data.get(k))) for k in SUMMARY_KEYS if k in data]
    place = [(_("Kode wilayah (Kemendagri)"), summary.code), (_("Kecamatan"), summary.district),
             (_("Kabupaten/kota"), summary.regency), (_("Provinsi"), summary.province)]
    printed = _("{date}, oleh {officer}", date=format_date(summary.printed_on), officer=summary.officer or "–")
    no_business = _("Belum ada unit usaha tercatat.")
    status = _small_table(_("Status migrasi anggota"), (_("Status"), _("Orang")), figures.migration_status(data),
                          _("Belum ada anggota tercatat."))
    classes = _small_table(_("Unit usaha per kelas UMKM"), (_("Kelas"), _("Usaha")), figures.businesses_by_class(data),
                           no_business) if "businesses_by_umkm" in data else ""
    countries = _small_table(_("Negara tujuan PMI"), (_("Negara"), _("PMI")),
                             figures.destination_countries(data, limit=8), _("Belum ada penempatan tercatat."))
    kbli = [(figures.kbli_label(k), n) for k, n in figures.ranked(data.get("businesses_by_kbli") or {}, 21)]
    sectors = _small_table(_("Unit usaha per sektor (KBLI)"), (_("Kategori"), _("Usaha")), kbli, no_business)
    place_rows = "".join(f"<tr><td>{escape(k)}</td><td>: <b>{escape(v)}</b></td></tr>" for k, v in place)
    body = f"""<h1>{escape(_("Ringkasan Data PMI Desa {name}", name=summary.name))}</h1>
<table cellspacing='0' cellpadding='1'>{place_rows}
<tr><td>{escape(_("Dicetak"))}</td><td>: {escape(printed)}</td></tr></table>
<h2>{escape(_("Angka pokok"))}</h2>
{_key_figures(main)}
<table width='100%' cellspacing='0' cellpadding='0'><tr>
<td width='44%' valign='top'>{status}{classes}{countries}</td><td width='3%'></td>
<td width='53%' valign='top'>{sectors}</td></tr></table>
<p class='muted'>{escape(_("Angka dihitung dari data yang tersimpan di laptop petugas pada tanggal cetak. Data yang "
                           "belum disinkronkan belum tercatat di HQ."))}</p>"""
    head = [_("Mengetahui,"), _("Kepala Desa {name}", name=summary.name)]
    return printout_html(body, sizes=_SIZES, signatures=((head, ""), (["", _("Petugas Desmigratif")], summary.officer)))


def write_pdf(summary: VillageSummary, out: Path) -> None:
    """Print the summary of one village to ``out`` (A4 PDF); ``KnownError`` when it cannot be written."""
    write_html_pdf(summary_html(summary), _("Ringkasan Data PMI Desa {name}", name=summary.name), out)
