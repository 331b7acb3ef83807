"""A push prepared by worker processes answers and stores exactly what an inline push does
(issue 21 §2, ``desmig_server.sync.prepare``).

The same pushes go to an HQ that applies everything on the request's thread and to one whose
workers hash and validate the ops (chunks of 3, so every push crosses chunk boundaries): a table
of hostile and edge cases (a village that does not exist, ops outside the scope, unstorable
text, unknown keys, derived fields, a later questionnaire version and an unknown one, a missing
parent, an edit of a record created earlier in the same push, a delete, replays, client hashes
right and wrong), and a Hypothesis property over any JSON value in any field. Negative
controls: the two shortcuts a wrong ordered path could take are caught; a killed worker only
costs speed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from desmig_desktop.domain.questionnaire import bundled_document
from desmig_server import questionnaires
from desmig_server.db import tables as t
from desmig_server.settings import Settings
from desmig_server.sync import apply as apply_module
from desmig_server.sync import push as push_module
from desmig_server.sync.models import PushOp
from desmig_server.sync.prepare import Preparation, Prepared, PreparePool, prepare_one, wire_tuple
from desmig_server.sync.state import Rec, WorkingSet

from .conftest import fresh_db_url, open_hq
from .support import (
    V1,
    V2,
    V_OTHER,
    Device,
    Hq,
    business,
    household,
    make_op,
    member,
    placement,
    programme_ops,
    reset_data,
)
from .test_hq_push_hostile import ALL_KEYS, BASES, hostile_text, json_values

INLINE = Settings(argon2_fast=True, push_prepare_processes=0, push_write_every=0)
# With workers, the rows are also written every two ops (``WorkingSet.write_changes``), so every
# comparison with INLINE (which writes once, at the end) checks that too.
WORKERS = Settings(argon2_fast=True, push_prepare_processes=1, push_prepare_min_ops=1, push_prepare_chunk=3,
                   push_write_every=2)
WRITING_EACH_OP = Settings(argon2_fast=True, push_prepare_processes=0, push_write_every=1)
MISSING_VILLAGE = "32.01.01.1999"  # the shape of a village code, in no region table


def _v2(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    next(e for e in doc["entities"] if e["name"] == "households")["fields"].append(
        {"key": "training", "label": {"id": "Pelatihan", "en": "Training"}, "kind": "bool"})
    return doc


def _body(dev: Device, ops: list[dict[str, Any]], *, hashed: bool) -> bytes:
    sent = [op if hashed else {k: v for k, v in op.items() if k != "op_hash"} for op in ops]
    # json.dumps writes lone surrogates escaped and NaN/Infinity, as a client could
    return json.dumps({"device_id": dev.device_id, "app_schema": 1, "ops": sent}).encode()


def _send(dev: Device, ops: list[dict[str, Any]], *, hashed: bool = False) -> tuple[int, Any]:
    response = dev.client.post("/v1/sync/push", content=_body(dev, ops, hashed=hashed),
                               headers={**dev.headers, "Content-Type": "application/json"})
    return response.status_code, response.json()


def _stored(hq: Hq) -> list[tuple[Any, ...]]:
    """What the pushes left: records, history, conflicts and applied ops (ids and times aside)."""
    with hq.ctx.db.read() as conn:
        records = [(r.entity, r.id, r.scope, r.parent_id, r.version, r.deleted, json.loads(r.data), r.echo_op)
                   for r in conn.execute(select(t.records))]
        history = [(r.entity, r.record_id, r.scope, r.version, r.op_seq, r.outcome, r.changes)
                   for r in conn.execute(select(t.record_history))]
        conflicts = [(r.entity, r.record_id, r.field, r.kind, r.winning_value, r.losing_value, r.version)
                     for r in conn.execute(select(t.conflicts))]
        applied = [(r.op_seq, r.op_hash, r.entity, r.record_id, r.result, r.version, r.reason, r.clashes)
                   for r in conn.execute(select(t.applied_ops))]
        exits = [("exit", r.scope, r.server_seq, r.entity, r.record_id) for r in conn.execute(select(t.scope_exits))]
    return sorted(map(repr, records + history + conflicts + applied + exits))  # type: ignore[arg-type]


def _scenario(hq: Hq) -> list[Any]:
    """The table of cases, pushed as a device would: the answers and what was stored."""
    dev = hq.user_device("ani", "officer", villages=[V1, V2])
    questionnaires.publish(hq.ctx.db, _v2(bundled_document()), by="admin")

    def v(op: dict[str, Any], version: int) -> dict[str, Any]:
        return {**op, "questionnaire_version": version}

    first = [
        dev.op("households", "h1", household()),
        dev.op("members", "m1", member("h1", nik="3201014107900001", birth_date="1990-07-01")),
        dev.op("members", "m2", member("h1", nik="12")),  # a hard NIK error
        dev.op("placements", "p1", placement("m1", departed_on="2020-01-02", returned_on="2019-01-01")),
        dev.op("businesses", "b1", business("h1", umkm_class="besar")),  # a derived field sent: recomputed
        dev.op("households", "h2", household(MISSING_VILLAGE)),  # the worker cannot know: confirmed in order
        dev.op("households", "h3", household(V_OTHER)),  # outside the caller's villages
        dev.op("households", "h4", household(head_name="Bu\x00di")),  # unstorable
        dev.op("households", "h5", {**household(), "zzz": 1}),  # a key no version has
        dev.op("households", "h6", household(consent=False)),
        dev.op("households", "h7", household(visited_on="2999-01-01", latitude=float("inf"))),
        v(dev.op("households", "h8", household(training=True)), 2),
        v(dev.op("households", "h9", household(training=True)), 1),  # a v2 question in a v1 op
        v(dev.op("households", "h10", household()), 99),  # a version HQ never published
        dev.op("members", "m3", member("h404")),  # no such parent
        dev.op("members", "m2", kind="delete"),  # never stored
        dev.op("households", "h1", {"head_name": "Budi Baru"}, base=0),  # an edit of h1, created above
        dev.op("members", "m1", {"name": "Siti A."}, base=0),
    ]
    first += programme_ops(dev, V1, "m1", "b1")[0]
    out: list[Any] = [_send(dev, first)]
    second = [dev.op("households", "h1", household(V2, head_name="Pindah")),  # a move, with its children
              dev.op("households", "h2", household()), dev.op("members", "m1", kind="delete")]
    out.append(_send(dev, second, hashed=True))
    out.append(_send(dev, first))  # a replay of the first push: answered as the first time
    wrong = dev.op("households", "h11", household())
    out.append(_send(dev, [wrong, {**dev.op("households", "h12", household()), "op_hash": "0" * 64}], hashed=True))
    out.append(_send(dev, [wrong]))
    return [*out, _stored(hq)]


def _moves(hq: Hq) -> list[Any]:
    """Moves and edits of records inside one push, where rows are written between the ops: a
    household moved away and back (no move-out notice: the villages that pulled it still hold it),
    one moved once and then edited, a member re-parented into the moved household, a delete."""
    dev = hq.user_device("budi", "officer", villages=[V1, V2])
    setup = [dev.op("households", "h1", household()), dev.op("members", "m1", member("h1")),
             dev.op("businesses", "b1", business("h1")), dev.op("households", "h2", household()),
             dev.op("members", "m2", member("h2")), dev.op("households", "h3", household())]
    out: list[Any] = [_send(dev, setup)]
    # HQ corrects h2 after budi's last pull: budi's edit of h2 below loses to it (a conflict with an id)
    other = hq.user_device("pusat", "hq")
    out.append(_send(other, [other.op("households", "h2", {"head_name": "Koreksi HQ", "notes": "x"}, base=0)]))
    moves = [dev.op("households", "h2", {"head_name": "Budi Lagi", "notes": "y"}),
             dev.op("households", "h1", household(V2)),
             dev.op("members", "m1", {"name": "Siti Pindah"}),
             dev.op("households", "h1", household(V1, head_name="Kembali")),
             dev.op("households", "h2", household(V2)),
             dev.op("households", "h2", {"head_name": "Sudah Pindah"}),
             dev.op("members", "m2", member("h1", name="Ikut h1")),
             dev.op("households", "h4", household(V2)),
             dev.op("households", "h4", household(V1)),
             dev.op("households", "h3", kind="delete")]
    out.append(_send(dev, moves))
    return [*out, _stored(hq)]


def _tables(hq: Hq) -> list[Any]:
    return [*_scenario(hq), *_moves(hq)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _run(backend: str, request: pytest.FixtureRequest, folder: Path, hq_settings: Settings,
         scenario: Callable[[Hq], list[Any]] = _scenario) -> tuple[list[Any], int]:
    """The scenario on a clean database, with the number of validations done on the ordered path."""
    folder.mkdir(exist_ok=True)
    url = fresh_db_url(backend, request, folder)
    calls = 0
    inline = apply_module.validate

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return inline(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(apply_module, "validate", counted)
        for hq in open_hq(url, hq_settings):
            try:
                return scenario(hq), calls
            finally:
                with hq.ctx.db.write() as conn:
                    reset_data(conn)
    raise AssertionError("unreachable")


def test_a_prepared_push_answers_and_stores_what_an_inline_push_does(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    expected, inline_calls = _run(backend, request, tmp_path / "a", INLINE)
    got, ordered_calls = _run(backend, request, tmp_path / "b", WORKERS)
    assert got == expected
    statuses = [r["status"] for r in expected[0][1]["results"]]
    assert statuses.count("rejected") >= 11 and statuses.count("ok") >= 12, statuses  # the table tests both
    assert expected[3][0] == 400 and expected[4][0] == 200  # a wrong client hash refuses its whole push
    # the work moved: the new records of the first push were validated by the workers
    assert ordered_calls <= inline_calls - 12, (ordered_calls, inline_calls)


@pytest.mark.parametrize("shortcut", ["villages_not_confirmed", "prepared_for_a_stored_record"])
def test_the_comparison_catches_a_wrong_ordered_path(
        shortcut: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Negative controls: taking a worker's validation without confirming its villages, or for a
    record stored before the op's turn (its merged record is not the op's fields), changes answers."""
    expected, _ = _run("sqlite", request, tmp_path / "a", INLINE)
    with pytest.MonkeyPatch.context() as patch:
        if shortcut == "villages_not_confirmed":
            patch.setattr(apply_module.OpApplier, "_confirmed", lambda self, prepared: True)
        else:
            patch.setattr(apply_module.OpApplier, "_validated", _always_prepared(apply_module.OpApplier._validated))
        got, _ = _run("sqlite", request, tmp_path / "b", WORKERS)
    assert got != expected


