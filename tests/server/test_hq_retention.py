"""Retention (``desmig-hq prune``, ``sync/retention``): pruning ``applied_ops`` never lets a replay
be applied a second time, replays inside the window keep their original answer, and pruned
``login_attempts`` / ``web_sessions`` rows change no behaviour. SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import random
import time
from typing import Any

import pytest
from sqlalchemy import func, select, update

from desmig_server.auth import lockout
from desmig_server.cli import main
from desmig_server.db import tables as t
from desmig_server.settings import DAY, Settings
from desmig_server.sync.retention import iso_utc, prune

from .support import V1, Device, Hq, household, make_op, member

LATER = 100 * DAY  # past the default 90-day window


def _count(hq_app: Hq, table: Any, *where: Any) -> int:
    with hq_app.ctx.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _age(hq_app: Hq, device: Device, upto: int, days: float) -> None:
    """Make ops ``<= upto`` of ``device`` look applied ``days`` ago."""
    with hq_app.ctx.db.write() as conn:
        conn.execute(update(t.applied_ops).where(t.applied_ops.c.device_id == device.device_id,
                                                 t.applied_ops.c.op_seq <= upto)
                     .values(applied_at=iso_utc(time.time() - days * DAY)))


def _pushed(hq_app: Hq, n: int) -> tuple[Device, list[dict[str, Any]]]:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    ops = [dev.op("households", "h1", household())]
    ops += [dev.op("members", f"m{i}", member("h1", name=f"Anggota {i}")) for i in range(1, n)]
    dev.push_ok(*ops)
    return dev, ops


def test_a_replay_older_than_the_window_is_answered_pruned_and_never_applied_again(hq_app: Hq) -> None:
    dev, ops = _pushed(hq_app, 5)
    done = prune(hq_app.ctx.db, hq_app.ctx.settings, now=time.time() + LATER)
    assert done.applied_ops == 5 and _count(hq_app, t.applied_ops) == 0
    before = hq_app.snapshot()
    # the same ops, and tampered copies of them (a cloned or rolled-back laptop): neither is applied
    tampered = [make_op(op["op_seq"], op["entity"], op["id"], {**op["fields"], "name": "Lain"}) if op["entity"] ==
                "members" else op for op in ops]
    for replay in (ops, tampered, ops[2:4]):
        reply = dev.push(*replay)
        assert reply.status_code == 200, reply.text
        assert reply.json()["last_op_seq"] == 5
        assert [(r["op_seq"], r["status"], r["version"]) for r in reply.json()["results"]] == [
            (op["op_seq"], "pruned", 0) for op in replay]
        assert hq_app.snapshot() == before  # no record, history, conflict or applied_ops row written
    fresh = dev.op("members", "m9", member("h1", name="Baru"))
    assert dev.push_ok(fresh)[0]["status"] == "ok"  # the sequence carries on at 6
    assert dev.hello()["last_op_seq"] == 6


def test_a_replay_inside_the_window_keeps_its_original_answer_and_its_hash_check(hq_app: Hq) -> None:
    dev, ops = _pushed(hq_app, 5)
    original = dev.push(*ops).json()["results"]
    _age(hq_app, dev, 3, days=91)
    done = prune(hq_app.ctx.db, hq_app.ctx.settings)
    assert done.applied_ops == 3 and _count(hq_app, t.applied_ops) == 2
    reply = dev.push(*ops).json()
    assert [r["status"] for r in reply["results"]] == ["pruned"] * 3 + [r["status"] for r in original[3:]]
    assert reply["results"][3:] == original[3:]
    changed = make_op(4, "members", ops[3]["id"], {**ops[3]["fields"], "name": "Lain"})
    refused = dev.push(changed)
    assert refused.status_code == 409 and refused.json()["error"] == "replay_mismatch"
    gap = dev.push(make_op(8, "members", "m8", member("h1")))
    assert gap.status_code == 409 and gap.json()["error"] == "gap"


def test_random_prunes_and_replays_apply_each_op_exactly_once(hq_app: Hq) -> None:
    """Pushes, prunes at random points and replays of random (sometimes tampered) old ops, mixed
    with fresh ones in the same batch: every op is applied exactly once, replays never."""
    rng = random.Random(13)
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h1", household()))
    sent: list[dict[str, Any]] = []
    for _round in range(12):
        fresh = [dev.op("members", f"m{dev.next_seq}", member("h1", name=f"A{dev.next_seq}"))
                 for _ in range(rng.randint(1, 4))]
        replays = rng.sample(sent, k=min(len(sent), rng.randint(0, 3)))
        replays = [make_op(op["op_seq"], op["entity"], op["id"], {**op["fields"], "notes": "x"})
                   if rng.random() < 0.3 and "name" in op["fields"] else op for op in replays]
        batch = sorted(replays, key=lambda op: op["op_seq"]) + fresh
        reply = dev.push(*batch)
        if reply.status_code == 409:  # a tampered replay still inside the window: refused whole
            assert reply.json()["error"] == "replay_mismatch"
            reply = dev.push(*fresh)
        assert reply.status_code == 200, reply.text
        sent.extend(fresh)
        if rng.random() < 0.5:
            _age(hq_app, dev, rng.randint(1, dev.next_seq - 1), days=91)
            prune(hq_app.ctx.db, hq_app.ctx.settings)
    members = _count(hq_app, t.records, t.records.c.entity == "members")
    history = _count(hq_app, t.record_history, t.record_history.c.entity == "members")
    assert members == len(sent) and history == len(sent)  # one create each, never a second apply
    assert dev.hello()["last_op_seq"] == len(sent) + 1


def test_pruning_login_attempts_changes_no_lockout_decision(hq_app: Hq) -> None:
    settings: Settings = hq_app.ctx.settings
    now = time.time()
    window, locked_for = settings.lockout_window_s, settings.lockout_duration_s
    states = {  # name: (failures to record, when) — before pruning at ``now``
        "old-window": (3, now - window - 60),
        "open-window": (3, now - 60),
        "locked": (settings.lockout_threshold + 1, now - 60),
        "lock-expired": (settings.lockout_threshold + 1, now - locked_for - window - 120),
    }
    with hq_app.ctx.db.write() as conn:
        for name, (failures, at) in states.items():
            for _ in range(failures):
                if lockout.begin_attempt(conn, name, at, settings) == 0:
                    lockout.record_failure(conn, name, at, settings)

    def decisions() -> dict[str, float]:
        with hq_app.ctx.db.write() as conn:
            out = {n: lockout.begin_attempt(conn, n, now, settings) for n in states}
            conn.rollback()
        return out

    expected = decisions()
    done = prune(hq_app.ctx.db, settings, now=now)
    assert done.login_attempts == 2
    assert set(_names(hq_app)) == {"open-window", "locked"}
    assert decisions() == expected


def _names(hq_app: Hq) -> list[str]:
    with hq_app.ctx.db.read() as conn:
        return list(conn.execute(select(t.login_attempts.c.username)).scalars())


def test_prune_command_and_expired_sessions(hq_app: Hq, db_url: str) -> None:
    from desmig_server.web.session import make_session, read_session, session_key

    hq_app.add_user("pusat", "hq")
    key = session_key(hq_app.ctx)
    with hq_app.ctx.db.read() as conn:
        password_hash = conn.execute(select(t.users.c.password_hash)).scalar_one()
    live = make_session(hq_app.ctx, key, "pusat", password_hash)
    make_session(hq_app.ctx, key, "pusat", password_hash, now=time.time() - 9 * 3600)  # expired an hour ago
    _dev, _ops = _pushed(hq_app, 2)
    out = io.StringIO()
    assert main(["prune", "--json", "--db", db_url], stdin=io.StringIO(), stdout=out) == 0
    assert json.loads(out.getvalue()) == {"applied_ops": 0, "login_attempts": 0, "web_sessions": 1}
    assert read_session(hq_app.ctx, key, live) is not None and _count(hq_app, t.applied_ops) == 2


@pytest.mark.parametrize("days", ["0", "-1", "x", "inf"])
def test_retention_setting_must_be_positive(monkeypatch: pytest.MonkeyPatch, days: str) -> None:
    monkeypatch.setenv("DESMIG_HQ_APPLIED_OPS_RETENTION_DAYS", days)
    with pytest.raises(ValueError):
        Settings.from_env()
