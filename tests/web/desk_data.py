"""A small HQ for the review-desk tests: two regencies, a conflict in each, users of every role."""

from __future__ import annotations

from typing import Any

from tests.server.support import V1, V_OTHER, Hq, household, member

SUP_REGENCY = "32.01"


def seed(hq: Hq) -> dict[str, Any]:
    """Users pusat (hq), sup (32.01), sup2 (33.02), ofc and ofc2 (both on V1), ofc3 (V_OTHER);
    households h1 (V1, a member without head) and h2 (V_OTHER, with head); one open conflict in
    each village (an officer's head_name losing to a later officer's), one rejected op in V1."""
    boss = hq.user_device("pusat", "hq")
    hq.add_user("sup", "supervisor", regency=SUP_REGENCY)
    hq.add_user("sup2", "supervisor", regency="33.02")
    a = hq.user_device("ofc", "officer", villages=[V1])
    b = hq.user_device("ofc2", "officer", villages=[V1])
    c = hq.user_device("ofc3", "officer", villages=[V_OTHER])
    boss.push_ok(boss.op("households", "h1", household(V1, head_name="Budi Santoso", kk_number="3201010101010001")),
                 boss.op("members", "m1", member("h1", nik="3201014101900001")),
                 boss.op("households", "h2", household(V_OTHER, head_name="Ahmad Dahlan")),
                 boss.op("members", "m2", member("h2", relationship="kepala", name="Ahmad Dahlan")))
    ids: dict[str, int] = {}
    for first, second, hid in ((a, b, "h1"), (c, c, "h2")):
        first.pull_all(V1 if hid == "h1" else V_OTHER)
        if first is second:  # one officer on V_OTHER: HQ's later edit makes the clash
            first.push_ok(first.op("households", hid, {"head_name": "Nama Petugas"}))
            boss.push_ok(boss.op("households", hid, {"head_name": "Nama HQ"}, base=0))
        else:
            second.pull_all(V1)
            second.push_ok(second.op("households", hid, {"head_name": "Nama Kedua"}))
            first.push_ok(first.op("households", hid, {"head_name": "Nama Pertama"}))
    for row in hq.conflicts():
        ids[row["scope"]] = int(row["id"])
    a.push_ok(a.op("members", "m1", {"sex": "X"}))  # rejected, never fixed
    return {"conflict_v1": ids[V1], "conflict_other": ids[V_OTHER], "devices": {"ofc": a, "ofc2": b, "ofc3": c}}
