"""Property (issue 13 §1): a record that leaves a scope is sent to that scope once, as a move-out
notice without data, and never again; its new scope gets it with all its children.

HQ writes random batches of creates, edits, household moves and member re-parentings among
three villages in two regencies (several moves per batch, moves back, moves between regencies).
Officers of each village and the supervisors of both regencies pull at random moments in small
pages. Every page of every scope is checked against an independent model of where each record
(version) lives; each device also keeps an abstract copy, applying notices the way the desktop
does (drop a copy older than the notice), which must end equal to the server's scope contents.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from desmig_server.db import tables as t

from .support import V1, V3, V_OTHER, Device, Hq, household, member, placement

VILLAGES = (V1, V3, V_OTHER)  # V1 and V3: regency 32.01; V_OTHER: regency 33.02
Key = tuple[str, str]

STEP = st.one_of(
    st.tuples(st.just("household"), st.integers(0, 2)),
    st.tuples(st.just("member"), st.integers(0, 9)),
    st.tuples(st.just("placement"), st.integers(0, 9)),
    st.tuples(st.just("business"), st.integers(0, 9)),
    st.tuples(st.just("edit"), st.sampled_from(["households", "members", "placements", "businesses"]),
              st.integers(0, 9)),
    st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, 2)),
    st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, 2)),
    st.tuples(st.just("reparent"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("push"), st.just(0)),
    st.tuples(st.just("pull"), st.integers(0, 4)),
)
# Every example starts from one household per village, with a member, a placement and a business
# among them, committed and pulled by everyone, so the random steps have something to move.
PROLOGUE: list[tuple[Any, ...]] = [("household", 0), ("household", 1), ("household", 2), ("member", 0), ("member", 2),
                                   ("placement", 0), ("business", 1), ("push", 0), *(("pull", i) for i in range(5))]


@dataclass
class Reader:
    """A device of one scope set, pulling in small pages; ``held`` is its abstract local copy."""

    device: Device
    scopes: tuple[str, ...]
    cursors: dict[str, int] = field(default_factory=dict)
    held: dict[Key, int] = field(default_factory=dict)
    notices: Counter[tuple[str, Key]] = field(default_factory=Counter)


@dataclass
class Model:
    """Where each record is, as HQ's pushes say (committed) and as the open batch says."""

    parent: dict[Key, Key | None] = field(default_factory=dict)  # child -> parent record
    village: dict[Key, str] = field(default_factory=dict)  # households only
    where: dict[tuple[str, str, int], str] = field(default_factory=dict)  # (entity, id, version) -> village
    leaves: Counter[tuple[str, Key]] = field(default_factory=Counter)  # (old village, record) -> moves out

    def village_of(self, key: Key) -> str:
        while key[0] != "households":
            parent = self.parent[key]
            assert parent is not None
            key = parent
        return self.village[key]

    def ids(self, entity: str) -> list[Key]:
        return [k for k in self.parent if k[0] == entity]


def _server_scopes(hq_app: Hq, prefix: str) -> dict[Key, tuple[str, int]]:
    """This example's records on the server: scope and version."""
    with hq_app.ctx.db.read() as conn:
        rows = conn.execute(select(t.records.c.entity, t.records.c.id, t.records.c.version, t.records.c.scope)
                            .where(t.records.c.id.startswith(prefix))).all()
    return {(r.entity, r.id): (r.scope, int(r.version)) for r in rows}


def _versions(hq_app: Hq, prefix: str) -> dict[Key, int]:
    return {key: version for key, (_scope, version) in _server_scopes(hq_app, prefix).items()}


def _check_page(reader: Reader, scope: str, page: dict[str, Any], model: Model, prefix: str,
                now: dict[Key, int]) -> None:
    for rec in page["records"]:
        key = (rec["entity"], rec["id"])
        if not rec["id"].startswith(prefix):
            continue  # an earlier example's record (none change after it ends)
        if rec.get("moved_out"):
            assert (rec["data"], rec["deleted"], rec["version"]) == ({}, True, rec["server_seq"]), rec
            # below every version of the record in its new scope: a copy from there stays (also on
            # a client that predates notices and takes one for a deletion at that version)
            assert rec["version"] < now[key], (rec, now[key])
            reader.notices[(scope, key)] += 1
            if key in reader.held and reader.held[key] < rec["version"]:
                del reader.held[key]  # the desktop's rule (store.sync_pull._drop_moved_out)
            continue
        lives = model.where[(rec["entity"], rec["id"], rec["version"])]
        assert lives == scope, f"{key} v{rec['version']} (village {lives}) delivered to scope {scope}"
        if rec["entity"] == "households":
            assert rec["data"]["village_code"] == scope
        if reader.held.get(key, -1) < rec["version"]:
            reader.held[key] = rec["version"]


