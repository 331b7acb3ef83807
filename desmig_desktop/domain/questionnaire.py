"""The questionnaire as a versioned document: what HQ publishes and every layer reads.

A questionnaire is a JSON document (``resources/questionnaire/schema.json`` describes it for HQ
authors and their tools; version 1, the questionnaire this app ships, is
``resources/questionnaire/v1.json``). In memory it is a ``Questionnaire``: its version, its
entities as the same ``EntitySpec``/``FieldSpec`` objects the whole app uses, and HQ's soft rules.

The API (stdlib only, shared by the laptop and the HQ server):

* ``from_document(doc) -> Questionnaire`` checks a parsed JSON document against every rule of the
  schema and more (``questionnaire_check``; raises ``DocumentError`` listing each problem) and
  builds the specs; ``to_document(q) -> dict`` is its inverse (``from_document(to_document(q))
  == q``; defaults are left out, so ``to_document(from_document(d)) == d`` for a document written
  that way, as v1.json is).
* ``bundled() -> Questionnaire``: version 1, read once. ``fields.ENTITIES`` is its entities.
* ``document_digest(doc) -> str``: a content hash (the HTTP ETag, the server's cache key).
* ``Questionnaire.entity(name)``, ``.entities`` (name -> spec, in dependency order),
  ``.rules_for(entity)``; ``check_rules(v, rules)`` adds the soft rules' warnings to a
  ``Validation`` (``validation.validate(..., questionnaire=q)`` calls it).
* ``questionnaire_compat.compare(old, new) -> list[Change]`` says which changes a published
  version may make without a new app (``Change.compatible``), with a reason in both languages.
* ``questionnaire_sheet.document_from_sheets(base, survey, choices) -> dict`` turns an
  XLSForm-style spreadsheet (rows already read) into the next version's document.

**For the device** (applying a published version at sync): hello's ``questionnaire_version``
says whether the server holds a newer one; ``GET /v1/questionnaire`` (``If-None-Match`` with the
held ETag → 304) gives the document; ``from_document`` checks it and ``compare(held, fetched)``
must find no ``refused`` change (a server cannot make an app take a shape it does not know —
refuse the version then, as an app too old); store ``document_text(doc)`` and apply the new
columns in one transaction; validate with ``validate(..., questionnaire=q)`` and send ops with
``WireOp.questionnaire_version = q.version`` (``domain.wire``; absent = 1). ``summary(changes)``
counts what changed for the officer's notice. The names in ``fields`` stay version 1.

**Soft rules** are the one thing HQ may add that is not a question: a comparison of a field with
a constant or with another field of the same record (``op``: ``==``, ``!=``, ``<``, ``<=``,
``>``, ``>=``), stating what *should* hold; when both sides are answered and it does not hold,
the field gets a soft warning (the officer confirms, nothing is refused) with the rule's message.
Nothing in a document is ever evaluated as code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from desmig_desktop.domain.i18n import pick
from desmig_desktop.domain.issues import Validation
from desmig_desktop.domain.questionnaire_check import document_problems
from desmig_desktop.domain.reference import RESOURCES_DIR
from desmig_desktop.domain.specs import Choice, EntitySpec, FieldSpec, Kind, Relevance

FORMAT = 1  # the document format this code reads and writes (``"format"``)
QUESTIONNAIRE_DIR = RESOURCES_DIR / "questionnaire"
BUNDLED_VERSION = 1

Scalar = str | int | float | bool

RULE_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class DocumentError(ValueError):
    """A questionnaire document that breaks the format; ``problems``: one line each, naming where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class SoftRule:
    """``field op value`` (or ``field op other``) should hold for a record of ``entity``."""

    id: str
    entity: str
    field: str
    op: str
    message_id: str
    message_en: str
    value: Scalar | None = None
    other: str | None = None


@dataclass(frozen=True)
class Questionnaire:
    version: int
    entity_specs: tuple[EntitySpec, ...]  # parents before children, references after their targets
    rules: tuple[SoftRule, ...] = ()

    @functools.cached_property
    def entities(self) -> dict[str, EntitySpec]:
        return {e.name: e for e in self.entity_specs}

    @functools.cached_property
    def _rules_by_entity(self) -> dict[str, tuple[SoftRule, ...]]:
        return {e.name: tuple(r for r in self.rules if r.entity == e.name) for e in self.entity_specs}

    def entity(self, name: str) -> EntitySpec:
        """The spec of entity ``name``; ``KeyError`` for an unknown entity."""
        return self.entities[name]

    def rules_for(self, entity: str) -> tuple[SoftRule, ...]:
        return self._rules_by_entity.get(entity, ())


# -- document -> questionnaire -------------------------------------------------------------------
def _label(obj: Mapping[str, str]) -> tuple[str, str]:
    return obj["id"], obj["en"]


def _relevance(obj: Mapping[str, Any] | None) -> Relevance | None:
    if obj is None:
        return None
    return Relevance(obj["field"], tuple(obj["values"]), bool(obj.get("of_parent", False)))


def _field(obj: Mapping[str, Any]) -> FieldSpec:
    help_id, help_en = _label(obj.get("help") or {"id": "", "en": ""})
    return FieldSpec(
        obj["key"], *_label(obj["label"]), Kind(obj["kind"]),
        required=bool(obj.get("required", False)),
        choices=tuple(Choice(c["value"], *_label(c["label"])) for c in obj.get("choices", ())),
        minimum=obj.get("minimum"), maximum=obj.get("maximum"), max_length=obj.get("max_length"),
        length=obj.get("length"), zero_pad=obj.get("zero_pad"), relevant=_relevance(obj.get("relevant")),
        ref_entity=obj.get("ref_entity"), list_column=obj.get("list_column"), hidden=bool(obj.get("hidden", False)),
        help_id=help_id, help_en=help_en, planned=bool(obj.get("planned", False)),
    )


