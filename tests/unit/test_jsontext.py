"""``jsontext`` must write exactly what ``json`` writes (op hashes depend on it) and read the same values."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from desmig_desktop.domain import jsontext
from desmig_desktop.domain.ops import canonical_json, op_hash

scalars = (hs.none() | hs.booleans() | hs.integers(min_value=-2**70, max_value=2**70)
           | hs.floats(allow_nan=True, allow_infinity=True) | hs.text())
values = hs.recursive(scalars, lambda inner: hs.lists(inner, max_size=4)
                      | hs.dictionaries(hs.text(max_size=8), inner, max_size=4), max_leaves=20)


def std(value: Any, **kw: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), **kw)


@settings(max_examples=400, deadline=None)
@given(values)
def test_same_text_as_json_for_any_value(value: Any) -> None:
    assert jsontext.compact_sorted(value) == std(value, sort_keys=True)
    assert jsontext.compact(value) == std(value).encode("utf-8")


@pytest.mark.parametrize("value", [
    1e-05, -9.99e-05, 1.5e-07, 5e-324, math.nan, math.inf, -math.inf,  # orjson writes these differently
    2**64, -2**63 - 1,  # orjson refuses these
    [[[[]]]] * 3, {"k": [1.0, 0.0001, 1e16, 1e22, -0.0]},
    "\x00\x1f\x7f\u2028 \"\\ ünïcödé 🇮🇩",
])
def test_same_text_as_json_where_orjson_differs(value: Any) -> None:
    assert jsontext.compact_sorted({"v": value}) == std({"v": value}, sort_keys=True)
    assert jsontext.compact([value]) == std([value]).encode("utf-8")


def test_not_exact_for_what_orjson_writes_differently() -> None:
    assert jsontext.exact({"a": [1, "x", None, True, 0.5, 0.0]})
    for value in (1e-5, math.nan, math.inf, {1: "int key"}, {"k": {1, 2}}, b"bytes"):
        assert not jsontext.exact({"k": value})


def test_lone_surrogate_and_unsupported_types_fail_like_json() -> None:
    with pytest.raises(UnicodeEncodeError):
        jsontext.compact({"k": "\ud800"})
    assert jsontext.compact_sorted({"k": "\ud800"}) == std({"k": "\ud800"}, sort_keys=True)
    with pytest.raises(TypeError):
        jsontext.compact_sorted({"k": {1, 2}})


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}', "[NaN, Infinity, -Infinity]", "[1e400, 123456789012345678901234567890]",
    '["\\ud800"]', '{"nested": [[{"x": -0.0}]]}', '"ünïcödé"',
    # integers beyond 64 bits alone: orjson reads them as floats without an error
    "18446744073709551616", "[-9223372036854775809]", '{"n": 123456789012345678901234567890}',
    "18446744073709551615", "-9223372036854775808", "9223372036854775807",  # the edges orjson keeps
    "0.12345678901234567890123", '"1234567890123456789012"',
])
def test_loads_reads_what_json_reads(text: str) -> None:
    expected = json.loads(text)
    for given_text in (text, text.encode("utf-8")):
        got = jsontext.loads(given_text)
        assert repr(got) == repr(expected)  # repr: NaN != NaN


@settings(max_examples=400, deadline=None)
@given(values, hs.booleans())
def test_loads_reads_any_json_text_as_json_does(value: Any, spaced: bool) -> None:
    """The class of the bug above: any text ``json`` writes (integers of any size, every float,
    any string) reads back through ``loads`` as ``json.loads`` reads it, as str and as bytes."""
    text = json.dumps(value, ensure_ascii=False) if spaced else std(value)
    expected = repr(json.loads(text))  # repr: NaN != NaN, 1 == 1.0
    assert repr(jsontext.loads(text)) == expected
    assert repr(jsontext.loads(text.encode("utf-8", "surrogatepass"))) == expected


class _NoStdlib:
    """Stands in for ``json`` in ``jsontext``: says when ``loads`` fell back to it."""

    class Used(Exception):
        pass

    @staticmethod
    def loads(text: Any) -> Any:
        raise _NoStdlib.Used(text)


@pytest.mark.parametrize("text", [
    # op hashes (hex, long digit runs), NIKs and phone numbers as strings, a UUID, floats
    json.dumps({"ops": [{"op_hash": "a209ee12de8f08414181382309717671f65719b57e95227eb23b7fadc2879c13",
                         "id": "01a24549-1193-7d52-9a7c-27ea6fc282c7", "nik": "3201055505850001",
                         "note": "no.12345678901234567890123", "lat": -7.797068123456789, "n": 123456789012345678}]}),
    '{"a":"x1234567890123456789012"}', "[0.1234567890123456789012, 1.5e300]",
])
def test_loads_keeps_to_orjson_when_no_integer_can_be_beyond_64_bits(monkeypatch: pytest.MonkeyPatch,
                                                                    text: str) -> None:
    expected = json.loads(text)
    monkeypatch.setattr(jsontext, "json", _NoStdlib)
    assert jsontext.loads(text) == expected and jsontext.loads(text.encode()) == expected


@pytest.mark.parametrize("text", ["12345678901234567890", "[-12345678901234567890]", '{"a": 1234567890123456789}',
                                  '{"a":\n\t1234567890123456789}', "[1,2,\r1234567890123456789]"])
def test_loads_leaves_every_possible_big_integer_to_json(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(jsontext, "json", _NoStdlib)
    with pytest.raises(_NoStdlib.Used):
        jsontext.loads(text)
    with pytest.raises(_NoStdlib.Used):
        jsontext.loads(text.encode())


@pytest.mark.parametrize("text", ["", "{", "[1,]", "nul", b"\xff"])
def test_loads_refuses_what_json_refuses(text: str | bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        jsontext.loads(text)


def test_op_hash_unchanged() -> None:
    """A hash computed by an earlier release (plain ``json``) still matches: fixed expected values."""
    fields = {"head_name": "Siti Aminah", "latitude": -7.797068, "longitude": 1e-05, "members": 3, "kk": None}
    assert canonical_json(["households", "h1", "upsert", 0, fields]) == std(
        ["households", "h1", "upsert", 0, fields], sort_keys=True)
    import hashlib
    expected = hashlib.sha256(std(["households", "h1", "upsert", 0, fields], sort_keys=True).encode()).hexdigest()
    assert op_hash("households", "h1", "upsert", 0, fields) == expected


finite_values = hs.recursive(
    hs.none() | hs.booleans() | hs.integers(min_value=-2**70, max_value=2**70) | hs.floats(allow_nan=False,
    allow_infinity=False) | hs.text(alphabet=hs.characters(blacklist_categories=("Cs",))),
    lambda inner: hs.lists(inner, max_size=4) | hs.dictionaries(hs.text(max_size=8), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(finite_values)
def test_stored_text_reads_back_the_same_values(value: Any) -> None:
    text = jsontext.stored_sorted(value)
    assert json.loads(text) == value
    assert text == std(value, sort_keys=True) or jsontext.exact(value) is False  # differs only in float style