def test_rows_written_as_the_push_goes_are_what_one_write_at_the_end_gives(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """``push_write_every``: the records, history and applied-op rows written between the ops of a
    push (here after each op) leave exactly the answers and rows of one write after the last op."""
    expected, _ = _run(backend, request, tmp_path / "a", INLINE, _tables)
    got, _ = _run(backend, request, tmp_path / "b", WRITING_EACH_OP, _tables)
    assert got == expected
    assert any("exit" in row for row in expected[-1]), "the moves table moves a record out of a village"


def _dirty_left_by_write_points(request: pytest.FixtureRequest, folder: Path) -> tuple[list[int], list[Any]]:
    """The ``_tables`` scenario writing after each op, with the records each write point left dirty."""
    left: list[int] = []
    write_changes = WorkingSet.write_changes

    def checked(self: WorkingSet) -> int:
        written = write_changes(self)
        left.append(sum(1 for r in self._recs.values() if r is not None and r.dirty))
        return written

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WorkingSet, "write_changes", checked)
        got, _ = _run("sqlite", request, folder, WRITING_EACH_OP, _tables)
    return left, got


def test_each_write_point_writes_every_record_changed_so_far(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A write point writes the records that became dirty (``Rec.sink``), not by looking at every
    record the push has read; none is left for ``flush``'s last look."""
    left, _ = _dirty_left_by_write_points(request, tmp_path)
    assert len(left) > 20 and not any(left), left


def test_the_write_point_check_catches_a_stamp_that_skips_the_sink(request: pytest.FixtureRequest,
                                                                   tmp_path: Path) -> None:
    """Negative control: a ``stamp`` that does not add the record to the sink leaves edited records
    to ``flush`` (whose last look still writes them: the rows are the same)."""
    expected, _ = _run("sqlite", request, tmp_path / "a", INLINE, _tables)

    def stamp(self: Rec, version: int, now: str) -> None:
        self.version, self.updated_at, self.dirty = version, now, True
        self.echo_device = self.echo_op = None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rec, "stamp", stamp)
        left, got = _dirty_left_by_write_points(request, tmp_path / "b")
    assert any(left)
    assert got == expected


