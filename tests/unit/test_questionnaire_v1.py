"""Version 1 of the questionnaire document is exactly what the base commit declared in Python.

``questionnaire_base_v1`` is the base commit's declarations, frozen; ``resources/questionnaire/
v1.json`` was generated from them once and the Python declarations removed from ``fields``.
Any edit of v1.json that changes a spec (a label, a bound, a choice, an order) fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from desmig_desktop.domain import fields
from desmig_desktop.domain.questionnaire import (
    QUESTIONNAIRE_DIR,
    bundled,
    bundled_document,
    from_document,
    to_document,
)
from desmig_desktop.domain.specs import EntitySpec
from tests.unit import questionnaire_base_v1 as base


def test_the_bundled_document_builds_the_base_declarations() -> None:
    q = from_document(json.loads((QUESTIONNAIRE_DIR / "v1.json").read_text(encoding="utf-8")))
    assert q.version == 1 and q.rules == ()
    assert list(q.entities) == list(base.ENTITY_ORDER) == list(base.ENTITIES)
    for name, spec in base.ENTITIES.items():
        built = q.entity(name)
        assert built.fields == spec.fields, name  # field by field, every attribute, in order
        assert (built.label_id, built.label_en, built.parent_key, built.relevant) == (
            spec.label_id, spec.label_en, spec.parent_key, spec.relevant), name
        assert built.parent_entity == spec.parent_entity
    assert q.entities == base.ENTITIES


def test_fields_keeps_every_public_name_of_the_base() -> None:
    """Every name other modules imported from ``fields`` still exists and equals the base's."""
    names = [n for n, v in vars(base).items()
             if n.isupper() and not n.startswith("_") and n not in {"F", "K"} and not isinstance(v, type)]
    assert len(names) > 40
    for name in names:
        assert getattr(fields, name) == getattr(base, name), name
    assert fields.ENTITY_ORDER == base.ENTITY_ORDER
    assert fields.PLACEMENT_STATUSES == ("pmi_aktif", "pmi_purna")
    assert fields.entity("members") is fields.MEMBERS
    with pytest.raises(KeyError):
        fields.entity("nope")


def test_open_case_statuses_are_case_statuses() -> None:
    assert set(fields.OPEN_CASE_STATUSES) < {c.value for c in fields.CASE_STATUS}


def test_the_file_is_the_document_of_its_questionnaire() -> None:
    """Written with defaults left out, so the round trip is exact (a hand edit adding a default fails)."""
    assert to_document(bundled()) == bundled_document()
    assert bundled().entities == fields.ENTITIES


def _schema_validator() -> Any:
    schema = json.loads((QUESTIONNAIRE_DIR / "schema.json").read_text(encoding="utf-8"))
    try:
        import jsonschema  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        rs = pytest.importorskip("jsonschema_rs")
        return rs.validator_for(schema)
    return jsonschema.Draft202012Validator(schema)


def test_v1_is_valid_under_the_published_schema() -> None:
    validator = _schema_validator()
    assert [e.message for e in validator.iter_errors(bundled_document())] == []


def test_entity_specs_are_the_shared_class() -> None:
    assert all(isinstance(e, EntitySpec) for e in fields.ENTITIES.values())
    assert fields.EntitySpec is EntitySpec
