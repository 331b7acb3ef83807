"""Properties of push under hostile bodies (issue 13 §2, §4).

§2: any JSON value (any type, nesting, huge numbers, lone surrogates, very long strings) in any
field of any entity, or as a field key, gets a clean answer: 2xx or 4xx, never 5xx; the server
keeps answering; a refused op (rejected, or a 4xx request) changes no row count.

§4: a rejection reason names only known field keys and the rules' fixed texts, never client
text, and is bounded in length (``apply.REASON_MAX``).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from desmig_desktop.domain.fields import ENTITIES, PROGRAMME_ENTITIES
from desmig_server.db import tables as t
from desmig_server.sync.apply import REASON_MAX

from .support import (
    V1,
    Device,
    Hq,
    attendance,
    business,
    business_support,
    cooperative,
    cooperative_business,
    cooperative_member,
    household,
    make_op,
    member,
    officer_activity,
    parenting_activity,
    placement,
    programme_ops,
    service,
    village_profile,
)

CATALOGS = Path(__file__).resolve().parents[2] / "resources" / "i18n"
BASES = {
    "households": lambda: household(),
    "members": lambda: member("h0"),
    "placements": lambda: placement("m0"),
    "businesses": lambda: business("h0"),
    "village_profiles": lambda: village_profile(),
    "services": lambda: service(member_id="m0"),
    "business_supports": lambda: business_support("b0"),
    "parenting_activities": lambda: parenting_activity(),
    "parenting_attendance": lambda: attendance("pa", "m0"),
    "cooperatives": lambda: cooperative(),
    "cooperative_members": lambda: cooperative_member("co", "m0"),
    "cooperative_businesses": lambda: cooperative_business("co", "b0"),
    "officer_activities": lambda: officer_activity(),
}
assert set(BASES) == set(ENTITIES), "a base record of every entity"
PROGRAMME = {e.name for e in PROGRAMME_ENTITIES}
ALL_KEYS = sorted({k for spec in ENTITIES.values() for k in spec.keys})

# Any Unicode code point, lone surrogates included (Hypothesis leaves category Cs out by default).
any_char = st.characters(blacklist_categories=())
hostile_text = st.one_of(
    st.text(any_char, max_size=40),
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "x" * 100_000, "9" * 5000, "１２３", "1e400", "NaN", "-0",
                     "33.02.01.2001", "32.01.01.1001\n", "ZZ", "  "]),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(),
    st.integers(min_value=-10**4000, max_value=10**4000),  # json.dumps writes at most 4,300 digits
    st.floats(),  # NaN and infinities too: the standard JSON reader accepts them
    hostile_text,
)
json_values = st.one_of(
    st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                 | st.dictionaries(hostile_text, inner, max_size=4), max_leaves=10),
    st.integers(1, 400).map(lambda depth: json.loads("[" * depth + "1" + "]" * depth)),  # deep nesting
)


def _counts(hq_app: Hq) -> tuple[int, ...]:
    with hq_app.ctx.db.read() as conn:
        return tuple(conn.execute(select(func.count()).select_from(table)).scalar_one()
                     for table in (t.records, t.record_history, t.conflicts))


def _send(dev: Device, op: dict[str, Any]) -> Any:
    # json.dumps escapes lone surrogates (ensure_ascii) and writes NaN/Infinity, as a client could
    body = json.dumps({"device_id": dev.device_id, "app_schema": 1, "ops": [op]}).encode()
    return dev.client.post("/v1/sync/push", content=body,
                           headers={**dev.headers, "Content-Type": "application/json"})


def _world(hq_app: Hq) -> Device:
    dev = hq_app.user_device("ofc", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h0", household()), dev.op("members", "m0", member("h0")),
                dev.op("households", "he", household()), dev.op("businesses", "b0", business("h0")))
    dev.push_ok(*programme_ops(dev, V1, "m0", "b0")[0])  # the programme's records (issue 15): "pa", "co", ...
    return dev


def _push_one(hq_app: Hq, dev: Device, op: dict[str, Any]) -> dict[str, Any] | None:
    """Push ``op``; check the §2 properties; the op's result when the request was accepted."""
    before = _counts(hq_app)
    response = _send(dev, op)
    assert response.status_code < 500, response.text
    assert hq_app.client.get("/v1/sync/hello", headers=dev.headers).status_code == 200  # still answering
    if response.status_code >= 400:
        assert _counts(hq_app) == before  # a refused request stores nothing
        return None
    assert response.status_code == 200, response.text
    dev.next_seq += 1
    [result] = response.json()["results"]
    assert result["status"] in ("ok", "merged", "conflict", "rejected")
    if result["status"] == "rejected":
        assert _counts(hq_app) == before  # consumed, nothing stored
    elif result["version"]:
        dev.versions[(op["entity"], op["id"])] = result["version"]
    return dict(result)


