"""``compare(old, new)``: a table of compatible changes and of hostile ones, each refused with
its reason in both languages; and the XLSForm-sheet converter's per-row errors."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from desmig_desktop.domain.questionnaire import bundled, bundled_document, from_document
from desmig_desktop.domain.questionnaire_compat import compare, refused, summary
from desmig_desktop.domain.questionnaire_sheet import SheetError, document_from_sheets

Doc = dict[str, Any]


def _ent(doc: Doc, name: str) -> Doc:
    return next(e for e in doc["entities"] if e["name"] == name)


def _fld(doc: Doc, entity: str, key: str) -> Doc:
    return next(f for f in _ent(doc, entity)["fields"] if f["key"] == key)


def _label(text: str) -> dict[str, str]:
    return {"id": text, "en": text}


def _add(entity: str, **field: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        _ent(doc, entity)["fields"].append({"label": _label("Baru"), **field})
    return change


def _edit(entity: str, key: str, **values: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        f = _fld(doc, entity, key)
        for k, v in values.items():
            if v is None:
                f.pop(k, None)
            else:
                f[k] = v
    return change


def _remove_field(entity: str, key: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        _ent(doc, entity)["fields"] = [f for f in _ent(doc, entity)["fields"] if f["key"] != key]
    return change


def _choice(value: str) -> dict[str, Any]:
    return {"value": value, "label": _label(value)}


def _new_entity(doc: Doc) -> None:
    doc["entities"].append({"name": "trainings", "label": _label("Pelatihan"), "fields": [
        {"key": "village_code", "label": _label("Desa"), "kind": "region", "required": True}]})


def _swap_fields(doc: Doc) -> None:
    fields = _ent(doc, "households")["fields"]
    fields[1], fields[2] = fields[2], fields[1]


def _rule(doc: Doc) -> None:
    doc["rules"].append({"id": "hh.lat", "entity": "households", "field": "latitude", "op": "<", "value": 0,
                         "message": {"id": "Lintang utara?", "en": "North?"}})


# (name, change to v1, the codes compare() must report, compatible)
TABLE: list[tuple[str, Callable[[Doc], None], list[str], bool]] = [
    ("new optional choice question", _add("households", key="training", kind="choice",
                                          choices=[_choice("ya"), _choice("tidak")]), ["field_added"], True),
    ("new integer question", _add("businesses", key="employees_female", kind="int", minimum=0),
     ["field_added"], True),
    ("new question in the middle", lambda d: _ent(d, "households")["fields"].insert(
        3, {"key": "x_note", "label": _label("x"), "kind": "text"}), ["field_added"], True),
    ("new choice", lambda d: _fld(d, "placements", "job")["choices"].append(_choice("nelayan")), ["choice_added"],
     True),
    ("label changed", _edit("households", "hamlet", label=_label("Dusun/lingkungan")), ["label_changed"], True),
    ("help added", _edit("households", "hamlet", help={"id": "Nama dusun", "en": "Hamlet name"}),
     ["help_changed"], True),
    ("choice label changed", lambda d: _fld(d, "members", "sex")["choices"][0].update(label=_label("Pria")),
     ["choice_label_changed"], True),
    ("entity label changed", lambda d: _ent(d, "households").update(label=_label("RT")), ["label_changed"], True),
    ("hidden", _edit("households", "hamlet", hidden=True), ["field_hidden"], True),
    ("shown again", _edit("households", "location_at", hidden=None), ["field_shown"], True),
    ("soft rule", _rule, ["rule_added"], True),
    ("maximum raised", _edit("businesses", "workers", maximum=200_000), ["bounds_loosened"], True),
    ("minimum removed", _edit("businesses", "workers", minimum=None), ["bounds_loosened"], True),
    ("max_length raised", _edit("households", "hamlet", max_length=200), ["bounds_loosened"], True),
    ("relevance widened", lambda d: _fld(d, "placements", "agency_name")["relevant"]["values"].append("g2g"),
     ["relevance_widened"], True),
    ("relevance removed", _edit("placements", "agency_name", relevant=None), ["relevance_widened"], True),
    ("list column moved", _edit("households", "notes", list_column=5), ["list_column_changed"], True),
    ("date made planned", _edit("households", "visited_on", planned=True), ["date_planned"], True),
    ("new planned date question", _add("officer_activities", key="next_visit_on", kind="date", planned=True),
     ["field_added"], True),
    # refused
    ("new entity", _new_entity, ["entity_added"], False),
    ("entity removed", lambda d: d["entities"].pop(), ["entity_removed"], False),
    ("entities reordered", lambda d: d["entities"].insert(4, d["entities"].pop(5)), ["entity_order"], False),
    ("question removed", _remove_field("households", "hamlet"), ["field_removed"], False),
    ("questions reordered", _swap_fields, ["field_order"], False),
    ("kind changed", _edit("households", "hamlet", kind="long_text"), ["kind_changed"], False),
    ("choice removed", lambda d: _fld(d, "placements", "job")["choices"].pop(0), ["choice_removed"], False),
    ("newly required", _edit("households", "hamlet", required=True), ["field_required"], False),
    ("no longer required", _edit("households", "head_name", required=None), ["field_optional"], False),
    ("new required question", _add("households", key="training", kind="bool", required=True),
     ["field_added_required"], False),
    ("new NIK question", _add("households", key="head_nik", kind="nik"), ["field_added_kind"], False),
    ("new ref question", _add("businesses", key="manager_id", kind="ref", ref_entity="members"),
     ["field_added_kind"], False),
    ("new hidden question", _add("households", key="secret", kind="text", hidden=True), ["field_added_hidden"],
     False),
    ("planned date made ordinary", _edit("services", "follow_up_on", planned=None), ["date_unplanned"], False),
    ("maximum lowered", _edit("businesses", "workers", maximum=1000), ["bounds_tightened"], False),
    ("minimum raised", _edit("businesses", "started_year", minimum=1990), ["bounds_tightened"], False),
    ("minimum added", _edit("households", "location_accuracy_m", minimum=1), ["bounds_tightened"], False),
    ("max_length lowered", _edit("households", "hamlet", max_length=20), ["bounds_tightened"], False),
    ("max_length added", _edit("households", "kk_number", kind="kk"), [], True),  # no change at all
    ("length changed", _edit("businesses", "nib", length=12), ["length_changed"], False),
    ("zero pad changed", _edit("households", "rt", zero_pad=2), ["length_changed"], False),
    ("ref retargeted", _edit("businesses", "owner_member_id", ref_entity="households"), ["ref_changed"], False),
    ("relevance narrowed", _edit("placements", "agency_name", relevant={"field": "scheme", "values": ["g2g"]}),
     ["relevance_changed"], False),
    ("relevance added", _edit("households", "hamlet", relevant={"field": "consent", "values": [True]}),
     ["relevance_changed"], False),
    ("entity relevance changed", lambda d: _ent(d, "placements")["relevant"]["values"].pop(), ["entity_changed"],
     False),
    ("new choice of a computed answer", lambda d: _fld(d, "businesses", "umkm_class")["choices"].append(
        _choice("raksasa")), ["choice_added"], False),
]


@pytest.mark.parametrize("change, codes, compatible", [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_compare_classifies_each_change(change: Callable[[Doc], None], codes: list[str], compatible: bool) -> None:
    doc = copy.deepcopy(bundled_document())
    doc["version"] = 2
    change(doc)
    found = compare(bundled(), from_document(doc))
    assert sorted(c.code for c in found) == sorted(codes)
    assert all(c.compatible is compatible for c in found)
    for c in found:
        assert c.message_id and c.message_en and c.message_id != c.message_en
        assert c.describe("id").endswith(c.message_id) and c.describe("en").endswith(c.message_en)
    assert bool(refused(found)) is (not compatible)


def test_several_changes_are_each_reported_refusals_first() -> None:
    doc = copy.deepcopy(bundled_document())
    _add("households", key="training", kind="bool")(doc)
    _remove_field("households", "hamlet")(doc)
    _fld(doc, "placements", "job")["choices"].append(_choice("nelayan"))
    found = compare(bundled(), from_document(doc))
    assert [c.code for c in found] == ["field_removed", "field_added", "choice_added"]
    assert summary(found) == {"field_added": 1, "choice_added": 1}


def test_nothing_changed_is_no_change() -> None:
    assert compare(bundled(), bundled()) == []


# -- the XLSForm sheets ---------------------------------------------------------------------------
def _rows(*rows: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    return [(n, row) for n, row in enumerate(rows, 2)]


SURVEY_NEW = {"entity": "households", "type": "select_one pelatihan", "name": "training",
              "label::bahasa indonesia": "Pelatihan yang pernah diikuti", "label::english": "Training attended",
              "hint": "Pilih satu", "required": "no", "relevant": "${consent} = true()"}
CHOICES = [{"list_name": "pelatihan", "name": "bahasa", "label::bahasa indonesia": "Bahasa asing",
            "label::english": "Foreign language"},
           {"list_name": "placements.job", "name": "nelayan", "label::bahasa indonesia": "Nelayan",
            "label::english": "Fisher"}]


def test_a_sheet_adds_a_question_a_choice_and_a_warning() -> None:
    survey = _rows(SURVEY_NEW, {"entity": "businesses", "type": "integer", "name": "female_workers",
                                "label::bahasa indonesia": "Pekerja perempuan", "constraint": ". >= 0 and . <= 1000",
                                "warning": ". <= ${workers}",
                                "warning_message::bahasa indonesia": "Melebihi jumlah pekerja",
                                "warning_message::english": "More than the workers"})
    doc = document_from_sheets(bundled(), survey, _rows(*CHOICES))
    q = from_document(doc)
    assert q.version == 2
    new = q.entity("households").field("training")
    assert (new.label_en, new.help_id, new.relevant and new.relevant.values) == (
        "Training attended", "Pilih satu", (True,))
    assert [c.value for c in new.choices] == ["bahasa"]
    assert q.entity("placements").field("job").choices[-1].value == "nelayan"
    biz = q.entity("businesses").field("female_workers")
    assert (biz.minimum, biz.maximum, biz.label_en) == (0, 1000, "Pekerja perempuan")
    assert [(r.field, r.op, r.other, r.message_en) for r in q.rules] == [
        ("female_workers", "<=", "workers", "More than the workers")]
    assert sorted(c.code for c in compare(bundled(), q)) == ["choice_added", "field_added", "field_added",
                                                               "rule_added"]


def test_a_sheet_row_on_an_existing_question_changes_only_its_filled_cells() -> None:
    doc = document_from_sheets(bundled(), _rows({"entity": "households", "name": "hamlet",
                                                  "label::english": "Hamlet (dusun)", "hidden": "yes"}), [])
    f = from_document(doc).entity("households").field("hamlet")
    assert (f.label_id, f.label_en, f.hidden, f.max_length) == ("Dusun", "Hamlet (dusun)", True, 100)


def test_a_sheet_column_planned_makes_a_date_a_planned_one() -> None:
    doc = document_from_sheets(bundled(), _rows(
        {"entity": "officer_activities", "type": "date", "name": "next_visit_on",
         "label::bahasa indonesia": "Kunjungan berikutnya", "planned": "ya"},
        {"entity": "households", "name": "visited_on", "planned": "yes"}), [])
    q = from_document(doc)
    assert q.entity("officer_activities").field("next_visit_on").planned
    assert q.entity("households").field("visited_on").planned
    assert not refused(compare(bundled(), q))


# (survey rows, choices rows, a fragment of the problem)
BAD_SHEETS: list[tuple[list[dict[str, str]], list[dict[str, str]], str]] = [
    ([{"entity": "trainings", "type": "text", "name": "x", "label::bahasa indonesia": "X"}], [], "baris 2"),
    ([{"entity": "households", "type": "photo", "name": "x", "label::bahasa indonesia": "X"}], [], "type"),
    ([{"entity": "households", "type": "text", "name": "X Y", "label::bahasa indonesia": "X"}], [], "name"),
    ([{"entity": "households", "type": "text", "name": "x"}], [], "label"),
    ([{"entity": "households", "type": "select_one nolist", "name": "x", "label::bahasa indonesia": "X"}], [],
     "nolist"),
    ([{"entity": "households", "type": "select_one", "name": "x", "label::bahasa indonesia": "X"}], [], "type"),
    ([{"entity": "households", "type": "text", "name": "x", "label::bahasa indonesia": "X", "required": "maybe"}],
     [], "maybe"),
    ([{"entity": "households", "type": "int", "name": "x", "label::bahasa indonesia": "X",
       "constraint": "__import__('os')"}], [], "constraint"),
    ([{"entity": "households", "type": "int", "name": "x", "label::bahasa indonesia": "X",
       "relevant": "${a} = 'x' or ${b} = 'y'"}], [], "relevant"),
    ([{"entity": "households", "type": "int", "name": "x", "label::bahasa indonesia": "X", "warning": ". ~ 3"}],
     [], "warning"),
    ([{"entity": "households", "type": "int", "name": "x", "label::bahasa indonesia": "X", "colour": "red"}], [],
     "colour"),
    ([{"entity": "households", "type": "text", "name": "x", "label::bahasa indonesia": "X"},
      {"entity": "households", "type": "text", "name": "x", "label::bahasa indonesia": "X"}], [], "baris 3"),
    ([], [{"list_name": "members.nope", "name": "a", "label::bahasa indonesia": "A"}], "tidak dipakai"),
    ([{"entity": "households", "type": "integer", "name": "hamlet"}], [], "tidak boleh diubah (text → int"),
    ([], [{"list_name": "placements.job", "name": "a,b", "label::bahasa indonesia": "A"}], "choices baris 2"),
    ([{"entity": "households", "type": "int", "name": "x", "label::bahasa indonesia": "X",
       "relevant": "${nope} = 'a'"}], [], "document"),
    ([{"entity": "households", "type": "int", "name": "x", "label::bahasa indonesia": "X", "planned": "ya"}], [],
     "planned"),
    ([{"entity": "households", "name": "hamlet", "planned": "yes"}], [], "planned"),
]


@pytest.mark.parametrize("survey, choices, fragment", BAD_SHEETS)
def test_a_malformed_sheet_gets_a_problem_per_row(survey: list[dict[str, str]], choices: list[dict[str, str]],
                                                  fragment: str) -> None:
    with pytest.raises(SheetError) as caught:
        document_from_sheets(bundled(), _rows(*survey), _rows(*choices))
    assert any(fragment in p for p in caught.value.problems), caught.value.problems
