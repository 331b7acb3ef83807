"""Questionnaire versions on HQ (issue 16 §2–3): publish from a spreadsheet or JSON (good,
refused, malformed), show/history, ``GET /v1/questionnaire`` with its ETag, hello's version, and
ops validated under the version they name. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from desmig_desktop.domain.questionnaire import bundled_document
from desmig_server import questionnaires
from desmig_server.cli import main

from .support import V1, Hq, business, household, member, placement

SURVEY_HEADER = ["entity", "type", "name", "label::Bahasa Indonesia", "label::English", "hint", "required",
                 "relevant", "constraint"]
SURVEY = [
    ["households", "select_one pelatihan", "training", "Pelatihan yang pernah diikuti", "Training attended",
     "Pilih satu", "no", "", ""],
    ["businesses", "integer", "female_workers", "Pekerja perempuan", "Female workers", "", "", "",
     ". >= 0 and . <= 100000"],
]
CHOICES = [["list_name", "name", "label::Bahasa Indonesia", "label::English"],
           ["pelatihan", "bahasa", "Bahasa asing", "Foreign language"],
           ["pelatihan", "perawat", "Perawat lansia", "Elderly care"],
           ["placements.job", "nelayan", "Nelayan", "Fisher"]]


def _xlsx(path: Path, survey: list[list[Any]], choices: list[list[Any]] | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in [SURVEY_HEADER, *survey]:
        sheet.append(row)
    if choices is not None:
        other = book.create_sheet("choices")
        for row in choices:
            other.append(row)
    book.save(path)
    return path


def _v2_doc() -> dict[str, Any]:
    """v1 plus a choice question for households, an integer for businesses, a new job type."""
    doc = copy.deepcopy(bundled_document())
    ents = {e["name"]: e for e in doc["entities"]}
    ents["households"]["fields"].append({"key": "training", "label": {"id": "Pelatihan", "en": "Training"},
                                         "kind": "choice", "choices": [
                                             {"value": "bahasa", "label": {"id": "Bahasa asing", "en": "Language"}}]})
    ents["businesses"]["fields"].append({"key": "female_workers", "label": {"id": "Pekerja perempuan",
                                                                            "en": "Female workers"},
                                         "kind": "int", "minimum": 0})
    job = next(f for f in ents["placements"]["fields"] if f["key"] == "job")
    job["choices"].append({"value": "nelayan", "label": {"id": "Nelayan", "en": "Fisher"}})
    return doc


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _history(db_url: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, _err = _run(capsys, "questionnaire", "history", "--json", "--db", db_url)
    assert code == 0
    versions: list[dict[str, Any]] = json.loads(out)
    return versions


# -- publish ----------------------------------------------------------------------------------------
def test_publish_a_spreadsheet_then_show_and_history(db_url: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = _xlsx(tmp_path / "v2.xlsx", SURVEY, CHOICES)
    code, out, err = _run(capsys, "questionnaire", "publish", str(path), "--by", "admin", "--db", db_url)
    assert (code, err) == (0, ""), err
    assert "version 2 published" in out and "households.training" in out
    code, out, _err = _run(capsys, "questionnaire", "show", "--json", "--db", db_url)
    doc = json.loads(out)
    assert doc["version"] == 2
    hh = next(e for e in doc["entities"] if e["name"] == "households")
    assert hh["fields"][-1]["key"] == "training"
    assert [c["value"] for c in hh["fields"][-1]["choices"]] == ["bahasa", "perawat"]
    code, out, _err = _run(capsys, "questionnaire", "show", "--version", "1", "--db", db_url)
    assert code == 0 and out.startswith("questionnaire version 1 ")
    versions = _history(db_url, capsys)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["published_by"] == "app" and versions[1]["published_by"] == "admin"
    assert sorted(c["code"] for c in versions[1]["changes"]) == ["choice_added", "field_added", "field_added"]
    code, out, _err = _run(capsys, "questionnaire", "history", "--db", db_url)
    assert code == 0 and "field_added=2" in out


def test_publish_a_json_document(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "v2.json"
    doc = _v2_doc()
    doc["version"] = 77  # HQ does not number versions: the next one is taken
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, out, _err = _run(capsys, "questionnaire", "publish", str(path), "--json", "--db", db_url)
    assert code == 0 and json.loads(out)["version"] == 2
    code, _out, err = _run(capsys, "questionnaire", "publish", str(path), "--db", db_url)
    assert code == 1 and "nothing changed" in err  # the same document again


def _refused(doc_change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(bundled_document())
    doc_change(doc)
    return doc


def _hh_fields(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return next(e for e in doc["entities"] if e["name"] == "households")["fields"]


REFUSED_JSON = [
    (lambda d: d["entities"].append({"name": "trainings", "label": {"id": "P", "en": "T"}, "fields": [
        {"key": "note", "label": {"id": "C", "en": "N"}, "kind": "text"}]}), "trainings: Entitas baru"),
    (lambda d: _hh_fields(d).pop(1), "households.hamlet: Pertanyaan tidak boleh dihapus"),
    (lambda d: _hh_fields(d)[1].update(kind="long_text"), "households.hamlet: Jenis jawaban tidak boleh diubah"),
    (lambda d: _hh_fields(d)[1].update(required=True), "households.hamlet: Pertanyaan dijadikan wajib"),
    (lambda d: next(f for f in d["entities"][2]["fields"] if f["key"] == "job")["choices"].pop(),
     "placements.job: Pilihan 'lainnya' tidak boleh dihapus"),
    (lambda d: next(f for f in d["entities"][3]["fields"] if f["key"] == "workers").update(maximum=10),
     "businesses.workers: Batas nilai atau panjang diperketat"),
]


@pytest.mark.parametrize("change, reason", REFUSED_JSON, ids=[r[1].split(":")[0] for r in REFUSED_JSON])
def test_a_breaking_change_is_refused_with_its_reason_and_nothing_stored(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, reason: str) -> None:
    path = tmp_path / "bad.json"
    doc = _refused(change)
    _hh_fields(doc).append({"key": "ok_new", "label": {"id": "Baru", "en": "New"}, "kind": "bool"})
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = _run(capsys, "questionnaire", "publish", str(path), "--db", db_url)
    assert code == 1 and out == ""
    assert "refused" in err and reason in err, err
    assert "Traceback" not in err and "ok_new" not in err  # only the refused changes are listed
    assert [v["version"] for v in _history(db_url, capsys)] == [1]


def test_a_spreadsheet_changing_a_kind_is_refused(db_url: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = _xlsx(tmp_path / "bad.xlsx", [["households", "integer", "hamlet", "", "", "", "", "", ""]])
    code, _out, err = _run(capsys, "questionnaire", "publish", str(path), "--db", db_url)
    assert code == 1
    assert "survey baris 2 (row 2): jenis jawaban pertanyaan yang sudah ada tidak boleh diubah (text → int" in err


@pytest.mark.parametrize("survey, choices, fragments", [
    ([["nope", "text", "x", "X", "", "", "", "", ""], ["households", "wat", "y", "Y", "", "", "", "", ""]], None,
     ["survey baris 2 (row 2): entitas 'nope'", "survey baris 3 (row 3): type 'wat'"]),
    ([["households", "select_one missing", "x", "X", "", "", "", "", ""]], CHOICES[:1],
     ["daftar pilihan 'missing'"]),
    ([["households", "integer", "x", "X", "", "", "", "", "import os"]], None, ["constraint tidak dikenal"]),
])
def test_a_malformed_spreadsheet_gets_a_line_per_bad_row(db_url: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str], survey: list[list[Any]],
                                                          choices: list[list[Any]] | None,
                                                          fragments: list[str]) -> None:
    path = _xlsx(tmp_path / "bad.xlsx", survey, choices)
    code, _out, err = _run(capsys, "questionnaire", "publish", str(path), "--db", db_url)
    assert code == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("name, content", [("not.xlsx", b"PK\x03\x04garbage"), ("empty.xlsx", b""),
                                           ("v2.csv", b"a,b"), ("bad.json", b"{\"format\": ")])
def test_an_unreadable_file_is_one_clear_line(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, _out, err = _run(capsys, "questionnaire", "publish", str(path), "--db", db_url)
    assert code == 1 and err.startswith("desmig-hq: ") and "Traceback" not in err and len(err.splitlines()) == 1


# -- endpoints --------------------------------------------------------------------------------------
def test_get_questionnaire_etag_304_and_versions(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    first = hq_app.client.get("/v1/questionnaire", headers=dev.headers)
    assert first.status_code == 200 and first.json() == bundled_document()
    tag = first.headers["etag"]
    assert tag.startswith('"q1-')
    again = hq_app.client.get("/v1/questionnaire", headers={**dev.headers, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert dev.hello()["questionnaire_version"] == 1 and "questionnaire" in dev.hello()["features"]
    questionnaires.publish(hq_app.ctx.db, _v2_doc(), by="admin")
    assert dev.hello()["questionnaire_version"] == 2
    now = hq_app.client.get("/v1/questionnaire", headers={**dev.headers, "If-None-Match": tag})
    assert now.status_code == 200 and now.json()["version"] == 2 and now.headers["etag"].startswith('"q2-')
    assert hq_app.client.get("/v1/questionnaire", headers={
        **dev.headers, "If-None-Match": f'W/{now.headers["etag"]}, "x"'}).status_code == 304
    old = hq_app.client.get("/v1/questionnaire", params={"version": 1}, headers=dev.headers)
    assert old.status_code == 200 and old.json() == bundled_document() and old.headers["etag"] == tag
    assert hq_app.client.get("/v1/questionnaire", params={"version": 3}, headers=dev.headers).status_code == 404
    assert hq_app.client.get("/v1/questionnaire", params={"version": 0}, headers=dev.headers).status_code == 422
    assert hq_app.client.get("/v1/questionnaire").status_code == 401


# -- ops under their version --------------------------------------------------------------------------
def _v(op: dict[str, Any], version: int) -> dict[str, Any]:
    return {**op, "questionnaire_version": version}


def test_an_op_is_validated_under_the_version_it_names(hq_app: Hq) -> None:
    new = hq_app.user_device("ani", "officer", villages=[V1])  # device A: on version 2
    old = hq_app.register("ani", device_name="old laptop")  # device B: still on version 1
    questionnaires.publish(hq_app.ctx.db, _v2_doc(), by="admin")
    # the same op marked v1 (or unmarked, as an old app sends it) is handled as before: unknown field
    for marked in (new.op("households", "h1", household(training="bahasa")),
                   _v(new.op("households", "h1", household(training="bahasa")), 1)):
        [result] = new.push_ok(marked)
        assert (result["status"], result["reason"]) == ("rejected", "Ada isian yang tidak dikenal.")
    assert hq_app.record("households", "h1") is None
    # under v2 the new question, its choices and the new job type are accepted
    results = new.push_ok(_v(new.op("households", "h1", household(training="bahasa")), 2),
                          _v(new.op("members", "m1", member("h1")), 2),
                          _v(new.op("placements", "p1", placement("m1", job="nelayan")), 2),
                          _v(new.op("businesses", "b1", business("h1", female_workers=3)), 2))
    assert [r["status"] for r in results] == ["ok"] * 4, results
    [bad] = new.push_ok(_v(new.op("households", "h1", {"training": "no-such"}), 2))
    assert bad["status"] == "rejected" and bad["reason"].startswith("training: ")
    [job] = new.push_ok(new.op("placements", "p1", {"job": "nelayan"}))  # v1: not a v1 choice
    assert job["status"] == "rejected"
    # device B (v1) edits another field of the same household: A's answer stays, B's edit lands
    old.pull_all(V1)
    [edit] = old.push_ok(old.op("households", "h1", {"head_name": "Budi S."}))
    assert edit["status"] == "ok"
    assert hq_app.data("households", "h1")["training"] == "bahasa"
    assert hq_app.data("households", "h1")["head_name"] == "Budi S."
    [biz] = old.push_ok(old.op("businesses", "b1", {"workers": 4}))
    assert biz["status"] == "ok" and hq_app.data("businesses", "b1")["female_workers"] == 3
    # a version this server never published (restored from before it): rejected per op, queue moves on
    [unknown, after] = new.push_ok(_v(new.op("households", "h1", {"hamlet": "Krajan"}), 3),
                                   new.op("households", "h1", {"hamlet": "Krajan"}))
    assert unknown["status"] == "rejected" and "Versi kuesioner" in unknown["reason"]
    assert after["status"] in ("ok", "merged")


def test_each_version_is_parsed_once_per_process(hq_app: Hq, monkeypatch: pytest.MonkeyPatch) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    questionnaires.publish(hq_app.ctx.db, _v2_doc(), by="admin")
    questionnaires._PARSED.clear()
    calls: list[int] = []
    real = questionnaires.from_document
    monkeypatch.setattr(questionnaires, "from_document", lambda doc: calls.append(doc["version"]) or real(doc))
    for n in range(3):
        [r] = dev.push_ok(_v(dev.op("households", f"h{n}", household(training="bahasa")), 2))
        assert r["status"] == "ok"
    assert calls == [2]


def test_the_readme_example_spreadsheet_publishes(hq_app: Hq, db_url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[2] / "resources" / "questionnaire" / "example-v2.xlsx"
    code, _out, err = _run(capsys, "questionnaire", "publish", str(example), "--db", db_url)
    assert (code, err) == (0, ""), err
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    assert dev.hello()["questionnaire_version"] == 2
    results = dev.push_ok(
        _v(dev.op("households", "h1", household(training_attended="bahasa,keuangan", has_migrant_abroad_now=True)), 2),
        _v(dev.op("businesses", "b1", business("h1", workers=2, female_workers=5)), 2))
    assert [r["status"] for r in results] == ["ok", "ok"]  # the warning (5 > 2) is soft: stored all the same
    assert hq_app.data("households", "h1")["training_attended"] == "bahasa,keuangan"


def test_a_new_question_merges_and_clashes_like_any_other(hq_app: Hq) -> None:
    """A v2 field is stamped in the record's field metadata and history, so two devices changing
    it concurrently clash (the losing value kept in conflicts) instead of one silently winning."""
    a = hq_app.user_device("ani", "officer", villages=[V1])
    b = hq_app.register("ani", device_name="second laptop")
    questionnaires.publish(hq_app.ctx.db, _v2_doc(), by="admin")
    a.push_ok(_v(a.op("households", "h1", household(training="bahasa")), 2))
    assert "training" in json.loads(hq_app.record("households", "h1").fmeta)
    b.pull_all(V1)
    doc = _v2_doc()
    next(e for e in doc["entities"] if e["name"] == "households")["fields"][-1]["choices"].append(
        {"value": "perawat", "label": {"id": "Perawat", "en": "Care"}})
    questionnaires.publish(hq_app.ctx.db, doc, by="admin")
    a.push_ok(_v(a.op("households", "h1", {"training": "perawat"}), 3))
    [late] = b.push_ok(_v(b.op("households", "h1", {"training": "bahasa"}), 3))  # base before A's change
    assert late["status"] == "conflict"
    assert [(c["field"], json.loads(c["losing_value"])) for c in hq_app.conflicts()] == [("training", "perawat")]
    # Resolving is an edit made now: under the current version, which knows the field.
    boss = hq_app.user_device("pusat", "hq")
    conflict_id = hq_app.conflicts()[0]["id"]
    done = hq_app.client.post(f"/v1/conflicts/{conflict_id}/resolve", json={"action": "apply_losing"},
                              headers=boss.headers)
    assert done.status_code == 200, done.text
    assert hq_app.data("households", "h1")["training"] == "perawat"