def test_any_json_value_in_any_field_gets_a_clean_answer(hq_app: Hq) -> None:
    dev = _world(hq_app)
    ids = itertools.count()

    @settings(max_examples=150, deadline=None, database=None)
    @given(entity=st.sampled_from(sorted(BASES)), key=st.one_of(st.sampled_from(ALL_KEYS), hostile_text),
           value=json_values, edit=st.booleans())
    def run(entity: str, key: str, value: Any, edit: bool) -> None:
        if edit:  # an edit of an existing household (a rejection touches it but adds no row)
            entity, record_id, fields = "households", "he", {key: value}
        else:
            record_id, fields = f"f{next(ids)}", {**BASES[entity](), key: value}
        op = make_op(dev.next_seq, entity, record_id, fields, base=dev.versions.get((entity, record_id), 0))
        _push_one(hq_app, dev, op)

    run()


# One of each kind the issue names, for the sweep below: surrogates, huge and out-of-range numbers,
# non-finite floats, very long strings, deep and odd nesting, wrong types.
HOSTILE_VALUES: list[Any] = [
    "\ud800", "a\udfffb", 10**400, -(10**309), 2**63, -(2**63) - 1, float("nan"), float("-inf"), 1.5e308,
    "x" * 100_000, "9" * 5000, json.loads("[" * 300 + "1" + "]" * 300), {"\ud800": [1, {"a": None}]}, [], True,
]
HOSTILE_KEYS = ["\ud800", "k" * 100_000, "", "nik\x00", "__proto__"]


def test_every_field_of_every_entity_and_odd_keys_get_a_clean_answer(hq_app: Hq) -> None:
    """The property above draws fields at random; this sweep leaves none out: each field of each
    entity (and some odd keys) with each hostile value, in a new record and in an edit of an
    existing one — 2xx/4xx only, the server answering, no row count changed by a refused op."""
    dev = _world(hq_app)
    dev.push_ok(dev.op("placements", "p0", placement("m0")))
    programme = {entity: record_id for (entity, record_id) in dev.versions if entity in PROGRAMME}
    existing = {"households": "he", "members": "m0", "placements": "p0", "businesses": "b0", **programme}
    assert set(existing) == set(ENTITIES)
    ids = itertools.count()
    statuses: Counter[str] = Counter()
    for entity, spec in sorted(ENTITIES.items()):
        cases = [(key, value) for key in spec.keys for value in HOSTILE_VALUES]
        cases += [(key, "v") for key in HOSTILE_KEYS]
        for key, value in cases:
            for record_id, fields in ((f"w{next(ids)}", {**BASES[entity](), key: value}),
                                      (existing[entity], {key: value})):
                op = make_op(dev.next_seq, entity, record_id, fields,
                             base=dev.versions.get((entity, record_id), 0))
                result = _push_one(hq_app, dev, op)
                statuses["refused" if result is None else result["status"]] += 1
    assert statuses["rejected"] > statuses["ok"] + statuses["merged"], statuses  # the values are hostile


