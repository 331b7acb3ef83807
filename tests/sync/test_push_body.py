"""A push body splices each op's stored fields text (``OutboxOp.wire_text``, ``push_body_text``)
instead of reading the fields and writing them again: the server must read exactly the values
the dict-built body (``wire``, ``push_body``) gives, for any fields an op can hold.
"""

from __future__ import annotations

import gzip
import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from desmig_desktop.domain.ops import op_hash
from desmig_desktop.store import records
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.client import SyncClient

scalars = (hs.none() | hs.booleans() | hs.integers(min_value=-2**80, max_value=2**80)
           | hs.floats(allow_nan=True, allow_infinity=True) | hs.text())
values = hs.recursive(scalars, lambda inner: hs.lists(inner, max_size=3)
                      | hs.dictionaries(hs.text(max_size=6), inner, max_size=3), max_leaves=12)
fields_drawn = hs.dictionaries(hs.text(min_size=1, max_size=12), values, max_size=6)


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values (NaN equal to NaN; an int never equal to a float)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=fields_drawn, kind=hs.sampled_from(["upsert", "delete"]), base_version=hs.integers(0, 2**40),
       version=hs.integers(1, 5), base=hs.integers(0, 3), hashed=hs.booleans())
def test_a_spliced_op_reads_as_the_op_built_from_its_values(db: Any, fields: dict[str, Any], kind: str,
                                                             base_version: int, version: int, base: int,
                                                             hashed: bool) -> None:
    with st.immediate(db):
        seq = records.enqueue(db, "households", "h1", kind, base_version, fields, version)
    [op] = st.take_batch(db, 1, after=seq - 1)
    built = op.wire(base, hashed=hashed)
    assert same(json.loads(op.wire_text(base, hashed=hashed)), built)
    assert same(op.fields, json.loads(json.dumps(fields)))  # what the op holds: its values as JSON keeps them
    assert op.op_hash == op_hash("households", "h1", kind, base_version, fields)


def test_a_push_body_of_spliced_ops_is_the_body_of_the_same_ops_as_values(db: Any) -> None:
    odd = [{"head_name": "Siti", "members": 3}, {"big": 2**70, "tiny": 1e-7, "nan": math.nan, "neg": -0.0},
           {"ü": "ünïcödé \u2028", "nested": {"a": [1, {"b": None}]}}, {}]
    with st.immediate(db):
        for n, fields in enumerate(odd):
            records.enqueue(db, "households", f"h{n}", "upsert", n, fields, 1 + n % 2)
    batch = st.take_batch(db, 10)
    spliced = json.loads(gzip.decompress(SyncClient.push_body_text("dev-1", 3, [op.wire_text(0) for op in batch])))
    built = json.loads(gzip.decompress(SyncClient.push_body("dev-1", 3, [op.wire(0) for op in batch])))
    assert same(spliced, built)
    assert built == {"device_id": "dev-1", "app_schema": 3, "compact": True, "ops": built["ops"]}
    assert len(built["ops"]) == len(odd)
