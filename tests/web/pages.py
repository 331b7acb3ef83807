"""Reading the dashboard's figures back out of its HTML (the page marks every cell with
``data-key``/``data-value`` next to the displayed, formatted text)."""

from __future__ import annotations

import re
from typing import Any

from desmig_desktop.domain.numbers import figure
from desmig_desktop.domain.report_spec import TABLE_KEYS

_ROW = re.compile(r'<tr data-code="([^"]+)">(.*?)</tr>', re.S)
_CELL = re.compile(r'<t[dh] class="num" data-key="([a-z_]+)" data-value="([^"]*)">([^<]*)</t[dh]>')
_TILE = re.compile(r'<div class="tile" data-key="([a-z_]+)" data-value="([^"]*)"[^>]*>\s*<div class="tile-value">([^<]*)<')
_COVERAGE = re.compile(r'<p class="coverage" id="coverage"[^>]*>(.*?)</p>', re.S)
_AREA = re.compile(r'<span data-key="([a-z_]+)" data-value="(\d+)">([^<]*)</span>')


def _raw(text: str) -> int | None:
    return int(text) if text else None


def table_figures(html: str) -> dict[str, dict[str, Any]]:
    """``{row code or "totals": {key: value}}``; also checks each shown text formats its value."""
    out: dict[str, dict[str, Any]] = {}
    for code, body in _ROW.findall(html):
        cells = _CELL.findall(body)
        for key, raw, text in cells:
            assert text == figure(_raw(raw), key.startswith("remittance_") and key != "remittance_placements"), \
                (code, key, raw, text)
        out[code] = {key: _raw(raw) for key, raw, _text in cells}
    return out


def tile_figures(html: str) -> dict[str, Any]:
    return {key: _raw(raw) for key, raw, _text in _TILE.findall(html)}


def coverage(html: str) -> tuple[str, dict[str, int]] | None:
    """The line of areas holding data at the top of the page, as read, and its figures."""
    found = _COVERAGE.search(html)
    if found is None:
        return None
    text = " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())
    return text, {key: int(raw) for key, raw, _text in _AREA.findall(found.group(1))}


def report_figures(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same shape from a JSON report."""
    out = {r["code"]: {k: r[k] for k in TABLE_KEYS} for r in report["rows"]}
    out["totals"] = {k: report["totals"][k] for k in TABLE_KEYS}
    return out