def _pull(reader: Reader, hq_app: Hq, model: Model, prefix: str) -> None:
    now = _versions(hq_app, prefix)  # nothing is written while a device pulls
    for scope in reader.scopes:
        while True:
            page = reader.device.pull(scope, since=reader.cursors[scope], limit=2)
            _check_page(reader, scope, page, model, prefix, now)
            reader.cursors[scope] = page["next"]
            if not page["more"]:
                break


def test_a_moved_record_reaches_its_old_scope_once_as_a_notice_and_never_again(hq_app: Hq) -> None:
    writer = hq_app.user_device("pusat", "hq")
    readers = [Reader(hq_app.user_device(f"ofc{i}", "officer", villages=[v]), (v,)) for i, v in enumerate(VILLAGES)]
    readers.append(Reader(hq_app.user_device("spv1", "supervisor", regency="32.01"), (V1, V3)))
    readers.append(Reader(hq_app.user_device("spv2", "supervisor", regency="33.02"), (V_OTHER,)))
    examples = count()

    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=st.lists(STEP, min_size=1, max_size=30))
    def run(steps: list[tuple[Any, ...]]) -> None:
        prefix = f"x{next(examples)}-"
        with hq_app.ctx.db.read() as conn:
            start = int(conn.execute(select(t.seq_counter.c.value)).scalar_one())
        for reader in readers:
            reader.cursors = dict.fromkeys(reader.scopes, start)
            reader.held, reader.notices = {}, Counter()
        model = Model()
        pending: list[dict[str, Any]] = []
        before = Model()  # the committed state when the open batch began
        names = count()

        def push() -> None:
            nonlocal before
            if not pending:
                return
            committed = {k: before.village_of(k) for k in before.parent}
            results = writer.push_ok(*pending)
            assert all(r["status"] == "ok" for r in results), results
            pending.clear()
            for key, old in committed.items():
                if model.village_of(key) != old:
                    model.leaves[(old, key)] += 1
            for (entity, rid), version in _versions(hq_app, prefix).items():
                model.where[(entity, rid, version)] = model.village_of((entity, rid))
            before = Model(dict(model.parent), dict(model.village))

        for step in [*PROLOGUE, *steps]:
            kind = step[0]
            households, members = model.ids("households"), model.ids("members")
            n = next(names)
            if kind == "household":
                key = ("households", f"{prefix}h{n}")
                model.parent[key], model.village[key] = None, VILLAGES[step[1]]
                pending.append(writer.op(*key, household(VILLAGES[step[1]], head_name=f"Kepala {n}")))
            elif kind in ("member", "business") and households:
                parent = households[step[1] % len(households)]
                key = (f"{kind}s" if kind == "member" else "businesses", f"{prefix}{kind[0]}{n}")
                model.parent[key] = parent
                fields = member(parent[1], name=f"Anggota {n}") if kind == "member" else {
                    "household_id": parent[1], "name": f"Usaha {n}", "kbli_category": "G", "status": "aktif"}
                pending.append(writer.op(*key, fields))
            elif kind == "placement" and members:
                parent = members[step[1] % len(members)]
                key = ("placements", f"{prefix}p{n}")
                model.parent[key] = parent
                pending.append(writer.op(*key, placement(parent[1])))
            elif kind == "edit" and model.ids(step[1]):
                key = model.ids(step[1])[step[2] % len(model.ids(step[1]))]
                text_field = {"households": "head_name", "members": "name", "placements": "agency_name",
                              "businesses": "name"}[key[0]]
                pending.append(writer.op(*key, {text_field: f"Ubah {n}"}))
            elif kind == "move" and households:
                key = households[step[1] % len(households)]
                model.village[key] = VILLAGES[step[2]]
                pending.append(writer.op(*key, {"village_code": VILLAGES[step[2]]}))
            elif kind == "reparent" and members and households:
                key = members[step[1] % len(members)]
                model.parent[key] = households[step[2] % len(households)]
                pending.append(writer.op(*key, {"household_id": model.parent[key][1]}))  # type: ignore[index]
            elif kind == "push":
                push()
            elif kind == "pull":
                _pull(readers[step[1]], hq_app, model, prefix)
        push()
        server = _server_scopes(hq_app, prefix)
        for reader in readers:
            _pull(reader, hq_app, model, prefix)
            # each old scope got exactly one notice per move out, and the copy equals the scope's records
            for scope in reader.scopes:
                got = {k: c for (s, k), c in reader.notices.items() if s == scope}
                assert got == {k: c for (s, k), c in model.leaves.items() if s == scope}, scope
            assert reader.held == {k: v for k, (s, v) in server.items() if s in reader.scopes}

    run()