def test_lone_surrogates_and_huge_numbers_are_rejected_per_op(hq_app: Hq) -> None:
    """The two 500s of the report, by name: each op consumed as a rejection, the batch applied."""
    dev = _world(hq_app)
    cases = [household(head_name="\ud800"), {**household(), "\udfff": "x"}, household(latitude=10**400),
             household(longitude=-(10**309)), household(notes="a" * 10 + "\ud83d")]
    ops = [dev.op("households", f"s{n}", fields) for n, fields in enumerate(cases)]
    ops.append(dev.op("households", "fine", household()))
    body = json.dumps({"device_id": dev.device_id, "app_schema": 1, "ops": ops}).encode()
    response = hq_app.client.post("/v1/sync/push", content=body, headers={**dev.headers, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["rejected"] * len(cases) + ["ok"]
    assert response.json()["last_op_seq"] == ops[-1]["op_seq"]
    assert hq_app.record("households", "fine") is not None and hq_app.record("households", "s0") is None


# Integers beyond 64 bits, and the edges of the 64-bit range (orjson keeps those as integers).
BIG_INTEGERS = [2**64, -(2**63) - 1, 10**30, -(10**25), 2**63 - 1, 2**64 - 1, -(2**63)]


def test_a_push_body_is_read_as_json_reads_it(hq_app: Hq) -> None:
    """The body goes through ``jsontext.loads`` (``api.body.JsonRoute``), which must read what
    ``json.loads`` reads. orjson alone reads an integer beyond 64 bits as a float: the op's hash
    would no longer be the one its client sent (a 400 for the whole push), and a text answer
    would be stored as ``1.8446744073709552e+19``."""
    dev = _world(hq_app)
    ops = [dev.op("households", f"big{n}", household(hamlet=value)) for n, value in enumerate(BIG_INTEGERS)]
    response = dev.push(*ops)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["ok"] * len(BIG_INTEGERS)
    for n, value in enumerate(BIG_INTEGERS):  # a number given for a text answer is kept as its digits
        assert hq_app.data("households", f"big{n}")["hamlet"] == str(value)


def _known_texts() -> str:
    """Every text a reason may legitimately hold: field keys, catalog messages, rule bounds."""
    parts: list[str] = list(ALL_KEYS)
    for path in CATALOGS.glob("*.json"):
        for msgid, text in json.loads(path.read_text(encoding="utf-8")).items():
            parts += [msgid, text]
    for spec in ENTITIES.values():
        for f in spec.fields:
            parts += [str(v) for v in (f.minimum, f.maximum, f.max_length, f.length) if v is not None]
            parts += [str(int(v)) for v in (f.minimum, f.maximum) if isinstance(v, float) and v.is_integer()]
            parts += list(f.choice_values)
    return "\n".join(parts)


def _client_texts(fields: dict[str, Any]) -> list[str]:
    out: list[str] = []
    stack: list[Any] = [fields]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack += list(value.keys()) + list(value.values())
        elif isinstance(value, list):
            stack += value
        elif isinstance(value, str):
            out.append(value)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**4000:
            out.append(str(value))
        elif isinstance(value, float) and math.isfinite(value):
            out.append(repr(value))
    return out


def test_rejection_reasons_never_echo_client_text(hq_app: Hq) -> None:
    dev = _world(hq_app)
    known = _known_texts()
    ids = itertools.count()
    text_values = st.one_of(hostile_text, st.integers(), st.floats(allow_nan=False),
                            st.lists(hostile_text, max_size=3))

    @settings(max_examples=150, deadline=None, database=None)
    @given(entity=st.sampled_from(sorted(BASES)),
           hostile=st.dictionaries(st.one_of(st.sampled_from(ALL_KEYS), hostile_text), text_values,
                                   min_size=1, max_size=4))
    def run(entity: str, hostile: dict[str, Any]) -> None:
        fields = {**BASES[entity](), **hostile}
        op = make_op(dev.next_seq, entity, f"r{next(ids)}", fields)
        result = _push_one(hq_app, dev, op)
        if result is None or result["status"] != "rejected":
            return
        reason = result["reason"]
        assert isinstance(reason, str) and 0 < len(reason) <= REASON_MAX
        for text in _client_texts(hostile):
            probe = text.strip()
            if len(probe) >= 4 and probe not in known:
                assert probe not in reason, (probe[:40], reason[:200])

    run()


def test_a_huge_unknown_key_gives_a_short_reason(hq_app: Hq) -> None:
    dev = _world(hq_app)
    [result] = dev.push_ok(dev.op("households", "big", {**household(), "k" * 1_000_000: "v",
                                                          "country": "ZZ-<script>"}))
    assert result["status"] == "rejected"
    assert len(result["reason"]) <= 100 and "kkkk" not in result["reason"]
    [result] = dev.push_ok(dev.op("placements", "p1", placement("m0", country="ZZ-<script>")))
    assert result["status"] == "rejected" and "script" not in result["reason"]
    assert result["reason"].startswith("country: ")  # a known key is named