def test_the_comparison_catches_an_answer_stored_before_its_conflict_ids(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Negative control: an ``applied_ops`` row written with its chunk although its answer reports
    conflicts keeps them without their ids, so a replay would be answered differently."""
    expected, _ = _run("sqlite", request, tmp_path / "a", INLINE, _tables)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(push_module, "_final", lambda outcome: True)
        got, _ = _run("sqlite", request, tmp_path / "b", WRITING_EACH_OP, _tables)
    assert got != expected


def test_the_comparison_catches_a_write_that_takes_the_written_scope_as_committed(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Negative control: a write between ops that also took each record's new scope as the one
    devices last pulled tells a village of a move-out of a record it never held."""
    expected, _ = _run("sqlite", request, tmp_path / "a", INLINE, _tables)
    write_changes = WorkingSet.write_changes

    def committing(self: WorkingSet) -> int:
        written = write_changes(self)
        self._settle_scopes()  # what only ``flush`` may do
        return written

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WorkingSet, "write_changes", committing)
        got, _ = _run("sqlite", request, tmp_path / "b", WRITING_EACH_OP, _tables)
    assert got != expected


def _always_prepared(validated: Callable[..., Any]) -> Callable[..., Any]:
    def validated_with(self: Any, op: Any, rec: Any, raw: Any, fields: Any, questionnaire: Any, parent: Any,
                       prepared: Prepared | None) -> Any:
        if prepared is not None and prepared.values is not None:
            return validated(self, op, None, raw, fields, questionnaire, parent, prepared)
        return validated(self, op, rec, raw, fields, questionnaire, parent, prepared)
    return validated_with


