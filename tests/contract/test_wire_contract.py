"""The wire shapes are defined once (``desmig_desktop.domain.wire``); the server's pydantic models
(which validate requests and generate the OpenAPI document) must describe the same shapes.

For each pair: the same field names with the same required-ness; the model's ``Literal`` kinds
and statuses are exactly the domain enums; and for generated values, the domain's JSON passes
the model's validation and the model writes it back byte for byte, and the domain reads the
model's JSON back into the same value. The pulled record is also checked against the JSON the
server actually writes (``sync/pull.records_json`` splices it by hand, for speed).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from desmig_desktop.domain import jsontext, wire
from desmig_desktop.domain.fields import ENTITIES
from desmig_server.sync import models
from desmig_server.sync.pull import records_json

PAIRS: list[tuple[type[BaseModel], type[Any]]] = [
    (models.PushOp, wire.WireOp),
    (models.OpResult, wire.OpResult),
    (models.PulledRecord, wire.PulledRecord),
]


def domain_fields(shape: type[Any]) -> dict[str, bool]:
    """Field name -> required, for a frozen dataclass or a NamedTuple."""
    if dataclasses.is_dataclass(shape):
        return {f.name: f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                for f in dataclasses.fields(shape)}
    return {name: name not in shape._field_defaults for name in shape._fields}


def model_fields(model: type[BaseModel]) -> dict[str, bool]:
    return {name: info.is_required() for name, info in model.model_fields.items()}


@pytest.mark.parametrize(("model", "shape"), PAIRS, ids=lambda p: p.__name__)
def test_same_fields_same_required(model: type[BaseModel], shape: type[Any]) -> None:
    assert model_fields(model) == domain_fields(shape)


def test_model_literals_are_the_domain_enums() -> None:
    assert get_args(models.PushOp.model_fields["kind"].annotation) == tuple(wire.OpKind)
    assert get_args(models.OpResult.model_fields["status"].annotation) == tuple(wire.OpStatus)


def test_openapi_publishes_the_enum_values() -> None:
    """The schema stays an inline ``enum`` of the values (as before the enums), not a reference."""
    assert models.PushOp.model_json_schema()["properties"]["kind"]["enum"] == [k.value for k in wire.OpKind]
    assert (models.OpResult.model_json_schema()["properties"]["status"]["enum"]
            == [s.value for s in wire.OpStatus])


# -- generated values -------------------------------------------------------------------------
INT64 = st.integers(min_value=0, max_value=models.MAX_INT64)
TEXT = st.text(max_size=12)
JSON_SCALAR = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT | st.floats(
    allow_nan=False, allow_infinity=False)
JSON = st.recursive(JSON_SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=8)
FIELDS = st.dictionaries(TEXT, JSON, max_size=4)
IDS = st.from_regex(models.ID_PATTERN, fullmatch=True)

OPS = st.builds(
    wire.WireOp, op_seq=st.integers(1, models.MAX_INT64), entity=st.sampled_from(sorted(ENTITIES)), id=IDS,
    kind=st.sampled_from(wire.OpKind), base_version=INT64, fields=FIELDS,
    op_hash=st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
    captured_at=st.none() | st.from_regex(r"[^\x00-\x1f\x7f]{0,40}", fullmatch=True),
    questionnaire_version=st.just(1) | st.integers(1, models.MAX_INT32))
CONFLICT_ENTRIES = st.lists(st.fixed_dictionaries({"field": TEXT, "won": st.booleans()},
                                                  optional={"id": INT64, "theirs": JSON}), max_size=3)
RESULTS = st.builds(wire.OpResult, op_seq=INT64, status=st.sampled_from(wire.OpStatus), version=INT64,
                    reason=st.none() | TEXT, conflicts=CONFLICT_ENTRIES.map(tuple))
PLAIN_RECORDS = st.builds(wire.PulledRecord, entity=st.sampled_from(sorted(ENTITIES)), id=IDS, data=FIELDS,
                          version=INT64, deleted=st.booleans(), server_seq=INT64, moved_out=st.just(False),
                          by=st.none() | st.text(min_size=1, max_size=wire.BY_MAX))
NOTICES = st.builds(lambda entity, rid, seq: wire.PulledRecord(entity, rid, {}, seq, True, seq, True),
                    st.sampled_from(sorted(ENTITIES)), IDS, INT64)
RECORDS = PLAIN_RECORDS | NOTICES


def text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def both_ways(model: type[BaseModel], value: Any) -> None:
    """The domain's JSON is valid for the model and written back the same; the domain reads the
    model's JSON back into ``value``."""
    sent = value.to_json()
    parsed = model.model_validate(sent)
    # exclude_unset: a key the domain leaves out (an empty ``conflicts``, no ``by``) stays out
    written = parsed.model_dump(mode="json", exclude_unset=True)
    assert text(written) == text(sent)
    assert type(value).from_json(written) == value


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_op_same_json_both_ways(op: wire.WireOp) -> None:
    both_ways(models.PushOp, op)


def test_questionnaire_version_absent_is_one_on_both_sides() -> None:
    """An app from before questionnaire versions sends no key: both sides read version 1, and a
    version-1 op is sent exactly as before (the key only for other versions)."""
    body = {"op_seq": 1, "entity": "households", "id": "h1", "kind": "upsert", "base_version": 0, "fields": {}}
    assert models.PushOp.model_validate(body).questionnaire_version == 1
    assert wire.WireOp.from_json(body).questionnaire_version == 1
    assert "questionnaire_version" not in wire.WireOp.from_json(body).to_json()
    assert wire.WireOp.from_json({**body, "questionnaire_version": 3}).to_json()["questionnaire_version"] == 3
    for bad in (0, -1, "2", 1.5, True):
        with pytest.raises(Exception):  # noqa: B017 - pydantic's and the domain's own error types
            models.PushOp.model_validate({**body, "questionnaire_version": bad})
        with pytest.raises(wire.ProtocolError):
            wire.WireOp.from_json({**body, "questionnaire_version": bad})


@settings(max_examples=200, deadline=None)
@given(RESULTS)
def test_result_same_json_both_ways(result: wire.OpResult) -> None:
    both_ways(models.OpResult, result)


@settings(max_examples=200, deadline=None)
@given(RECORDS)
def test_pulled_record_same_json_both_ways(record: wire.PulledRecord) -> None:
    both_ways(models.PulledRecord, record)


@settings(max_examples=200, deadline=None)
@given(RECORDS)
def test_server_writes_the_pulled_record_as_the_domain_does(record: wire.PulledRecord) -> None:
    """``records_json`` (the server's hand-written page) against ``PulledRecord.to_json``: same
    keys in the same order, same values; ``data`` is spliced as the server stores it."""
    row = (record.entity, record.id, None if record.moved_out else jsontext.stored_sorted(record.data),
           record.version, record.deleted, record.server_seq, record.by)
    spliced = json.loads(records_json([row]))
    assert list(spliced) == list(record.to_json())  # the same keys, in the same order
    assert spliced == record.to_json()
    assert wire.PulledRecord.from_json(spliced) == record
