"""``report --json`` breakdowns of the choice questions HQ published after version 1 (issue 16
§3): equal on the desktop (typed columns of the version it applied) and at HQ (JSON records,
SQLite and PostgreSQL), per level, with deleted records and deleted ancestors left out; shown on
the HQ dashboard."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from desmig_desktop.domain.wire import PulledRecord
from desmig_desktop.services.reports import build_report as desktop_report
from desmig_desktop.store import questionnaire_store as qs
from desmig_desktop.store.db import connect
from desmig_desktop.store.sync_pull import apply_pull
from desmig_server.questionnaires import publish
from tests.server.support import V1, V2, V3, Hq, business, household, member
from tests.sync.qversions import v2_document

REMITTED = {"key": "skills", "label": {"id": "Keterampilan", "en": "Skills"}, "kind": "multi",
            "choices": [{"value": v, "label": {"id": v.title(), "en": v.title()}} for v in ("las", "masak", "supir")]}

# (entity, id, data): two villages of one district and one of another; a deleted household and
# the live member of a deleted household are never counted.
RECORDS: list[tuple[str, str, dict[str, Any], bool]] = [
    ("households", "h1", household(V1, training="las"), False),
    ("households", "h2", household(V1, training="menjahit"), False),
    ("households", "h3", household(V2, training="las"), False),
    ("households", "h4", household(V3), False),
    ("households", "h5", household(V3, training="bahasa"), True),
    ("members", "m1", member("h1", skills="las,masak"), False),
    ("members", "m2", member("h3", skills="masak"), False),
    ("members", "m5", member("h5", skills="supir"), False),
    ("businesses", "b1", business("h1", online_share=20, capital_source="koperasi"), False),
]


def _document() -> dict[str, Any]:
    doc = v2_document()
    members = next(e for e in doc["entities"] if e["name"] == "members")
    members["fields"].append(copy.deepcopy(REMITTED))
    return doc


@pytest.fixture
def hq_v2(hq_app: Hq) -> Hq:
    publish(hq_app.ctx.db, _document(), by="test")
    boss = hq_app.user_device("pusat", "hq")
    ops = [{**boss.op(entity, rid, data), "questionnaire_version": 2} for entity, rid, data, _gone in RECORDS]
    assert all(r["status"] == "ok" for r in boss.push_ok(*ops))
    gone = [boss.op("households", rid, kind="delete") for _e, rid, _d, deleted in RECORDS if deleted]
    assert all(r["status"] == "ok" for r in boss.push_ok(*gone))
    return hq_app


def _desktop(data_dir: Path) -> Any:
    db = connect(data_dir / "desmig.db")
    assert qs.apply_document(db, _document()) is not None
    pulled = [PulledRecord(entity, rid, data, i + 1, deleted, i + 1) for i, (entity, rid, data, deleted)
              in enumerate(RECORDS)]
    for scope in (V1, V2, V3):
        apply_pull(db, scope, [r for r in pulled if r.entity != "households" or r.data["village_code"] == scope],
                   len(pulled), 0)
    return db


def _questions(report: dict[str, Any]) -> tuple[Any, ...]:
    return ({r["code"]: r["questions"] for r in report["rows"]}, report["totals"]["questions"],
            report["question_labels"])


@pytest.mark.parametrize("level", ["province", "district", "village"])
def test_breakdowns_are_equal_on_the_desktop_and_at_hq(hq_v2: Hq, data_dir: Path, level: str) -> None:
    boss = hq_v2.register("pusat", device_name="reports")
    response = hq_v2.client.get("/v1/reports", params={"level": level}, headers=boss.headers)
    assert response.status_code == 200, response.text
    hq = response.json()
    db = _desktop(data_dir)
    try:
        mine = desktop_report(db, level)
    finally:
        db.conn.close()
    assert _questions(mine) == _questions(hq)
    totals = hq["totals"]["questions"]
    assert totals["households.training"] == {"las": 2, "menjahit": 1}  # h5 deleted: its answer is not counted
    assert totals["members.skills"] == {"las": 1, "masak": 2}  # a multi answer counts each value; m5's household is deleted
    assert "online_share" not in str(totals)  # an integer question has no breakdown


def test_a_report_before_any_publish_has_no_question_keys(hq_app: Hq, data_dir: Path) -> None:
    boss = hq_app.user_device("pusat", "hq")
    boss.push_ok(boss.op("households", "h1", household(V1)))
    body = hq_app.client.get("/v1/reports", params={"level": "village"}, headers=boss.headers).json()
    assert "questions" not in body["totals"] and "question_labels" not in body
    db = connect(data_dir / "desmig.db")
    try:
        assert "question_labels" not in desktop_report(db, "village")
    finally:
        db.conn.close()


def test_the_dashboard_shows_a_chart_per_new_question(hq_v2: Hq) -> None:
    from desmig_server.reports.queries import build_report
    from desmig_server.web.question_charts import question_charts

    report = build_report(hq_v2.ctx.db, level="province")
    charts = question_charts(report)
    assert [c["key"] for c in charts] == ["households.training", "members.skills"]
    assert 'data-label="Pengelasan" data-value="2"' in str(charts[0]["chart"])