def _worker_pids(hq: Hq) -> list[int]:
    assert hq.ctx.prepare is not None
    hq.ctx.prepare.give_back(hq.ctx.prepare.take(), [])  # the workers are started
    pids = hq.ctx.prepare.pids()
    assert len(pids) == 1
    return pids


def test_a_killed_worker_costs_speed_not_answers(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    expected, _ = _run("sqlite", request, tmp_path / "a", INLINE)

    def killed_first(hq: Hq) -> list[Any]:
        for pid in _worker_pids(hq):
            os.kill(pid, signal.SIGKILL)
        return _scenario(hq)

    got, _ = _run("sqlite", request, tmp_path / "b", WORKERS, killed_first)
    assert got == expected


# -- the property: any JSON value in any field, in new records and in edits -----------------------

@pytest.fixture
def twins(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[tuple[Hq, Device], tuple[Hq, Device]]]:
    pairs: list[tuple[Hq, Device]] = []
    opened = []
    for name, hq_settings in (("a", INLINE), ("b", WORKERS)):
        (tmp_path / name).mkdir()
        gen = open_hq(fresh_db_url("sqlite", request, tmp_path / name), hq_settings)
        hq = next(gen)
        opened.append(gen)
        dev = hq.user_device("ofc", "officer", villages=[V1])
        dev.push_ok(dev.op("households", "h0", household()), dev.op("members", "m0", member("h0")),
                    dev.op("households", "he", household()), dev.op("businesses", "b0", business("h0")))
        dev.push_ok(*programme_ops(dev, V1, "m0", "b0")[0])
        pairs.append((hq, dev))
    yield pairs[0], pairs[1]
    for gen in opened:
        gen.close()


op_drawn = st.tuples(st.sampled_from(sorted(BASES)), st.one_of(st.sampled_from(ALL_KEYS), hostile_text), json_values,
                     st.sampled_from(["new", "new", "edit", "delete"]))


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(op_drawn, min_size=1, max_size=10), hashed=st.booleans())
def test_any_push_is_answered_the_same_with_or_without_workers(
        twins: tuple[tuple[Hq, Device], tuple[Hq, Device]], drawn: list[tuple[str, str, Any, str]],
        hashed: bool) -> None:
    answers = []
    for _hq, dev in twins:
        ops = []
        for n, (entity, key, value, how) in enumerate(drawn):
            if how == "edit":
                record_id, fields = "he", {key: value}
                entity = "households"
            else:
                record_id, fields = f"x{dev.next_seq}-{n}", {**BASES[entity](), key: value}
            if how == "delete":
                fields = {}
            ops.append(make_op(dev.next_seq + n, entity, record_id, fields, kind="delete" if how == "delete" else "upsert",
                               base=dev.versions.get((entity, record_id), 0)))
        status, body = _send(dev, ops, hashed=hashed)
        if status == 200:
            dev.next_seq += len(ops)
            for op, result in zip(ops, body["results"]):
                if result["version"]:
                    dev.versions[(op["entity"], op["id"])] = result["version"]
        answers.append((status, body))
    assert answers[0] == answers[1]
    assert _stored(twins[0][0]) == _stored(twins[1][0])


