"""Which report figures the dashboard shows and how they read (no Qt here).

Keys, labels and which figures each part shows come from ``domain.report_spec``; the figures
are those of ``services.reports.build_report``, which carries every key of the spec.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from desmig_desktop.domain.fields import KBLI_CATEGORY, MIGRATION_STATUS, UMKM_CLASS
from desmig_desktop.domain.i18n import _, country_name, pick
from desmig_desktop.domain.numbers import figure, figure_short
from desmig_desktop.domain.report_period import EVERYTHING, Period, month_period
from desmig_desktop.domain.report_spec import LEVEL_LABELS, LEVEL_OF_LENGTH, LEVELS, METRIC, TABLE_KEYS, UMKM_UNKNOWN, areas_line

LEVEL_ORDER: tuple[str, ...] = tuple(LEVELS)


def is_money(key: str) -> bool:
    metric = METRIC.get(key)
    return bool(metric and metric.money)


def label(key: str) -> str:
    """The figure's name in the current language (the report spec's label)."""
    metric = METRIC.get(key)
    return metric.label if metric else key


def explanation(key: str) -> str:
    """How the figure is counted (for tooltips)."""
    metric = METRIC.get(key)
    return metric.counted if metric else ""


def level_label(level: str) -> str:
    names = LEVEL_LABELS.get(level)
    return pick(*names) if names else level


def level_of(code: str) -> str | None:
    """The level of a region code ("" is the whole country: ``None``)."""
    return LEVEL_OF_LENGTH.get(len(code)) if code else None


def levels_below(prefix: str) -> tuple[str, ...]:
    """Levels a table under ``prefix`` can be grouped by (a village only by itself)."""
    here = level_of(prefix)
    if here is None:
        return LEVEL_ORDER
    deeper = LEVEL_ORDER[LEVEL_ORDER.index(here) + 1:]
    return deeper or (here,)


def format_figure(key: str, value: Any) -> str:
    """``1.234`` for counts, ``Rp 1.500.000`` for money, "–" when there is no value (a median of nothing)."""
    return figure(value, is_money(key))


def format_figure_short(key: str, value: Any) -> str:
    """As ``format_figure``, but large rupiah amounts abbreviated: ``Rp 5,30 jt``, ``Rp 1,79 M``."""
    return figure_short(value, is_money(key))


def coverage(totals: Mapping[str, Any], prefix: str) -> str:
    """The areas under ``prefix`` holding data: "4 provinsi · 9 kabupaten/kota · …" ("" for a village)."""
    return areas_line(dict(totals), prefix)


def columns(report: Mapping[str, Any]) -> tuple[str, ...]:
    """The table keys this report has (every row carries the same keys as ``totals``)."""
    have = report.get("totals") or {}
    return tuple(k for k in TABLE_KEYS if k in have)


def migration_status(figures: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Members by migration status: PMI aktif, PMI purna, calon PMI, bukan PMI (the rest of the members)."""
    counted = [(label(k), int(figures.get(k, 0))) for k in ("pmi_active", "pmi_returned", "pmi_prospective")]
    bukan = next(c for c in MIGRATION_STATUS if c.value == "bukan")
    others = max(0, int(figures.get("members", 0)) - sum(n for _label, n in counted))
    return [*counted, (pick(bukan.label_id, bukan.label_en), others)]


def kbli_short(code: str, width: int = 30) -> str:
    """``"G — Perdagangan besar"``: the category letter and the head of its name (for chart axes)."""
    for choice in KBLI_CATEGORY:
        if choice.value == code:
            name = pick(choice.label_id, choice.label_en)
            for cut in (";", ",", " dan ", " and "):
                name = name.split(cut)[0]
            return name if len(name) <= width else name[:width - 1].rstrip() + "…"
    return code


def kbli_label(code: str) -> str:
    for choice in KBLI_CATEGORY:
        if choice.value == code:
            return pick(choice.label_id, choice.label_en)
    return code


def ranked(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    """Non-zero entries, largest first (ties by key); beyond ``limit`` summed into one ``""`` entry."""
    items = sorted(((k, int(n)) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0]))
    if len(items) <= limit:
        return items
    return [*items[:limit - 1], ("", sum(n for _k, n in items[limit - 1:]))]


def businesses_by_sector(figures: Mapping[str, Any], limit: int = 10) -> list[tuple[str, int]]:
    """``[("A — Pertanian", 27), …, ("Lainnya", 5)]``."""
    return [(kbli_short(k) if k else _("Lainnya"), n) for k, n in ranked(figures.get("businesses_by_kbli") or {}, limit)]


def destination_countries(figures: Mapping[str, Any], limit: int = 8) -> list[tuple[str, int]]:
    """Migrant workers per destination country (largest first), by country name."""
    return [(country_name(k) if k else _("Lainnya"), n) for k, n in ranked(figures.get("pmi_by_country") or {}, limit)]


def businesses_by_class(figures: Mapping[str, Any]) -> list[tuple[str, int]]:
    by_class = figures.get("businesses_by_umkm") or {}
    names = {c.value: pick(c.label_id, c.label_en) for c in UMKM_CLASS}
    names[UMKM_UNKNOWN] = _("Belum diketahui")
    return [(names.get(k, k), int(n)) for k, n in by_class.items() if n]


def short_label(key: str) -> str:
    """The figure's name abbreviated the way BPS tables do (*ruta* = rumah tangga), for narrow columns;
    the full name stays in the tooltip. A figure without an abbreviation keeps its name."""
    short = {"households": _("Ruta"), "members": _("Anggota ruta"), "households_with_business": _("Ruta usaha"),
             "export_ready": _("Layak ekspor"), "exporting": _("Sudah ekspor"),
             "remittance_total": _("Remit. jumlah"), "remittance_median": _("Remit. median")}
    return short.get(key) or label(key)


def period_choices(today: dt.date) -> list[tuple[str, Period]]:
    """The periods the dashboard offers: everything (the default), this month, last month, this year.
    Activities (services, parenting, trainings, the officer's work) count in the period."""
    this = month_period(f"{today.year:04d}-{today.month:02d}")
    last = month_period(f"{today.year - 1:04d}-12" if today.month == 1 else f"{today.year:04d}-{today.month - 1:02d}")
    return [(_("Semua waktu"), EVERYTHING), (_("Bulan ini"), this), (_("Bulan lalu"), last),
            (_("Tahun ini"), Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)))]