def from_document(doc: Any) -> Questionnaire:
    """The questionnaire a parsed JSON document declares; ``DocumentError`` listing every problem."""
    problems = document_problems(doc)
    if problems:
        raise DocumentError(problems)
    entities = tuple(
        EntitySpec(e["name"], *_label(e["label"]), tuple(_field(f) for f in e["fields"]),
                   parent_key=e.get("parent_key"), relevant=_relevance(e.get("relevant")))
        for e in doc["entities"])
    rules = tuple(SoftRule(r["id"], r["entity"], r["field"], r["op"], *_label(r["message"]),
                           value=r.get("value"), other=r.get("other")) for r in doc.get("rules", ()))
    return Questionnaire(doc["version"], entities, rules)


# -- questionnaire -> document -------------------------------------------------------------------
def _label_json(label_id: str, label_en: str) -> dict[str, str]:
    return {"id": label_id, "en": label_en}


def _relevance_json(rel: Relevance) -> dict[str, Any]:
    out: dict[str, Any] = {"field": rel.field, "values": list(rel.values)}
    if rel.of_parent:
        out["of_parent"] = True
    return out


def field_json(f: FieldSpec) -> dict[str, Any]:
    """One question as the document writes it (keys at their defaults left out)."""
    out: dict[str, Any] = {"key": f.key, "label": _label_json(f.label_id, f.label_en)}
    if f.help_id or f.help_en:
        out["help"] = _label_json(f.help_id, f.help_en)
    out["kind"] = f.kind.value
    if f.required:
        out["required"] = True
    if f.choices:
        out["choices"] = [{"value": c.value, "label": _label_json(c.label_id, c.label_en)} for c in f.choices]
    for name in ("minimum", "maximum", "max_length", "length", "zero_pad"):
        value = getattr(f, name)
        if value is not None:
            out[name] = value
    if f.relevant is not None:
        out["relevant"] = _relevance_json(f.relevant)
    if f.ref_entity is not None:
        out["ref_entity"] = f.ref_entity
    if f.list_column is not None:
        out["list_column"] = f.list_column
    if f.hidden:
        out["hidden"] = True
    if f.planned:
        out["planned"] = True
    return out


def rule_json(r: SoftRule) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r.id, "entity": r.entity, "field": r.field, "op": r.op}
    if r.other is not None:
        out["other"] = r.other
    else:
        out["value"] = r.value
    out["message"] = _label_json(r.message_id, r.message_en)
    return out


def to_document(q: Questionnaire) -> dict[str, Any]:
    """The document of ``q`` (``from_document`` of it equals ``q``)."""
    entities = []
    for e in q.entity_specs:
        ent: dict[str, Any] = {"name": e.name, "label": _label_json(e.label_id, e.label_en)}
        if e.parent_key is not None:
            ent["parent_key"] = e.parent_key
        if e.relevant is not None:
            ent["relevant"] = _relevance_json(e.relevant)
        ent["fields"] = [field_json(f) for f in e.fields]
        entities.append(ent)
    return {"format": FORMAT, "version": q.version, "entities": entities, "rules": [rule_json(r) for r in q.rules]}


def document_text(doc: Mapping[str, Any]) -> str:
    """The canonical text of a document (key-sorted, compact, UTF-8 kept): what is stored and hashed."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def document_digest(doc: Mapping[str, Any]) -> str:
    """Hex SHA-256 of ``document_text``: equal documents, equal digests."""
    return hashlib.sha256(document_text(doc).encode("utf-8")).hexdigest()


@functools.cache
def bundled_document() -> dict[str, Any]:
    """Version 1 as shipped (``resources/questionnaire/v1.json``). Callers must not mutate it."""
    doc: dict[str, Any] = json.loads((QUESTIONNAIRE_DIR / f"v{BUNDLED_VERSION}.json").read_text(encoding="utf-8"))
    return doc


@functools.cache
def bundled() -> Questionnaire:
    """Version 1, the questionnaire this app ships (built once)."""
    return from_document(bundled_document())


# -- soft rules ----------------------------------------------------------------------------------
def check_rules(v: Validation, rules: tuple[SoftRule, ...]) -> None:
    """Add a soft warning to ``v`` for each rule that does not hold on its normalised values.
    A rule is skipped while a side is unanswered or has a hard error (that error says enough).
    Nothing to do when ``v`` wants no soft warnings: a published rule is soft by the format (a
    document has no way to make one refuse), so a rule never adds a hard error."""
    if not rules or not v.wants_soft:
        return
    bad = {i.field for i in v.issues if i.hard}
    values = v.values
    for rule in rules:
        left = values.get(rule.field)
        right = values.get(rule.other) if rule.other is not None else rule.value
        if left is None or right is None or rule.field in bad or (rule.other is not None and rule.other in bad):
            continue
        try:
            holds = RULE_OPS[rule.op](left, right)
        except TypeError:  # a stored value of another type (the checker makes it unlikely): no verdict
            continue
        if not holds:
            v.soft(rule.field, f"rule:{rule.id}", pick(rule.message_id, rule.message_en))
