"""Which figures each report surface shows is declared once, in ``domain.report_spec``: the web
tiles and table, the downloads and ``desmig-hq report`` read it (the desktop dashboard's cards
and table: tests/gui/test_dashboard.py)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from desmig_desktop.domain.report_spec import (
    COUNT_KEYS,
    DOWNLOAD_EXTRA_KEYS,
    METRIC,
    SUMMARY_KEYS,
    TABLE_KEYS,
    TEXT_TABLE_KEYS,
)
from desmig_server import cli

from .conftest import login


def test_every_selected_key_is_a_whole_figure_of_the_spec() -> None:
    for keys in (TABLE_KEYS, SUMMARY_KEYS, DOWNLOAD_EXTRA_KEYS, TEXT_TABLE_KEYS):
        assert len(set(keys)) == len(keys) and set(keys) <= set(METRIC)
        assert not any(METRIC[k].is_map for k in keys)
    assert set(SUMMARY_KEYS) <= set(TABLE_KEYS)
    assert set(COUNT_KEYS) <= set(TEXT_TABLE_KEYS)  # a plain-text table never has an empty cell


def test_the_page_and_its_download_show_the_spec_selections(client: Any) -> None:
    login(client, "pusat")
    page = client.get("/").text
    assert re.findall(r'<div class="tile" data-key="([a-z_]+)"', page) == list(SUMMARY_KEYS)
    header = re.search(r'<tr data-code="[^"]+">(.*?)</tr>', page, re.DOTALL)
    assert header is not None
    assert re.findall(r'data-key="([a-z_]+)"', header.group(1)) == list(TABLE_KEYS)
    rows = list(csv.reader(io.StringIO(client.get("/download/rekap.csv").content.decode("utf-8-sig"))))
    labels = [METRIC[k].label for k in (*TABLE_KEYS, *DOWNLOAD_EXTRA_KEYS)]
    assert rows[0][2:2 + len(labels)] == labels


def test_the_cli_table_shows_the_text_table_selection(fixture_db: str) -> None:
    out = io.StringIO()
    assert cli.main(["report", "--level", "province", "--db", fixture_db], stdout=out) == 0
    assert out.getvalue().splitlines()[0].split() == ["code", "name", *TEXT_TABLE_KEYS]
