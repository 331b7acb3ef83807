"""The hand-written checker of a questionnaire document (the domain is stdlib only).

``document_problems(doc)`` returns one line per problem, each naming where it is
(``entities[0].fields[3].kind: …``); an empty list means ``questionnaire.from_document`` can
build the specs. It enforces everything ``resources/questionnaire/schema.json`` says (shapes,
types, patterns, no unknown keys) plus what a JSON Schema cannot: unique names, references to
fields and entities that exist, an entity referring only to entities declared before it, bounds
that fit the kind, soft rules comparing comparable things. ``tests/unit/test_questionnaire_doc.py``
holds the two together on hostile documents.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from desmig_desktop.domain.specs import COMMON_COLUMNS, Kind

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")  # entity names and field keys (SQL column names)
CHOICE_VALUE = re.compile(r"^[A-Za-z0-9_]{1,40}\Z")  # no comma: multi answers are comma-joined
RULE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}\Z")
LABEL_MAX, HELP_MAX, TEXT_VALUE_MAX = 300, 1000, 300
INT_MAX = 10**15  # bounds and limits: whole rupiah, counts; beyond this is a typo

_TOP = {"format", "version", "entities", "rules"}
_ENTITY = {"name", "label", "parent_key", "relevant", "fields"}
_FIELD = {"key", "label", "help", "kind", "required", "choices", "minimum", "maximum", "max_length", "length",
          "zero_pad", "relevant", "ref_entity", "list_column", "hidden", "planned"}
_RULE = {"id", "entity", "field", "op", "value", "other", "message"}
_RELEVANCE = {"field", "values", "of_parent"}

NUMERIC = frozenset({Kind.INT, Kind.MONEY, Kind.FLOAT})
CHOICE_KINDS = frozenset({Kind.CHOICE, Kind.MULTI, Kind.DERIVED})
LENGTH_KINDS = frozenset({Kind.TEXT, Kind.LONG_TEXT, Kind.DIGITS})
# Kinds a soft rule may compare: ordered (numbers, dates) or only for (in)equality.
ORDERED_RULE_KINDS = NUMERIC | {Kind.DATE}
EQUALITY_RULE_KINDS = frozenset({Kind.BOOL, Kind.CHOICE, Kind.TEXT, Kind.LONG_TEXT, Kind.COUNTRY, Kind.DIGITS})
RULE_OPS = ("==", "!=", "<", "<=", ">", ">=")


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    return (type(value) is int or (type(value) is float and math.isfinite(value))) and abs(value) <= INT_MAX


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def obj(self, where: str, value: Any, allowed: set[str], required: set[str]) -> bool:
        if not isinstance(value, dict):
            self.bad(where, "must be an object")
            return False
        for key in value:
            if key not in allowed:
                self.bad(where, f"unknown key {str(key)[:40]!r}")
        for key in sorted(required - value.keys()):
            self.bad(where, f"missing {key!r}")
        return required <= value.keys()

    def text(self, where: str, value: Any, maximum: int, *, empty: bool = False) -> bool:
        if not isinstance(value, str):
            self.bad(where, "must be a string")
            return False
        if not empty and not value.strip():
            self.bad(where, "must not be empty")
        elif len(value) > maximum or any(ord(c) < 32 for c in value):
            self.bad(where, f"must be at most {maximum} characters, without control characters")
        else:
            return True
        return False

    def label(self, where: str, value: Any, maximum: int = LABEL_MAX, *, empty: bool = False) -> None:
        if self.obj(where, value, {"id", "en"}, {"id", "en"}):
            self.text(f"{where}.id", value["id"], maximum, empty=empty)
            self.text(f"{where}.en", value["en"], maximum, empty=empty)

    def name(self, where: str, value: Any, pattern: re.Pattern[str] = NAME) -> bool:
        if not isinstance(value, str) or not pattern.match(value):
            self.bad(where, f"must match {pattern.pattern}")
            return False
        return True

    def flag(self, where: str, obj: Mapping[str, Any], key: str) -> None:
        if key in obj and type(obj[key]) is not bool:
            self.bad(f"{where}.{key}", "must be true or false")

    def positive(self, where: str, obj: Mapping[str, Any], key: str) -> None:
        if key in obj and not (_is_int(obj[key]) and 1 <= obj[key] <= INT_MAX):
            self.bad(f"{where}.{key}", "must be a whole number of at least 1")


def document_problems(doc: Any) -> list[str]:
    """Everything wrong with ``doc`` (a parsed JSON value), one line each; ``[]`` when it is sound."""
    c = _Checker()
    if not c.obj("document", doc, _TOP, {"format", "version", "entities"}):
        return c.problems
    if doc["format"] != 1 or not _is_int(doc["format"]):
        c.bad("format", "must be 1")
    if not (_is_int(doc["version"]) and 1 <= doc["version"] <= 2**31 - 1):
        c.bad("version", "must be a whole number of at least 1")
    entities = doc["entities"]
    if not isinstance(entities, list) or not entities:
        c.bad("entities", "must be a non-empty list")
        return c.problems
    declared: dict[str, dict[str, Any]] = {}  # entity name -> {field key: field object}
    parents: dict[str, str | None] = {}
    for i, ent in enumerate(entities):
        _entity(c, f"entities[{i}]", ent, declared, parents)
    rules = doc.get("rules", [])
    if not isinstance(rules, list):
        c.bad("rules", "must be a list")
        return c.problems
    ids: set[str] = set()
    for i, rule in enumerate(rules):
        _rule(c, f"rules[{i}]", rule, declared, ids)
    return c.problems


def _entity(c: _Checker, where: str, ent: Any, declared: dict[str, dict[str, Any]],
            parents: dict[str, str | None]) -> None:
    if not c.obj(where, ent, _ENTITY, {"name", "label", "fields"}):
        return
    name = ent["name"]
    if not c.name(f"{where}.name", name):
        return
    if name in declared:
        c.bad(f"{where}.name", f"entity {name!r} declared twice")
        return
    c.label(f"{where}.label", ent["label"])
    fields = ent["fields"]
    if not isinstance(fields, list) or not fields:
        c.bad(f"{where}.fields", "must be a non-empty list")
        declared[name] = {}
        return
    own: dict[str, Any] = {}
    columns: set[int] = set()
    for j, f in enumerate(fields):
        fw = f"{where}.fields[{j}]"
        if not _field_shape(c, fw, f, declared):
            continue
        if f["key"] in own:
            c.bad(f"{fw}.key", f"field {f['key']!r} declared twice")
            continue
        own[f["key"]] = f
        column = f.get("list_column")
        if _is_int(column):
            if column in columns:
                c.bad(f"{fw}.list_column", f"column {column} is taken by another field")
            columns.add(column)
    declared[name] = own
    for j, f in enumerate(fields):
        if isinstance(f, dict) and isinstance(f.get("relevant"), dict) and f.get("key") in own:
            _relevance(c, f"{where}.fields[{j}].relevant", f["relevant"], own, None, entity_level=False)
    parent_key = ent.get("parent_key")
    parents[name] = None
    if parent_key is not None:
        target = own.get(parent_key) if isinstance(parent_key, str) else None
        if target is None or target.get("kind") != Kind.REF.value:
            c.bad(f"{where}.parent_key", "must name a field of kind ref of this entity")
        else:
            parents[name] = target.get("ref_entity")
    if "relevant" in ent:
        parent = parents[name]
        if parent is None:
            c.bad(f"{where}.relevant", "only an entity with a parent_key may have a relevance")
        else:
            _relevance(c, f"{where}.relevant", ent["relevant"], own, declared.get(parent, {}), entity_level=True)


def _field_shape(c: _Checker, where: str, f: Any, declared: Mapping[str, Any]) -> bool:
    if not c.obj(where, f, _FIELD, {"key", "label", "kind"}):
        return False
    ok = c.name(f"{where}.key", f["key"])
    if ok and f["key"] in COMMON_COLUMNS:
        c.bad(f"{where}.key", f"{f['key']!r} is a column every record has")
        ok = False
    c.label(f"{where}.label", f["label"])
    if "help" in f:
        c.label(f"{where}.help", f["help"], HELP_MAX, empty=True)
    try:
        kind = Kind(f["kind"])
    except (ValueError, TypeError):
        c.bad(f"{where}.kind", f"must be one of {', '.join(k.value for k in Kind)}")
        return False
    c.flag(where, f, "required")
    c.flag(where, f, "hidden")
    c.flag(where, f, "planned")
    if "planned" in f and kind is not Kind.DATE:
        c.bad(f"{where}.planned", "only a date field may be planned (may lie after today)")
    c.positive(where, f, "list_column")
    _choices(c, where, f, kind)
    _bounds(c, where, f, kind)
    ref = f.get("ref_entity")
    if kind is Kind.REF:
        if not isinstance(ref, str) or ref not in declared:
            c.bad(f"{where}.ref_entity", "a ref field must name an entity declared before this one")
    elif "ref_entity" in f:
        c.bad(f"{where}.ref_entity", "only a field of kind ref names an entity")
    return ok


def _choices(c: _Checker, where: str, f: Mapping[str, Any], kind: Kind) -> None:
    choices = f.get("choices")
    if kind not in CHOICE_KINDS:
        if choices is not None:
            c.bad(f"{where}.choices", f"a field of kind {kind.value} has no choices")
        return
    if not isinstance(choices, list) or not choices:
        c.bad(f"{where}.choices", "must be a non-empty list")
        return
    seen: set[str] = set()
    for k, choice in enumerate(choices):
        cw = f"{where}.choices[{k}]"
        if not c.obj(cw, choice, {"value", "label"}, {"value", "label"}):
            continue
        if c.name(f"{cw}.value", choice["value"], CHOICE_VALUE):
            if choice["value"] in seen:
                c.bad(f"{cw}.value", f"choice {choice['value']!r} listed twice")
            seen.add(choice["value"])
        c.label(f"{cw}.label", choice["label"])


def _bounds(c: _Checker, where: str, f: Mapping[str, Any], kind: Kind) -> None:
    for key in ("minimum", "maximum"):
        if key in f and (kind not in NUMERIC or not _is_number(f[key])):
            c.bad(f"{where}.{key}", f"only a number field has a {key}, and it must be a finite number")
    low: Any = f.get("minimum")
    high: Any = f.get("maximum")
    if _is_number(low) and _is_number(high) and low > high:
        c.bad(f"{where}.minimum", "must not exceed maximum")
    for key in ("max_length", "length", "zero_pad"):
        c.positive(where, f, key)
    if "max_length" in f and kind not in LENGTH_KINDS:
        c.bad(f"{where}.max_length", "only text and digits fields have a max_length")
    for key in ("length", "zero_pad"):
        if key in f and kind is not Kind.DIGITS:
            c.bad(f"{where}.{key}", f"only a digits field has a {key}")


def _relevance(c: _Checker, where: str, rel: Any, own: Mapping[str, Any], parent: Mapping[str, Any] | None,
               *, entity_level: bool) -> None:
    if not c.obj(where, rel, _RELEVANCE, {"field", "values"}):
        return
    c.flag(where, rel, "of_parent")
    of_parent = rel.get("of_parent") is True
    if entity_level and not of_parent:
        c.bad(f"{where}.of_parent", "an entity's relevance reads its parent: must be true")
    if not entity_level and of_parent:
        c.bad(f"{where}.of_parent", "a question's relevance reads its own record")
    fields = parent if of_parent else own
    target = (fields or {}).get(rel["field"]) if isinstance(rel["field"], str) else None
    if target is None:
        c.bad(f"{where}.field", "must name a field of the record it reads")
    values = rel["values"]
    if not isinstance(values, list) or not values or not all(
            type(v) is bool or (isinstance(v, str) and 0 < len(v) <= 40) for v in values):
        c.bad(f"{where}.values", "must be a non-empty list of choice values or true/false")
    elif target is not None and target.get("kind") in (Kind.CHOICE.value, Kind.MULTI.value):
        known = {ch.get("value") for ch in target.get("choices") or () if isinstance(ch, dict)}
        if not all(v in known for v in values):
            c.bad(f"{where}.values", "must be choices of the field it reads")


def _rule(c: _Checker, where: str, rule: Any, declared: Mapping[str, Mapping[str, Any]], ids: set[str]) -> None:
    if not c.obj(where, rule, _RULE, {"id", "entity", "field", "op", "message"}):
        return
    if c.name(f"{where}.id", rule["id"], RULE_ID):
        if rule["id"] in ids:
            c.bad(f"{where}.id", f"rule {rule['id']!r} declared twice")
        ids.add(rule["id"])
    c.label(f"{where}.message", rule["message"])
    if rule["op"] not in RULE_OPS:
        c.bad(f"{where}.op", f"must be one of {' '.join(RULE_OPS)}")
    if ("value" in rule) == ("other" in rule):
        c.bad(where, "needs exactly one of 'value' (a constant) and 'other' (another field)")
        return
    fields = declared.get(rule["entity"]) if isinstance(rule["entity"], str) else None
    if fields is None:
        c.bad(f"{where}.entity", "must name an entity of the document")
        return
    left = fields.get(rule["field"]) if isinstance(rule["field"], str) else None
    kind = _rule_kind(c, f"{where}.field", left)
    if kind is None:
        return
    if kind not in ORDERED_RULE_KINDS and rule["op"] not in ("==", "!="):
        c.bad(f"{where}.op", f"a {kind.value} field is only compared with == or !=")
    if "other" in rule:
        right = fields.get(rule["other"]) if isinstance(rule["other"], str) else None
        other = _rule_kind(c, f"{where}.other", right)
        if other is not None and other is not kind and not (kind in NUMERIC and other in NUMERIC):
            c.bad(f"{where}.other", f"a {kind.value} field is not comparable with a {other.value} field")
        if rule["other"] == rule["field"]:
            c.bad(f"{where}.other", "must be another field")
        return
    _rule_value(c, f"{where}.value", rule["value"], kind, left or {})


def _rule_kind(c: _Checker, where: str, f: Mapping[str, Any] | None) -> Kind | None:
    if f is None:
        c.bad(where, "must name a field of the entity")
        return None
    kind = Kind(f["kind"])
    if kind not in ORDERED_RULE_KINDS | EQUALITY_RULE_KINDS:
        c.bad(where, f"a {kind.value} field cannot be compared by a rule")
        return None
    return kind


def _rule_value(c: _Checker, where: str, value: Any, kind: Kind, f: Mapping[str, Any]) -> None:
    if kind in NUMERIC:
        if not _is_number(value):
            c.bad(where, "must be a finite number")
    elif kind is Kind.DATE:
        try:
            dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            c.bad(where, "must be a date YYYY-MM-DD")
        else:
            if not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", value):
                c.bad(where, "must be a date YYYY-MM-DD")
    elif kind is Kind.BOOL:
        if type(value) is not bool:
            c.bad(where, "must be true or false")
    elif kind is Kind.CHOICE:
        if value not in {ch.get("value") for ch in f.get("choices") or () if isinstance(ch, dict)}:
            c.bad(where, "must be a choice of the field")
    else:
        c.text(where, value, TEXT_VALUE_MAX)
