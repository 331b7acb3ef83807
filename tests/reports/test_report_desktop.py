"""The desktop report (SQL over the typed local tables) on the hand-computed fixture."""

from __future__ import annotations

import json
from typing import Any

import pytest

from desmig_desktop.domain.report_spec import AREA_KEYS, DESIGN_KEYS, REPORT_KEYS
from desmig_desktop.errors import KnownError
from desmig_desktop.services.reports import build_report

from .fixture import (
    DIFFERENCES,
    DISTRICT_CIBINONG,
    EXPECTED,
    REGENCY_BOGOR,
    TOTALS,
    V1,
    V2,
    as_triples,
    figure,
    figures,
    load_desktop,
)


@pytest.fixture
def loaded(db: Any) -> Any:
    load_desktop(db)
    return db


@pytest.mark.parametrize("level", list(EXPECTED))
def test_every_figure_at_every_level(loaded: Any, level: str) -> None:
    report = build_report(loaded, level)
    assert report["level"] == level and report["prefix"] is None
    assert as_triples(report) == EXPECTED[level]
    assert report["totals"] == TOTALS


@pytest.mark.parametrize(("level", "code", "key", "old", "new"), DIFFERENCES)
def test_figures_count_what_their_labels_say(loaded: Any, level: str, code: str, key: str, old: Any, new: Any) -> None:
    """Active businesses, current remittances, areas counted once (issue 14), one figure at a time."""
    assert old != new
    assert figure(build_report(loaded, level), code, key) == new


def test_keys_keep_the_design_order_and_only_add(loaded: Any) -> None:
    row = build_report(loaded, "village")["rows"][0]
    assert list(row)[:2 + len(DESIGN_KEYS)] == ["code", "name", *DESIGN_KEYS]
    assert list(row)[2:] == list(REPORT_KEYS)


def test_prefix_restricts_rows_and_totals(loaded: Any) -> None:
    report = build_report(loaded, "village", "32.01.01")
    assert [r["code"] for r in report["rows"]] == [V1, V2]
    assert report["totals"] == DISTRICT_CIBINONG
    assert build_report(loaded, "district", "32.01")["totals"] == REGENCY_BOGOR
    empty = build_report(loaded, "village", "35")
    assert empty["rows"] == [] and empty["totals"] == figures(households=0, members=0)


def test_empty_database(db: Any) -> None:
    report = build_report(db, "province")
    assert report["rows"] == [] and report["totals"] == figures(households=0, members=0)


@pytest.mark.parametrize(("level", "prefix"), [("moon", ""), ("province", "32.01"), ("village", "32.1"),
                                               ("village", "32.01.01.1001.9")])
def test_bad_level_or_prefix(db: Any, level: str, prefix: str) -> None:
    with pytest.raises(KnownError):
        build_report(db, level, prefix)


@pytest.mark.parametrize("level", list(EXPECTED))
def test_cli_says_how_many_areas_hold_data(loaded: Any, data_dir: Any, level: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """``desmig report``, as a table and as --json: the totals carry provinces, regencies, districts, villages."""
    from desmig_desktop.cli import main

    want = {"provinces": 2, "regencies": 2, "districts": 3, "villages": 4}
    assert main(["--data-dir", str(data_dir), "report", "--level", level]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    total = dict(zip(lines[0], lines[-1]))
    assert total["name"] == "Jumlah" and {k: int(total[k]) for k in AREA_KEYS} == want
    assert main(["--data-dir", str(data_dir), "report", "--level", level, "--json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert {k: totals[k] for k in AREA_KEYS} == want
