"""The DESIGN §4 invariants, checked by one helper over the server database and every device.

``InvariantChecker.check(devices)`` may be called after any step: it checks what must hold at
all times. ``check(devices, quiescent=True)`` is for after faults stopped and everyone synced:
it adds convergence and a drained outbox. It raises ``InvariantViolation`` listing every problem.

What is checked (the names are the ones used in violation messages):

* ``acked-lost`` — every op in a device's journal (acknowledged) is in the server's
  ``applied_ops`` for that device, same op_seq, same hash (no acknowledged edit lost).
* ``applied-twice`` — no edit (record, kind, the moment it was saved) is applied under two device
  ids or numbers (a new registration, a restored backup: issue 17 §3).
* ``exactly-once`` — each device's applied ops are exactly 1..watermark, each the device's own
  op with the same hash (nothing applied twice, out of order or invented); an outbox op at or
  below the watermark carries the hash the server applied.
* ``local-lost`` — every op a laptop ever committed is still in its outbox or journal, unchanged.
* ``server-value`` — every field on the server holds the value of the latest write that won it
  (acknowledged edits are not overwritten by anything but later winning writes).
* ``conflict-unrecorded`` — every op the server answered ``conflict`` left its losing value in
  the server's ``conflicts``; a device that got that answer has it in ``sync_conflicts``.
* ``version-backwards`` / ``cursor-ahead`` — record versions (server and local) never decrease;
  version == server_seq; no cursor is ahead of the server's sequence (it would skip rows).
* ``stale-version`` — every server record of a device's village at or below that village's pull
  cursor is on the device, at the server's version and deletion state: the cursor says the
  device has seen it, so a pull that left out a version the device does not hold (no echo,
  issue 21 §1: only the device's own answered ops may be left out) is caught here, at once,
  not only at quiescence.
* ``stale-outbox`` — right after a pull completed, no op the server had acknowledged (at or
  below the watermark the page carried) is still pending: the pull drops them first.
* quiescent: ``diverged`` (every device equals the server on its scopes), ``not-drained``
  (empty outbox), ``watermark`` (local last ack == server watermark), ``conflict-unseen`` (every
  row of the server's ``conflicts`` whose loser is a device is in that device's inbox, with the
  winning value and the winner — whether its value lost on arrival, with the answer lost, or
  later to someone else's op).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desmig_desktop.domain.fields import ENTITIES, Kind
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.sync_restore import restored_marker


class InvariantViolation(AssertionError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:40])
        more = f"\n  ... and {len(problems) - 40} more" if len(problems) > 40 else ""
        super().__init__(f"{len(problems)} invariant violation(s):\n  {shown}{more}")

    def kinds(self) -> set[str]:
        return {p.split(":", 1)[0] for p in self.problems}


def _norm(kind: Kind | None, value: Any) -> Any:
    if isinstance(value, bool) or (kind is Kind.BOOL and value is not None):
        return int(bool(value))
    if isinstance(value, float) and value.is_integer() and kind is not Kind.FLOAT:
        return int(value)
    return value


@dataclass
class DeviceView:
    name: str
    registrations: list[dict[str, Any]]
    base: int
    last_acked: int
    scopes: list[str]
    cursors: dict[str, int]
    outbox: dict[int, st.OutboxOp]
    journal: dict[int, st.OutboxOp]
    journal_status: dict[int, str | None]
    records: dict[tuple[str, str], dict[str, Any]]
    conflict_ops: set[int]
    rejected_records: set[tuple[str, str]]
    lost: dict[tuple[int, str, str, str], dict[str, Any]]  # (server id, entity, record, field) -> inbox row
    made: dict[int, tuple[str, str, str, dict[str, Any]]] = field(default_factory=dict)
    retired: dict[tuple[str, int], list[st.OutboxOp]] = field(default_factory=dict)  # copies a restore replaced
    restoring: bool = False  # restored from a backup, not yet reconciled with the server

    @classmethod
    def load(cls, device: Any) -> DeviceView:
        if hasattr(device, "follow_renumbering"):
            device.follow_renumbering()
        db = device.db
        foreign = getattr(device, "foreign_devices", set())  # a cloned laptop shares its original's log
        regs = [r for r in st.state(db, st.K_REGISTRATIONS, []) if r["device_id"] not in foreign]
        earlier = [r for r in getattr(device, "earlier_registrations", []) if r["device_id"] not in foreign]
        if earlier:  # a replaced copy's devices, in the numbering they share (the current one stays last)
            # In the order they registered: the replaced copies' devices (a restored backup's own are
            # among them), then those registered since. Each covers the ops from its base to the next
            # one's, so among devices of one base the one registered last is the one that sent them.
            own = {r["device_id"]: r for r in regs}
            seen = {r["device_id"] for r in earlier}
            in_order = [own.get(r["device_id"], r) for r in earlier] + [r for r in regs if r["device_id"] not in seen]
            regs = sorted(in_order, key=lambda r: int(r["op_seq_base"]))  # stable: that order within a base
        recs: dict[tuple[str, str], dict[str, Any]] = {}
        for name in ENTITIES:
            cur = db.execute(f"SELECT * FROM {name}")
            cols = [c[0] for c in cur.description]
            for row in cur.fetchall():
                recs[(name, row[0])] = dict(zip(cols, row))
        journal = {op.op_seq: op for op in st.journal_ops(db)}
        status = dict(db.execute("SELECT op_seq, status FROM sync_journal").fetchall())
        conflict_ops = {int(r[0]) for r in db.execute(
            "SELECT op_seq FROM sync_conflicts WHERE kind = 'conflict' AND op_seq IS NOT NULL")}
        rejected = {(r[0], r[1]) for r in db.execute("SELECT entity, record_id FROM sync_conflicts WHERE kind = 'rejected'")}
        cur = db.execute("SELECT server_id, entity, record_id, field, mine, theirs, winner_role, winner_user, rule"
                         " FROM sync_conflicts WHERE server_id IS NOT NULL")
        lost = {(int(r[0]), r[1], r[2], r[3]): {"mine": json.loads(r[4]), "theirs": json.loads(r[5]),
                                                "winner_role": r[6], "winner_user": r[7], "rule": r[8]}
                for r in cur.fetchall()}
        return cls(device.name, regs, st.op_seq_base(db), st.last_acked(db), list(st.state(db, st.K_SCOPES, [])),
                   st.cursors(db), {op.op_seq: op for op in st.take_batch(db, 10**9)}, journal, status, recs,
                   conflict_ops, rejected, lost, dict(device.made), dict(getattr(device, "retired", {})),
                   restored_marker(db) is not None)

    def op(self, local_seq: int) -> st.OutboxOp | None:
        return self.journal.get(local_seq) or self.outbox.get(local_seq)

    def applied_op(self, device_id: str, wire: int, base: int, op_hash: str) -> st.OutboxOp | None:
        """The op the server applied as ``device_id``'s number ``wire``: this copy's own, or — after
        a restore from a backup — the one a replaced copy sent (the backup holds the same edit,
        captured before the replaced copy rebased it: same record, kind and fields)."""
        local = self.op(wire + base)
        if local is not None and local.op_hash == op_hash:
            return local
        acked = self.journal.get(wire + base)
        for old in self.retired.get((device_id, wire), []):
            if old.op_hash == op_hash and (acked is None or (acked.entity, acked.record_id, acked.kind, acked.fields)
                                           == (old.entity, old.record_id, old.kind, old.fields)):
                return old  # (a pending op under that number is judged by the reuse check)
        return local


@dataclass
class ServerView:
    records: dict[tuple[str, str], dict[str, Any]]
    applied: dict[str, dict[int, dict[str, Any]]]
    watermarks: dict[str, int]
    conflicts: list[dict[str, Any]]
    seq: int

    @classmethod
    def load(cls, db_path: Path) -> ServerView:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("BEGIN")  # one snapshot for everything
            recs = {(r["entity"], r["id"]): {**dict(r), "data": json.loads(r["data"])}
                    for r in conn.execute("SELECT entity, id, scope, data, version, deleted, server_seq FROM records")}
            applied: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
            for r in conn.execute("SELECT * FROM applied_ops"):
                applied[r["device_id"]][int(r["op_seq"])] = dict(r)
            marks = {r["device_id"]: int(r["last_op_seq"]) for r in conn.execute("SELECT device_id, last_op_seq FROM devices")}
            conflicts = [dict(r) for r in conn.execute("SELECT * FROM conflicts")]
            seq = int(conn.execute("SELECT value FROM seq_counter").fetchone()[0])
            conn.execute("COMMIT")
        finally:
            conn.close()
        return cls(recs, dict(applied), marks, conflicts, seq)


class InvariantChecker:
    """Keeps what it saw last time (versions) so it can tell when something went backwards."""

    def __init__(self, server_db: Path) -> None:
        self.server_db = server_db
        self.server_versions: dict[tuple[str, str], int] = {}
        self.device_versions: dict[str, dict[tuple[str, str], int]] = {}
        self.checks = 0

    def forget_versions(self) -> None:
        """After a restore from backup the server legitimately starts again from older versions."""
        self.server_versions.clear()
        self.device_versions.clear()

    def forget_device(self, name: str) -> None:
        """After a laptop's database was restored from a backup its copies are legitimately older."""
        self.device_versions.pop(name, None)

    def check(self, devices: list[Any], *, quiescent: bool = False, restored: bool = False,
              pulled: tuple[str, ...] = ()) -> None:
        """``pulled``: names of devices whose last step completed a pull (and pushed nothing since)."""
        self.checks += 1
        server = ServerView.load(self.server_db)
        views = [DeviceView.load(d) for d in devices]
        problems: list[str] = []
        for view in views:
            problems += self._log_matches(server, view, restored=restored)
            problems += self._local_kept(view)
            if view.name in pulled:
                problems += self._pull_dropped_acked(server, view)
        problems += self._server_values(server, views)
        problems += self._applied_once(server)
        problems += self._conflicts(server, views)
        if not restored:
            problems += self._versions(server, views)
            for view in views:
                problems += self._seen_is_held(server, view)
        if quiescent:
            for view in views:
                problems += self._converged(server, view)
                problems += self._lost_seen(server, view)
        if problems:
            raise InvariantViolation(problems)

    # -- per device ---------------------------------------------------------------------------
    def _registrations(self, view: DeviceView) -> list[tuple[str, int, float]]:
        regs = view.registrations
        out = []
        for i, reg in enumerate(regs):
            upto = regs[i + 1]["op_seq_base"] if i + 1 < len(regs) else float("inf")
            out.append((reg["device_id"], int(reg["op_seq_base"]), upto))
        return out

    def _log_matches(self, server: ServerView, view: DeviceView, *, restored: bool) -> list[str]:
        problems = []
        for device_id, base, upto in self._registrations(view):
            applied = server.applied.get(device_id, {})
            mark = server.watermarks.get(device_id, 0)
            if sorted(applied) != list(range(1, mark + 1)):
                problems.append(f"exactly-once: {view.name} device {device_id[:8]} applied op_seqs are not 1..{mark}")
            for wire, row in applied.items():
                local = view.applied_op(device_id, wire, base, row["op_hash"])
                if local is None:
                    problems.append(f"exactly-once: {view.name} server applied op {wire} (local {wire + base}) the"
                                    " laptop no longer has")
                elif local.op_hash != row["op_hash"]:
                    problems.append(f"exactly-once: {view.name} op {wire + base} hash differs from the applied one")
            for seq, op in view.outbox.items():
                wire = seq - base
                if not view.restoring and base < seq <= upto and wire in applied \
                        and applied[wire]["op_hash"] != op.op_hash \
                        and view.applied_op(device_id, wire, base, applied[wire]["op_hash"]) is op:
                    problems.append(f"exactly-once: {view.name} pending op {seq} reuses number {wire}, which the"
                                    " server applied to a different op")
                if seq in view.journal:
                    problems.append(f"exactly-once: {view.name} op number {seq} is both pending and acknowledged")
            if restored:
                continue
            for seq, op in view.journal.items():
                if base < seq <= upto and (seq - base) not in applied:
                    problems.append(f"acked-lost: {view.name} journal op {seq} ({op.entity} {op.kind}) is not on"
                                    f" the server (watermark {mark})")
        if view.registrations:
            device_id = view.registrations[-1]["device_id"]
            mark = server.watermarks.get(device_id, 0)
            if not restored and view.last_acked > mark + view.base:
                problems.append(f"acked-lost: {view.name} last ack {view.last_acked} beyond server watermark"
                                f" {mark + view.base}")
        return problems

    def _pull_dropped_acked(self, server: ServerView, view: DeviceView) -> list[str]:
        if not view.registrations:
            return []
        mark = server.watermarks.get(view.registrations[-1]["device_id"], 0) + view.base
        stale = sorted(seq for seq in view.outbox if seq <= mark)
        return [f"stale-outbox: {view.name} pulled but still holds acknowledged ops {stale[:5]} (watermark {mark})"] \
            if stale else []

    def _local_kept(self, view: DeviceView) -> list[str]:
        problems = []
        for seq, (entity, record_id, kind, fields) in view.made.items():
            op = view.op(seq)
            if op is None:
                problems.append(f"local-lost: {view.name} op {seq} ({entity} {kind}) is in neither outbox nor journal")
            elif (op.entity, op.record_id, op.kind, op.fields) != (entity, record_id, kind, fields):
                problems.append(f"local-lost: {view.name} op {seq} was replaced by a different op")
        return problems

    # -- server content ----------------------------------------------------------------------
    def _server_values(self, server: ServerView, views: list[DeviceView]) -> list[str]:
        """Each field's server value == the value of the latest applied write that did not lose it."""
        ops: dict[tuple[str, int], st.OutboxOp] = {}
        for view in views:
            for device_id, base, _upto in self._registrations(view):
                for wire, row in server.applied.get(device_id, {}).items():
                    op = view.applied_op(device_id, wire, base, row["op_hash"])
                    if op is not None:
                        ops[(device_id, wire)] = op
        lost: set[tuple[str, str, str, str, int]] = set()
        for c in server.conflicts:
            if c["loser_device"]:
                lost.add((c["entity"], c["record_id"], c["field"], c["loser_device"], int(c["version"])))
        latest: dict[tuple[str, str, str], tuple[int, Any, str]] = {}
        unknown: set[tuple[str, str]] = set()
        for device_id, rows in server.applied.items():
            for wire, row in rows.items():
                key = (row["entity"], row["record_id"])
                op = ops.get((device_id, wire))
                if op is None or (op.entity, op.record_id) != key:  # (another op: "exactly-once" says so)
                    unknown.add(key)
                    continue
                if row["result"] == "rejected" or op.kind != "upsert":
                    continue
                version = int(row["version"])
                if (key[0], key[1], "*", device_id, version) in lost:
                    continue
                spec = ENTITIES[op.entity]
                for f, value in op.fields.items():
                    if not spec.has(f) or spec.field(f).kind is Kind.DERIVED:
                        continue
                    if (key[0], key[1], f, device_id, version) in lost:
                        continue
                    prev = latest.get((*key, f))
                    if prev is None or version > prev[0]:
                        latest[(*key, f)] = (version, _norm(spec.field(f).kind, value), f"{device_id[:8]}#{wire}")
        problems = []
        for (entity, record_id, f), (version, value, who) in latest.items():
            if (entity, record_id) in unknown:
                continue
            rec = server.records.get((entity, record_id))
            if rec is None:
                problems.append(f"server-value: {entity} {record_id[:8]} written by {who} is missing on the server")
                continue
            kind = ENTITIES[entity].field(f).kind
            if _norm(kind, rec["data"].get(f)) != value:
                problems.append(f"server-value: {entity} {record_id[:8]}.{f} = {rec['data'].get(f)!r}, but the"
                                f" latest winning write ({who} at v{version}) was {value!r}")
        return problems

    @staticmethod
    def _applied_once(server: ServerView) -> list[str]:
        """One edit — its record, kind and the moment the laptop saved it, which rebasing never
        changes — is applied at most once, under whichever device ids it was sent."""
        seen: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        for device_id, rows in server.applied.items():
            for wire, row in rows.items():
                seen[(row["entity"], row["record_id"], row["kind"], row["captured_at"])].append(f"{device_id[:8]}#{wire}")
        return [f"applied-twice: {entity} {record_id[:8]} {kind} saved at {at} applied as {', '.join(where)}"
                for (entity, record_id, kind, at), where in seen.items() if len(where) > 1]

    def _conflicts(self, server: ServerView, views: list[DeviceView]) -> list[str]:
        problems = []
        recorded = {(c["entity"], c["record_id"], int(c["version"])) for c in server.conflicts}
        for device_id, rows in server.applied.items():
            for wire, row in rows.items():
                if row["result"] == "conflict" and (row["entity"], row["record_id"], int(row["version"])) not in recorded:
                    problems.append(f"conflict-unrecorded: server op {device_id[:8]}#{wire} answered conflict but"
                                    " no losing value is in conflicts")
        losers = {(c["loser_device"], int(c["version"])) for c in server.conflicts if c["loser_device"]}
        for view in views:
            for device_id, base, _upto in self._registrations(view):
                for wire, row in server.applied.get(device_id, {}).items():
                    seq = wire + base
                    lost = (device_id, int(row["version"])) in losers
                    # Only an op whose answer reached the laptop can be in its inbox (a lost answer
                    # leaves it to the server's conflicts list, which supervisors see).
                    if lost and view.journal_status.get(seq) == "conflict" and seq not in view.conflict_ops:
                        problems.append(f"conflict-unrecorded: {view.name} op {seq} lost a conflict but is not"
                                        " in sync_conflicts")
        return problems

    def _versions(self, server: ServerView, views: list[DeviceView]) -> list[str]:
        problems = []
        for key, rec in server.records.items():
            if int(rec["version"]) != int(rec["server_seq"]):
                problems.append(f"version-backwards: {key[0]} {key[1][:8]} version != server_seq")
            if int(rec["server_seq"]) > server.seq:
                problems.append(f"version-backwards: {key[0]} {key[1][:8]} server_seq beyond seq_counter")
            old = self.server_versions.get(key)
            if old is not None and int(rec["version"]) < old:
                problems.append(f"version-backwards: server {key[0]} {key[1][:8]} went from v{old} to v{rec['version']}")
            self.server_versions[key] = int(rec["version"])
        for view in views:
            seen = self.device_versions.setdefault(view.name, {})
            for key, row in view.records.items():
                version = int(row["server_version"])
                if key in seen and version < seen[key]:
                    problems.append(f"version-backwards: {view.name} {key[0]} {key[1][:8]} went from v{seen[key]}"
                                    f" to v{version}")
                seen[key] = version
            for scope, cur in view.cursors.items():
                if cur > server.seq:
                    problems.append(f"cursor-ahead: {view.name} cursor {scope}={cur} beyond server seq {server.seq}")
        return problems

    def _seen_is_held(self, server: ServerView, view: DeviceView) -> list[str]:
        """A record the device's cursor has passed is held at the server's version (``stale-version``)."""
        problems = []
        scopes = set(view.scopes)
        pending = {(op.entity, op.record_id) for op in view.outbox.values()}  # a local delete not yet sent
        for key, rec in server.records.items():
            scope = rec["scope"]
            if scope not in scopes or int(rec["server_seq"]) > view.cursors.get(scope, 0):
                continue
            mine = view.records.get(key)
            where = f"{view.name} {key[0]} {key[1][:8]} (server v{rec['version']}, cursor {scope}={view.cursors[scope]})"
            if mine is None:
                problems.append(f"stale-version: {where} is missing on the device")
            elif int(mine["server_version"]) != int(rec["version"]) or (
                    bool(mine["deleted"]) != bool(rec["deleted"]) and key not in pending):
                problems.append(f"stale-version: {where} is v{mine['server_version']} deleted={mine['deleted']}"
                                " on the device")
        return problems

    # -- quiescence --------------------------------------------------------------------------
    def _lost_seen(self, server: ServerView, view: DeviceView) -> list[str]:
        """Every conflict the device's current registration lost is in its inbox, as decided."""
        if not view.registrations:
            return []
        device_id = view.registrations[-1]["device_id"]
        problems = []
        for c in server.conflicts:
            if c["loser_device"] != device_id or c["scope"] not in view.scopes:
                continue  # (a record of a village no longer the device's is no longer told about)
            where = f"{view.name} lost {c['entity']} {c['record_id'][:8]}.{c['field']} (conflict {c['id']})"
            row = view.lost.get((int(c["id"]), c["entity"], c["record_id"], c["field"]))
            if row is None:
                problems.append(f"conflict-unseen: {where} but it is not in its inbox")
                continue
            winning = json.loads(c["winning_value"]) if c["winning_value"] is not None else None
            if c["kind"] == "delete_edit" and c["losing_value"] and json.loads(c["losing_value"]) == {"deleted": True}:
                winning = {"deleted": False}  # a delete that lost: "the record is still there"
            if (row["theirs"], row["winner_role"], row["winner_user"]) != (winning, c["winner_role"], c["winner_user"]):
                problems.append(f"conflict-unseen: {where}; its inbox says {row['theirs']!r} by {row['winner_role']}")
            if not row["rule"]:
                problems.append(f"conflict-unseen: {where}; its inbox does not say why")
        return problems

    def _converged(self, server: ServerView, view: DeviceView) -> list[str]:
        problems = []
        if view.outbox:
            problems.append(f"not-drained: {view.name} still has {len(view.outbox)} pending ops")
        if view.registrations:
            mark = server.watermarks.get(view.registrations[-1]["device_id"], 0)
            if view.last_acked != mark + view.base:
                problems.append(f"watermark: {view.name} last ack {view.last_acked} != server {mark + view.base}")
        scopes = set(view.scopes)
        theirs = {k: r for k, r in server.records.items() if r["scope"] in scopes}
        for key, rec in theirs.items():
            mine = view.records.get(key)
            if mine is None:
                problems.append(f"diverged: {view.name} lacks {key[0]} {key[1][:8]} (v{rec['version']})")
                continue
            if bool(mine["deleted"]) != bool(rec["deleted"]):
                problems.append(f"diverged: {view.name} {key[0]} {key[1][:8]} deleted={mine['deleted']} server={rec['deleted']}")
            if int(mine["server_version"]) != int(rec["version"]):
                problems.append(f"diverged: {view.name} {key[0]} {key[1][:8]} v{mine['server_version']} server v{rec['version']}")
            spec = ENTITIES[key[0]]
            for f in spec.fields:
                a, b = _norm(f.kind, mine.get(f.key)), _norm(f.kind, rec["data"].get(f.key))
                if a != b:
                    problems.append(f"diverged: {view.name} {key[0]} {key[1][:8]}.{f.key} local={a!r} server={b!r}")
        for key in view.records:
            if key in theirs or key in view.rejected_records:
                continue
            # Not on the server, or in a village that is not the laptop's (it moved away: the
            # move-out notice must have removed it, issue 13 §1).
            rec = server.records.get(key)
            where = "nowhere" if rec is None else f"in {rec['scope']}"
            problems.append(f"diverged: {view.name} has {key[0]} {key[1][:8]}, which the server has {where},"
                            " outside its villages")
        return problems
