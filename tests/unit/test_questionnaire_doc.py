"""The questionnaire document: round trip (property), the hand checker on hostile documents (and
the published JSON Schema agreeing with it), and HQ's soft rules in validation."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desmig_desktop.domain.questionnaire import (
    DocumentError,
    Questionnaire,
    SoftRule,
    bundled,
    bundled_document,
    document_digest,
    from_document,
    to_document,
)
from desmig_desktop.domain.questionnaire_check import document_problems
from desmig_desktop.domain.specs import Choice, EntitySpec, FieldSpec, Kind, Relevance
from desmig_desktop.domain.validation import validate
from tests.unit.test_questionnaire_v1 import _schema_validator

_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_categories=("Cs",)),
                min_size=1, max_size=12).filter(lambda s: s.strip() != "")
_NAMES = st.from_regex(r"^[a-z][a-z0-9_]{0,8}\Z").filter(
    lambda s: s not in {"id", "deleted", "server_version", "created_at", "updated_at", "extra"})
_PLAIN_KINDS = [k for k in Kind if k is not Kind.REF]


@st.composite
def _field(draw: st.DrawFn, key: str, earlier: list[FieldSpec], column: int | None) -> FieldSpec:
    kind = draw(st.sampled_from(_PLAIN_KINDS))
    extra: dict[str, Any] = {}
    if kind in (Kind.CHOICE, Kind.MULTI, Kind.DERIVED):
        values = draw(st.lists(st.from_regex(r"^[A-Za-z0-9_]{1,6}\Z"), min_size=1, max_size=4, unique=True))
        extra["choices"] = tuple(Choice(v, draw(_TEXT), draw(_TEXT)) for v in values)
    if kind in (Kind.INT, Kind.MONEY, Kind.FLOAT):
        low = draw(st.none() | st.integers(-10**9, 10**9) | st.floats(-1e9, 1e9))
        high = draw(st.none() | st.integers(-10**9, 10**9))
        if low is not None and high is not None and low > high:
            low, high = high, low
        extra.update(minimum=low, maximum=high)
    if kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.DIGITS):
        extra["max_length"] = draw(st.none() | st.integers(1, 5000))
    if kind is Kind.DIGITS:
        extra["length"] = draw(st.none() | st.integers(1, 20))
        extra["zero_pad"] = draw(st.none() | st.integers(1, 5))
    asks = [f for f in earlier if f.kind in (Kind.CHOICE, Kind.BOOL)]
    if asks and draw(st.booleans()):
        on = draw(st.sampled_from(asks))
        values: tuple[str | bool, ...] = ((draw(st.booleans()),) if on.kind is Kind.BOOL else tuple(
            draw(st.lists(st.sampled_from([c.value for c in on.choices]), min_size=1, unique=True))))
        extra["relevant"] = Relevance(on.key, values)
    helps = draw(st.none() | st.tuples(st.text(max_size=5).filter(lambda s: all(ord(c) >= 32 for c in s)), _TEXT))
    if helps:
        extra.update(help_id=helps[0], help_en=helps[1])
    if kind is Kind.DATE:
        extra["planned"] = draw(st.booleans())
    return FieldSpec(key, draw(_TEXT), draw(_TEXT), kind, required=draw(st.booleans()), list_column=column,
                     hidden=draw(st.booleans()), **extra)


@st.composite
def questionnaires(draw: st.DrawFn) -> Questionnaire:
    names = draw(st.lists(_NAMES, min_size=1, max_size=3, unique=True))
    entities: list[EntitySpec] = []
    rules: list[SoftRule] = []
    for i, name in enumerate(names):
        keys = draw(st.lists(_NAMES, min_size=1, max_size=6, unique=True))
        columns = iter(draw(st.permutations(range(1, len(keys) + 1))))
        fields: list[FieldSpec] = []
        parent_key = None
        if i > 0 and draw(st.booleans()):
            parent_key = keys[0]
            fields.append(FieldSpec(keys[0], draw(_TEXT), draw(_TEXT), Kind.REF, required=True,
                                    ref_entity=entities[0].name))
            next(columns)
        for key in keys[len(fields):]:
            fields.append(draw(_field(key, fields, next(columns) if draw(st.booleans()) else None)))
        relevant = None
        parent_asks = [f for f in entities[0].fields if f.kind is Kind.CHOICE] if parent_key else []
        if parent_asks and draw(st.booleans()):
            relevant = Relevance(parent_asks[0].key, (parent_asks[0].choices[0].value,), of_parent=True)
        entities.append(EntitySpec(name, draw(_TEXT), draw(_TEXT), tuple(fields), parent_key=parent_key,
                                   relevant=relevant))
        numbers = [f for f in fields if f.kind in (Kind.INT, Kind.MONEY)]
        if numbers and draw(st.booleans()):
            rules.append(SoftRule(f"{name}.{numbers[0].key}", name, numbers[0].key, draw(st.sampled_from(
                ["<", "<=", ">", ">=", "==", "!="])), draw(_TEXT), draw(_TEXT), value=draw(st.integers(0, 100))))
        if len(numbers) > 1 and draw(st.booleans()):
            rules.append(SoftRule(f"{name}.pair", name, numbers[0].key, "<=", draw(_TEXT), draw(_TEXT),
                                  other=numbers[1].key))
    return Questionnaire(draw(st.integers(1, 1000)), tuple(entities), tuple(rules))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questionnaires())
def test_document_round_trip(q: Questionnaire) -> None:
    doc = to_document(q)
    assert document_problems(doc) == []
    again = from_document(json.loads(json.dumps(doc)))  # through JSON text, as stored and served
    assert again == q
    assert to_document(again) == doc
    assert document_digest(json.loads(json.dumps(doc))) == document_digest(doc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questionnaires())
def test_the_schema_accepts_what_the_checker_accepts(q: Questionnaire) -> None:
    validator = _schema_validator()
    assert [e.message for e in validator.iter_errors(to_document(q))] == []


def _v1() -> dict[str, Any]:
    return copy.deepcopy(bundled_document())


def _hh_field(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in doc["entities"][0]["fields"] if f["key"] == key)


def _set(path: str, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        *head, last = path.split("/")
        target: Any = doc
        for part in head:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is KeyError:
            del target[int(last) if isinstance(target, list) else last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return change


def _rule(**kw: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        doc["rules"].append({"id": "r1", "entity": "households", "field": "latitude", "op": "<", "value": 1,
                             "message": {"id": "Periksa", "en": "Check"}, **kw})
    return change


# (what is hostile, the change to v1, a fragment of the problem; schema: the JSON Schema also refuses it)
HOSTILE: list[tuple[str, Any, str, bool]] = [
    ("not an object", lambda d: d.clear() or d.update(x=1), "unknown key", True),
    ("format 2", _set("format", 2), "format: must be 1", True),
    ("version 0", _set("version", 0), "version", True),
    ("version as text", _set("version", "2"), "version", True),
    ("version bool", _set("version", True), "version", True),
    ("no entities", _set("entities", []), "entities", True),
    ("unknown top key", _set("extra", 1), "unknown key", True),
    ("unknown field key", _set("entities/0/fields/0/colour", "red"), "unknown key", True),
    ("bad kind", _set("entities/0/fields/0/kind", "photo"), "kind", True),
    ("key with a capital", _set("entities/0/fields/1/key", "Hamlet"), "key", True),
    ("key SQL", _set("entities/0/fields/1/key", "a; drop table x"), "key", True),
    ("key common column", _set("entities/0/fields/1/key", "deleted"), "column every record has", True),
    ("duplicate key", _set("entities/0/fields/1/key", "village_code"), "declared twice", False),
    ("duplicate entity", lambda d: d["entities"].append(copy.deepcopy(d["entities"][0])), "declared twice", False),
    ("empty label", _set("entities/0/fields/0/label/id", " "), "must not be empty", True),
    ("label control char", _set("entities/0/fields/0/label/en", "a\x00b"), "control", True),
    ("label missing en", _set("entities/0/fields/0/label", {"id": "x"}), "missing 'en'", True),
    ("label too long", _set("entities/0/fields/0/label/id", "x" * 301), "at most", True),
    ("choices on text", _set("entities/0/fields/1/choices", [{"value": "a", "label": {"id": "a", "en": "a"}}]),
     "no choices", True),
    ("choice without choices", lambda d: _hh_field(d, "hamlet").update(kind="choice"), "non-empty list", True),
    ("choice value comma", lambda d: d["entities"][1]["fields"][3]["choices"][0].update(value="a,b"),
     "must match", True),
    ("duplicate choice", lambda d: d["entities"][1]["fields"][3]["choices"].append(
        copy.deepcopy(d["entities"][1]["fields"][3]["choices"][0])), "listed twice", False),
    ("minimum on text", _set("entities/0/fields/1/minimum", 1), "only a number field", True),
    ("minimum NaN", lambda d: _hh_field(d, "latitude").update(minimum=float("nan")), "finite", True),
    ("minimum text", lambda d: _hh_field(d, "latitude").update(minimum="1"), "finite", True),
    ("minimum above maximum", lambda d: _hh_field(d, "latitude").update(minimum=7), "exceed", False),
    ("max_length on a bool", lambda d: _hh_field(d, "consent").update(max_length=3), "max_length", True),
    ("max_length zero", lambda d: _hh_field(d, "hamlet").update(max_length=0), "at least 1", True),
    ("length on text", lambda d: _hh_field(d, "hamlet").update(length=3), "digits field", True),
    ("required not bool", lambda d: _hh_field(d, "hamlet").update(required="yes"), "true or false", True),
    ("planned on text", lambda d: _hh_field(d, "hamlet").update(planned=True), "only a date field", True),
    ("planned on a datetime", lambda d: _hh_field(d, "location_at").update(planned=True), "only a date field", True),
    ("planned false on text", lambda d: _hh_field(d, "hamlet").update(planned=False), "only a date field", True),
    ("planned not bool", lambda d: _hh_field(d, "visited_on").update(planned="yes"), "true or false", True),
    ("ref without entity", lambda d: d["entities"][1]["fields"][0].pop("ref_entity"), "ref field", True),
    ("ref to a later entity", lambda d: d["entities"][1]["fields"][0].update(ref_entity="placements"),
     "declared before", False),
    ("ref_entity on text", lambda d: _hh_field(d, "hamlet").update(ref_entity="members"), "only a field of kind ref",
     True),
    ("parent_key not a ref", _set("entities/1/parent_key", "name"), "kind ref", False),
    ("relevance unknown field", lambda d: _hh_field(d, "hamlet").update(relevant={"field": "nope", "values": ["a"]}),
     "must name a field", False),
    ("relevance value not a choice", lambda d: d["entities"][2]["fields"][5].update(
        relevant={"field": "scheme", "values": ["zzz"]}), "choices of the field", False),
    ("relevance empty values", lambda d: _hh_field(d, "hamlet").update(relevant={"field": "consent", "values": []}),
     "non-empty list", True),
    ("entity relevance without of_parent", lambda d: d["entities"][2]["relevant"].pop("of_parent"), "must be true",
     False),
    ("duplicate list column", lambda d: _hh_field(d, "hamlet").update(list_column=1), "taken", False),
    ("rule unknown op", _rule(op="~"), "op", True),
    ("rule both value and other", _rule(other="longitude"), "exactly one", True),
    ("rule unknown field", _rule(field="nope"), "must name a field", False),
    ("rule unknown entity", _rule(entity="nope"), "must name an entity", False),
    ("rule on a NIK", _rule(entity="members", field="nik", op="==", value="1"), "cannot be compared", False),
    ("rule order on choice", _rule(entity="members", field="sex", op="<", value="L"), "only compared with", False),
    ("rule text value on number", _rule(value="5"), "finite number", False),
    ("rule bad date", _rule(entity="households", field="visited_on", value="2020-13-01"), "date", False),
    ("rule other kind mismatch", lambda d: _rule(other="visited_on")(d) or d["rules"][0].pop("value"),
     "not comparable", False),
    ("rule no message", lambda d: _rule()(d) or d["rules"][0].pop("message"), "missing 'message'", True),
    ("rule id with space", _rule(id="a b"), "id", True),
    ("duplicate rule id", lambda d: _rule()(d) or _rule()(d), "declared twice", False),
]


@pytest.mark.parametrize("change, fragment, schema_refuses", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_documents_are_refused_with_their_place(change: Any, fragment: str, schema_refuses: bool) -> None:
    doc = _v1()
    change(doc)
    with pytest.raises(DocumentError) as caught:
        from_document(doc)
    assert any(fragment in p for p in caught.value.problems), caught.value.problems
    if schema_refuses:
        assert list(_schema_validator().iter_errors(json.loads(json.dumps(doc, allow_nan=True).replace(
            "NaN", "1e400")))) != []


@pytest.mark.parametrize("doc", [None, [], "x", 5, {"format": 1}], ids=repr)
def test_no_document_shape_raises_anything_but_document_error(doc: Any) -> None:
    with pytest.raises(DocumentError):
        from_document(doc)


def _with_rules(*rules: SoftRule) -> Questionnaire:
    v1 = bundled()
    return Questionnaire(2, v1.entity_specs, rules)


_HH = {"village_code": "32.01.01.2001", "head_name": "Contoh", "visited_on": "2024-01-02", "consent": True}


@pytest.mark.parametrize("rule, record, warned", [
    (SoftRule("a", "households", "latitude", "<", "Terlalu utara", "Too far north", value=0), {"latitude": 1.5}, True),
    (SoftRule("a", "households", "latitude", "<", "x", "x", value=0), {"latitude": -6.2}, False),
    (SoftRule("a", "households", "latitude", "<", "x", "x", value=0), {}, False),  # unanswered: no verdict
    (SoftRule("b", "households", "visited_on", ">=", "x", "x", value="2024-06-01"), {}, True),
    (SoftRule("c", "households", "latitude", "<=", "x", "x", other="longitude"),
     {"latitude": -6.2, "longitude": 106.8}, False),
    (SoftRule("c", "households", "latitude", ">", "x", "x", other="longitude"),
     {"latitude": -6.2, "longitude": 106.8}, True),
    (SoftRule("d", "households", "consent", "==", "x", "x", value=False), {}, True),
    (SoftRule("e", "households", "hamlet", "!=", "x", "x", value="Krajan"), {"hamlet": "Krajan"}, True),
])
def test_soft_rules_warn_and_never_refuse(rule: SoftRule, record: dict[str, Any], warned: bool) -> None:
    q = _with_rules(rule)
    from_document(to_document(q))  # the rule is a valid document rule
    result = validate("households", {**_HH, **record}, questionnaire=q, today=dt.date(2024, 12, 1))
    codes = [i.code for i in result.warnings]
    assert (f"rule:{rule.id}" in codes) is warned
    assert (f"rule:{rule.id}" in [i.code for i in result.errors]) is False
    assert validate("households", {**_HH, **record}, today=dt.date(2024, 12, 1)).issues == [
        i for i in result.issues if not i.code.startswith("rule:")]


def test_a_rule_is_skipped_on_a_field_with_a_hard_error() -> None:
    q = _with_rules(SoftRule("a", "households", "latitude", "<", "x", "x", value=0))
    result = validate("households", {**_HH, "latitude": 99}, questionnaire=q, today=dt.date(2024, 12, 1))
    assert [i.code for i in result.issues if i.field == "latitude"] == ["max"]


def test_a_new_version_validates_its_new_question() -> None:
    doc = _v1()
    doc["version"] = 2
    doc["entities"][0]["fields"].append({"key": "training", "label": {"id": "Pelatihan", "en": "Training"},
                                         "kind": "choice", "choices": [
                                             {"value": "ya", "label": {"id": "Ya", "en": "Yes"}}]})
    q = from_document(doc)
    today = dt.date(2024, 12, 1)
    assert validate("households", {**_HH, "training": "ya"}, questionnaire=q, today=today).ok
    assert [i.code for i in validate("households", {**_HH, "training": "no"}, questionnaire=q,
                                     today=today).errors] == ["choice"]
    assert [i.code for i in validate("households", {**_HH, "training": "ya"}, today=today).errors] == [
        "unknown_field"]
