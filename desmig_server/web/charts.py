"""Horizontal bar charts as inline SVG, drawn on the server.

No script and no chart library: the page works on closed HQ networks and under a CSP without
``script-src``. Colours and fonts come from ``static/desmig.css`` (no inline styles either).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.numbers import figure as number
from desmig_desktop.domain.reference import load_countries, load_kbli_categories

# Sized for a chart box about 400 px wide, so the SVG is drawn 1:1 and its text stays legible.
_ROW_H = 24
_WIDTH = 394
_VALUE_W = 48
_PX_PER_CHAR = 7  # 12 px sans-serif, on average


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    hint: str = ""  # full text for the tooltip when the label is shortened


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(chart_id: str, title: str, bars: list[Bar], empty: str, *, colours: bool = False,
              label_width: int = 160) -> Markup:
    """An accessible SVG bar chart (``role="img"`` with a title; each bar has its own tooltip).

    One colour for a ranking; ``colours`` gives each bar its own (categories of one whole).
    Labels longer than ``label_width`` pixels are shortened (the tooltip keeps the full text).
    """
    if not bars or not any(b.value for b in bars):
        return Markup('<p class="chart-empty" id="{}">{}</p>').format(chart_id, empty)
    top = max(b.value for b in bars) or 1
    bar_width = _WIDTH - label_width - _VALUE_W
    chars = label_width // _PX_PER_CHAR - 1
    height = _ROW_H * len(bars) + 4
    parts = [(f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {_WIDTH} {height}" '
              f'width="{_WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'),
             f"<title>{escape(title)}</title>"]
    for i, bar in enumerate(bars):
        y = i * _ROW_H + 2
        length = max(1, round(bar_width * bar.value / top)) if bar.value else 0
        tip = f"{bar.hint or bar.label}: {number(bar.value)}"
        parts.append(
            f'<g class="bar-row" data-label="{escape(bar.label)}" data-value="{bar.value}"><title>{escape(tip)}</title>'
            f'<text class="bar-label" x="{label_width - 8}" y="{y + _ROW_H / 2 + 4}" text-anchor="end">'
            f"{escape(_short(bar.label, chars))}</text>"
            f'<rect class="bar bar-{i % 6 if colours else 0}" x="{label_width}" y="{y + 3}" width="{length}" '
            f'height="{_ROW_H - 8}" rx="2"/>'
            f'<text class="bar-value" x="{label_width + length + 6}" y="{y + _ROW_H / 2 + 4}">{number(bar.value)}</text>'
            "</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def sector_bars(by_kbli: dict[str, int]) -> list[Bar]:
    names = {c.code: c.name_id for c in load_kbli_categories()}
    return [Bar(f"{code} · {names.get(code, '')}".strip(" ·"), n, f"{code} — {names.get(code, '')}")
            for code, n in by_kbli.items() if n]


def country_bars(by_country: dict[str, int], limit: int = 10) -> list[Bar]:
    names = {c.code: c.name_id for c in load_countries()}
    return [Bar(names.get(code, code), n) for code, n in list(by_country.items())[:limit]]


def status_bars(totals: dict[str, int]) -> list[Bar]:
    others = totals["members"] - totals["pmi_active"] - totals["pmi_returned"] - totals["pmi_prospective"]
    return [Bar(_("PMI aktif"), totals["pmi_active"]), Bar(_("PMI purna"), totals["pmi_returned"]),
            Bar(_("Calon PMI"), totals["pmi_prospective"]), Bar(_("Bukan PMI (keluarga)"), max(0, others))]
