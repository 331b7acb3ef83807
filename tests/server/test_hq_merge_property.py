"""Property: whatever the interleaving of edits and pulls, no value disappears silently.

Three devices (two officers, one supervisor) edit three fields of one household with stale or
fresh bases. After every op: an attempted value that did not land, or a stored value replaced
by a device that had not seen it, must appear as the ``losing_value`` of a new conflict row.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from desmig_server.db import tables as t
from desmig_server.sync.state import decode_fmeta

from .support import V1, Device, Hq, household

FIELDS = ("head_name", "hamlet", "address")
STEP = st.one_of(
    st.tuples(st.just("pull"), st.integers(0, 2)),
    st.tuples(st.just("edit"), st.integers(0, 2), st.sampled_from(FIELDS), st.sampled_from(["v1", "v2", "v3"])),
)


def _state(hq_app: Hq, rid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    row = hq_app.record("households", rid)
    return json.loads(row.data), decode_fmeta(row.fmeta)


def _new_conflicts(hq_app: Hq, after: int) -> list[dict[str, Any]]:
    with hq_app.ctx.db.read() as conn:
        rows = conn.execute(select(t.conflicts).where(t.conflicts.c.id > after)).mappings().all()
    return [{**r, "losing_value": json.loads(r["losing_value"])} for r in rows]


def test_every_overwritten_or_refused_value_is_recorded(hq_app: Hq) -> None:
    devices = [hq_app.user_device("ani", "officer", villages=[V1]), hq_app.user_device("bayu", "officer", villages=[V1]),
               hq_app.user_device("sari", "supervisor", regency="32.01")]
    counter = iter(range(10_000))

    @settings(max_examples=40, deadline=None, database=None)
    @given(steps=st.lists(STEP, min_size=1, max_size=10))
    def run(steps: list[tuple[Any, ...]]) -> None:
        rid = f"h{next(counter)}"
        owner = devices[0]
        [created] = owner.push_ok(owner.op("households", rid, household(head_name="v0", hamlet="v0", address="v0")))
        base = dict.fromkeys(range(3), 0)
        base[0] = created["version"]
        for step in steps:
            dev: Device = devices[step[1]]
            if step[0] == "pull":
                base[step[1]] = hq_app.record("households", rid).version
                continue
            _, idx, key, value = step
            before, fmeta = _state(hq_app, rid)
            last_id = max([c["id"] for c in hq_app.conflicts()], default=0)
            [result] = dev.push_ok(dev.op("households", rid, {key: value}, base=base[idx]))
            after, _ = _state(hq_app, rid)
            new = _new_conflicts(hq_app, last_id)
            writer_version, writer_device, _role = fmeta[key]
            unseen = writer_version > base[idx] and writer_device != dev.device_id
            if after[key] != value:  # the incoming value lost
                assert [(c["field"], c["losing_value"], c["loser_device"]) for c in new] == [
                    (key, value, dev.device_id)]
            elif unseen and before[key] != value:  # it overwrote a value its author never saw
                assert [(c["field"], c["losing_value"], c["winner_device"]) for c in new] == [
                    (key, before[key], dev.device_id)]
            else:
                assert new == []
            if result["status"] == "ok":  # the client rule: rebase only on a clean ack
                base[idx] = result["version"]

    run()
