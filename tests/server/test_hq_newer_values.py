"""An op of an older questionnaire version never fails, nor drops anything, because of a stored
answer it did not touch (issue 16 §3: a device still on an older version keeps what it does not
know). A table of what a later version may allow — a new choice of a choice or multi question, a
loosened bound or length, a question asked more often — stored by an up-to-date device; a v1
device then edits another field of the same record: accepted, the later answer kept. The same
value sent by the v1 device itself is still refused. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from desmig_desktop.domain.questionnaire import bundled_document
from desmig_server import questionnaires

from .support import V1, Hq, business, household, member, placement

Doc = dict[str, Any]


def _fld(doc: Doc, entity: str, key: str) -> Doc:
    ent = next(e for e in doc["entities"] if e["name"] == entity)
    return next(f for f in ent["fields"] if f["key"] == key)


def _new_choice(entity: str, key: str, value: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        _fld(doc, entity, key)["choices"].append({"value": value, "label": {"id": value, "en": value}})
    return change


def _set(entity: str, key: str, **values: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        _fld(doc, entity, key).update(values)
    return change


def _v(op: dict[str, Any], version: int) -> dict[str, Any]:
    return {**op, "questionnaire_version": version}


# (what version 2 allows, its change to v1, the record (entity, id), the later answer stored by the
#  v2 device, the v1 device's edit of another field, the value the v1 device may not send itself
#  (None: nothing to refuse, see the relevance row))
NEWER: list[tuple[str, Callable[[Doc], None], str, str, dict[str, Any], dict[str, Any], dict[str, Any] | None]] = [
    ("new choice", _new_choice("businesses", "capital_source", "koperasi"), "businesses", "b1",
     {"capital_source": "koperasi"}, {"workers": 4}, {"capital_source": "koperasi"}),
    ("new choice of a multi answer", _new_choice("placements", "remittance_use", "kesehatan"), "placements", "p1",
     {"remittance_use": "kesehatan,rumah"}, {"sector": "formal"}, {"remittance_use": "kesehatan"}),
    ("new choice of a member", _new_choice("members", "education", "paket_c"), "members", "m1",
     {"education": "paket_c"}, {"occupation": "Petani"}, {"education": "paket_c"}),
    ("maximum raised", _set("businesses", "workers", maximum=500_000), "businesses", "b1",
     {"workers": 200_000}, {"capital_source": "tabungan"}, {"workers": 200_001}),
    ("minimum lowered", _set("businesses", "started_year", minimum=1900), "businesses", "b1",
     {"started_year": 1930}, {"workers": 2}, {"started_year": 1931}),
    ("float bound widened", _set("households", "latitude", maximum=7.5), "households", "h1",
     {"latitude": 6.9}, {"head_name": "Budi S."}, {"latitude": 7.0}),
    ("max_length raised", _set("households", "hamlet", max_length=250), "households", "h1",
     {"hamlet": ("Krajan " * 25).strip()}, {"head_name": "Budi S."}, {"hamlet": ("Kulon " * 25).strip()}),
    # v1 asks the agency only of a P3MI placement: v1 would have dropped (blanked) the answer to a
    # question v2 also asks of an independent one. The v1 app does not show it then, so never sends it.
    ("question asked more often", lambda d: _fld(d, "placements", "agency_name")["relevant"]["values"].append(
        "mandiri"), "placements", "p1", {"scheme": "mandiri", "agency_name": "PT Contoh"}, {"sector": "formal"}, None),
]


def _records(newer: dict[str, Any], entity: str) -> list[tuple[str, str, dict[str, Any]]]:
    """A household with a member, a placement and a business; ``newer`` on the record of ``entity``."""
    def over(name: str) -> dict[str, Any]:
        return newer if name == entity else {}
    return [("households", "h1", household(**over("households"))), ("members", "m1", member("h1", **over("members"))),
            ("placements", "p1", placement("m1", **over("placements"))),
            ("businesses", "b1", business("h1", **over("businesses")))]


@pytest.mark.parametrize("change, entity, record_id, newer, edit, refused",
                         [n[1:] for n in NEWER], ids=[n[0] for n in NEWER])
def test_a_v1_edit_keeps_a_later_versions_answer_it_did_not_touch(
        hq_app: Hq, change: Callable[[Doc], None], entity: str, record_id: str, newer: dict[str, Any],
        edit: dict[str, Any], refused: dict[str, Any] | None) -> None:
    new = hq_app.user_device("ani", "officer", villages=[V1])  # device A: on version 2
    old = hq_app.register("ani", device_name="old laptop")  # device B: still on version 1
    doc = copy.deepcopy(bundled_document())
    change(doc)
    questionnaires.publish(hq_app.ctx.db, doc, by="admin")
    results = new.push_ok(*(_v(new.op(e, i, fields), 2) for e, i, fields in _records(newer, entity)))
    assert [r["status"] for r in results] == ["ok"] * 4, results
    if refused is not None:  # the later answer is not a v1 answer: a v1 device cannot send it (negative control)
        [early] = old.push_ok(old.op(entity, record_id, newer))
        assert early["status"] == "rejected", early
    old.pull_all(V1)
    for marked in (old.op(entity, record_id, edit), _v(old.op(entity, record_id, edit), 1)):
        [result] = old.push_ok(marked)  # unmarked (an app from before versions) and marked v1 alike
        assert result["status"] == "ok", result
        old.pull_all(V1)
    stored = hq_app.data(entity, record_id)
    assert {k: stored[k] for k in newer} == newer and {k: stored[k] for k in edit} == edit
    if refused is not None:
        [again] = old.push_ok(_v(old.op(entity, record_id, refused), 1))
        assert again["status"] == "rejected" and again["reason"].startswith(f"{next(iter(refused))}: "), again
        assert {k: hq_app.data(entity, record_id)[k] for k in newer} == newer
        # under version 2 the same value is an answer like any other
        [fine] = new.push_ok(_v(new.op(entity, record_id, refused), 2))
        assert fine["status"] in ("ok", "merged"), fine


def test_a_v1_edit_of_another_record_gains_no_later_question(hq_app: Hq) -> None:
    """The newest version validates an old op's record, but a question the record never answered is
    not added to it (a v1 device pulls back exactly what it had)."""
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    doc = copy.deepcopy(bundled_document())
    _new_choice("businesses", "capital_source", "koperasi")(doc)
    next(e for e in doc["entities"] if e["name"] == "households")["fields"].append(
        {"key": "training", "label": {"id": "Pelatihan", "en": "Training"}, "kind": "bool"})
    dev.push_ok(dev.op("households", "h1", household()))
    questionnaires.publish(hq_app.ctx.db, doc, by="admin")
    [result] = dev.push_ok(dev.op("households", "h1", {"head_name": "Budi S."}))
    assert result["status"] == "ok"
    assert "training" not in hq_app.data("households", "h1")
    # an invalid edit of a v1 field is refused as before, by the rule of the field
    [bad] = dev.push_ok(dev.op("households", "h1", {"latitude": 99}))
    assert bad["status"] == "rejected" and bad["reason"].startswith("latitude: ")
