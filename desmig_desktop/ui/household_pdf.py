"""A household's record as a printable PDF, for the family or the village office (Bahasa Indonesia).

One or two A4 pages: the household's fields, its members in one table (as a family card lists
them), each placement abroad and each business as a small block, and signature lines. Every
field comes from the specs of the database's active questionnaire version
(``PrintableHousehold.specs``), so a question HQ published is printed with its answer, without
touching this module; a conditional field that was not asked is left out. NIK and
No. KK arrive masked unless the officer chose otherwise (``services.printing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from desmig_desktop.domain.fields import EntitySpec, FieldSpec, Kind
from desmig_desktop.domain.i18n import _
from desmig_desktop.services.printing import PrintableHousehold
from desmig_desktop.ui.formatting import display_value, field_label, format_date
from desmig_desktop.ui.pdf import TypeSizes, printout_html, write_html_pdf

_NONE = "–"
# Shown in the heading instead of among the fields.
_HEADING_KEYS = frozenset({"village_code", "head_name"})
_SIZES = TypeSizes(body=8, h1=12, h2=9, h3=8, muted=7)
# The members' table is the widest on the page: smaller type; field names shaded.
_CSS = """table.members { font-size: 7pt; }
table.members th { font-size: 6.5pt; }
td.k { color: #333333; background-color: #f3f6fa; }
"""


def _shown_fields(spec: EntitySpec) -> list[FieldSpec]:
    """The fields a printout lists: not the links between records (their meaning is in the layout)."""
    return [f for f in spec.fields if f.kind is not Kind.REF]


def _value(spec: FieldSpec, record: dict[str, Any]) -> str:
    text = display_value(spec, record.get(spec.key))
    return text or _NONE


def _asked(spec: FieldSpec, record: dict[str, Any]) -> bool:
    """False for a conditional field whose condition does not hold and that holds nothing."""
    rel = spec.relevant
    if rel is None or rel.of_parent or record.get(spec.key) not in (None, "", []):
        return True
    return record.get(rel.field) in rel.values


def _pairs_table(pairs: Sequence[tuple[str, str]], columns: int = 2) -> str:
    """Label/value pairs, ``columns`` pairs side by side."""
    rows = []
    for start in range(0, len(pairs), columns):
        cells = "".join(f"<td class='k'>{escape(k)}</td><td class='v'>{escape(v)}</td>"
                        for k, v in pairs[start:start + columns])
        cells += "<td></td><td></td>" * (columns - len(pairs[start:start + columns]))
        rows.append(f"<tr>{cells}</tr>")
    return f"<table class='grid' width='100%' cellspacing='0' cellpadding='2'>{''.join(rows)}</table>"


def _record_pairs(spec: EntitySpec, record: dict[str, Any], skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return [(field_label(f), _value(f, record)) for f in _shown_fields(spec) if f.key not in skip and _asked(f, record)]


_WIDTHS = {Kind.PHONE: " width='15%'"}  # room for a whole number: a number broken over two lines misreads
_MEMBER_COMBINED = ("name", "nik", "sex", "birth_place", "birth_date")  # printed together in the first columns


def _cell(spec: FieldSpec, record: dict[str, Any]) -> str:
    """A table cell's text; a phone number or date kept on one line (a broken number misreads)."""
    text = escape(_value(spec, record))
    return f"<span style='white-space: pre'>{text}</span>" if spec.kind in (Kind.PHONE, Kind.DATE) else text


def _members_table(spec: EntitySpec, members: Sequence[dict[str, Any]]) -> str:
    """One row per member as a family card lists them: name with NIK, sex, place and date of birth,
    then every other member field of the questionnaire."""
    rest = [f for f in _shown_fields(spec) if f.key not in _MEMBER_COMBINED]
    head = "".join(f"<th{_WIDTHS.get(f.kind, '')}>{escape(field_label(f))}</th>" for f in rest)
    rows = []
    for n, m in enumerate(members, 1):
        born = ", ".join(p for p in (str(m.get("birth_place") or ""), format_date(m.get("birth_date"))) if p) or _NONE
        rows.append(f"<tr><td align='right'>{n}</td><td><b>{escape(_value(spec.field('name'), m))}</b><br/>"
                    f"<span style='white-space: pre'>{escape(_value(spec.field('nik'), m))}</span></td>"
                    f"<td align='center'>{escape(str(m.get('sex') or _NONE))}</td><td>{escape(born)}</td>"
                    + "".join(f"<td>{_cell(f, m)}</td>" for f in rest) + "</tr>")
    if not members:
        rows = [f"<tr><td colspan='{len(rest) + 4}'><i>{escape(_('Belum ada anggota tercatat.'))}</i></td></tr>"]
    return (f"<table class='grid members' width='100%' cellspacing='0' cellpadding='2'>"
            f"<tr><th>{escape(_('No.'))}</th><th width='19%'>{escape(_('Nama / NIK'))}</th><th>{escape(_('L/P'))}</th>"
            f"<th>{escape(_('Tempat, tanggal lahir'))}</th>{head}</tr>{''.join(rows)}</table>")


def _member_name(members: Sequence[dict[str, Any]], member_id: Any) -> str:
    for n, member in enumerate(members, 1):
        if member.get("id") == member_id:
            return str(member.get("name") or _("Anggota ke-{number}", number=n))
    return _NONE


def household_html(printable: PrintableHousehold, *, masked: bool = True) -> str:
    graph, specs = printable.graph, printable.specs
    household = graph.household
    members = graph.members
    place = ", ".join(p for p in (printable.village, printable.district, printable.regency, printable.province) if p)
    blocks: list[str] = []
    for placement in graph.placements:
        title = _("Penempatan: {member}", member=_member_name(members, placement.get("member_id")))
        blocks.append(f"<h3>{escape(title)}</h3>{_pairs_table(_record_pairs(specs['placements'], placement))}")
    placements = "".join(blocks) or f"<p><i>{escape(_('Belum ada riwayat penempatan tercatat.'))}</i></p>"
    blocks = []
    for business in graph.businesses:
        title = _("Usaha: {name}", name=str(business.get("name") or _("unit usaha")))
        pairs = [(field_label(specs["businesses"].field("owner_member_id")),
                  _member_name(members, business.get("owner_member_id"))),
                 *_record_pairs(specs["businesses"], business, frozenset({"name"}))]
        blocks.append(f"<h3>{escape(title)}</h3>{_pairs_table(pairs)}")
    businesses = "".join(blocks) or f"<p><i>{escape(_('Belum ada unit usaha tercatat.'))}</i></p>"
    privacy = (_("NIK dan No. KK disamarkan. Data lengkap tersimpan di laptop petugas.") if masked else
               _("Dokumen ini memuat NIK dan No. KK lengkap: simpan di tempat aman, jangan difoto atau dibagikan."))
    printed = _("{date}, oleh {officer}", date=format_date(printable.printed_on), officer=printable.officer or _NONE)
    body = f"""<h1>{escape(_("Data Rumah Tangga PMI"))}</h1>
<p><b>{escape(str(household.get("head_name") or _NONE))}</b> — {escape(place or _NONE)}<br/>
<span class='muted'>{escape(_("Dicetak"))}: {escape(printed)}. {escape(privacy)}</span></p>
<h2>{escape(_("Rumah tangga"))}</h2>
{_pairs_table(_record_pairs(specs['households'], household, _HEADING_KEYS))}
<h2>{escape(_("Anggota rumah tangga ({count} orang)", count=len(members)))}</h2>
{_members_table(specs['members'], members)}
<h2>{escape(_("Riwayat penempatan"))}</h2>
{placements}
<h2>{escape(_("Unit usaha"))}</h2>
{businesses}
<p class='muted'>{escape(_("Bila ada data yang keliru, sampaikan kepada petugas Desmigratif agar diperbaiki."))}</p>"""
    return printout_html(body, sizes=_SIZES, extra_css=_CSS,
                         signatures=(([_("Kepala keluarga/responden")], str(household.get("head_name") or "")),
                                     ([_("Petugas Desmigratif")], printable.officer)))


def document_title(printable: PrintableHousehold) -> str:
    return _("Data Rumah Tangga PMI — {name}", name=str(printable.graph.household.get("head_name") or ""))


def write_household_pdf(printable: PrintableHousehold, out: Path, *, masked: bool = True) -> None:
    """``out`` becomes the household's record (A4 PDF); ``KnownError`` when it cannot be written."""
    write_html_pdf(household_html(printable, masked=masked), document_title(printable), out)