def test_two_large_pushes_at_once_share_the_pool_or_go_inline(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Two devices push at the same moment: one push takes the workers, the other finds them busy
    and prepares inline (or takes them after); both are answered in full, nothing lost or doubled."""
    for hq in open_hq(fresh_db_url("sqlite", request, tmp_path), WORKERS):
        _two_at_once(hq)


def _two_at_once(hq: Hq) -> None:
    devices = []
    for name, village in (("ani", V1), ("budi", V2)):
        dev = hq.user_device(name, "officer", villages=[village])
        dev.client = TestClient(hq.client.app)  # one client per thread
        devices.append((dev, [dev.op("households", f"{name}{n}", household(village)) for n in range(300)]))
    gate = threading.Barrier(len(devices))
    answers: dict[str, tuple[int, Any]] = {}

    def push(dev: Device, ops: list[dict[str, Any]]) -> None:
        gate.wait(timeout=60)
        answers[dev.username] = _send(dev, ops)

    threads = [threading.Thread(target=push, args=pair) for pair in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for dev, ops in devices:
        status, body = answers[dev.username]
        assert status == 200 and body["last_op_seq"] == len(ops)
        assert [r["status"] for r in body["results"]] == ["ok"] * len(ops)
    with hq.ctx.db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar_one() == 600
        assert conn.execute(text("SELECT count(*) FROM applied_ops")).scalar_one() == 600
    assert hq.ctx.prepare is not None and hq.ctx.prepare.pids()  # the workers are back in the pool


@pytest.mark.parametrize(("processes", "chunk", "count", "text_size"), [
    (1, 40, 400, 30_000),  # every message and answer far beyond a socket buffer (~200 KB)
    (2, 40, 400, 30_000),
    (3, 250, 400, 10),     # fewer chunks than workers: the third worker gets no chunk
    (4, 1, 9, 10),         # one op per chunk
])
def test_the_pipes_never_block_both_ways_and_keep_no_stale_answer(processes: int, chunk: int, count: int,
                                                                 text_size: int) -> None:
    """``Preparation`` straight on a pool, pushes whose chunks and answers overflow the socket
    buffers both ways (a worker and the server both sending at once would block for ever), and
    pushes with fewer chunks than workers; each op's ``Prepared`` is exactly ``prepare_one``'s,
    push after push on the same workers (an answer left in a pipe would shift the next push)."""
    pool = PreparePool(processes, chunk=chunk, min_ops=1)
    try:
        for attempt in range(3):
            ops = [PushOp.model_validate(make_op(n + 1, "households", f"p{attempt}-{n}",
                                                 household(notes="catatan " * (text_size // 8) + str(n))))
                   for n in range(count + attempt * chunk)]  # one chunk more each time
            today = dt.date(2025, 3, 1)
            got: list[Prepared] = []

            def read(ops: list[PushOp], today: dt.date, got: list[Prepared]) -> None:
                preparation = Preparation(ops, today, {}, pool)
                got.extend(preparation.get(i) for i in range(len(ops)))
                preparation.close()

            reader = threading.Thread(target=read, args=(ops, today, got), daemon=True)
            reader.start()
            reader.join(timeout=120)
            assert not reader.is_alive(), "the server and a worker block each other"
            assert got == [prepare_one(wire_tuple(op), today, {}) for op in ops]
            assert all(p.values is not None for p in got)  # the workers' answers, not the inline fallback
            assert len(pool.pids()) == processes
    finally:
        pool.close()
