"""Apply one op to the working set: merge, validate, cascade, and record every losing value.

Existence rules (the server's answer to DESIGN §4 "a delete racing an edit is a conflict too"):

* **Delete racing an edit.** A delete is refused when another device changed the record or any
  of its descendants after the delete's ``base_version``; the edit stays and the delete is the
  losing side of a ``delete_edit`` conflict. An edit (or a new child) arriving for a record
  (or parent) that another device deleted after the op's base is not applied; the edit is the
  losing side. In both cases the stale op loses whatever the roles: a delete should never
  destroy an edit its author had not seen, and an edit should not silently resurrect a record
  someone deliberately removed. Supervisors see the conflict and resolve it by a new op.
* **Revive.** An upsert on a deleted record with ``base_version >=`` the deletion version (the
  author saw the deletion) — or by the deleting device itself — revives it.
* **Cascade.** Deleting a household deletes its members, their placements and its businesses;
  moving a household (or re-parenting a child) moves its descendants' scope, and the scope they
  left gets one move-out notice per record (``WorkingSet.leaving``), nothing more afterwards.
* **Touch.** When an op on an existing record loses a clash, is refused as stale, or is
  rejected, the record gets a new version although its data is unchanged, so the author's next
  pull brings the authoritative copy back and the replicas converge.
* **Lost values are told.** The result of an op that lost carries, per lost field, the
  conflict's id, the winning value, the winner and the rule (``sync.lost.detail``); a value that
  loses later, to another device's op, reaches its device through ``sync.lost.feed``.
* **Scope.** An op outside the caller's scopes is rejected per op (DESIGN §4: one record never
  blocks the queue), checked on the stored record first (before anything of it is read or
  touched), then on the parent, then on the new village of a record without a parent (a
  household, a programme record: its ``village_code`` is its scope).
* **Side references** (the member a service or an attendance names, a cooperative's member or
  business) must name a live record of the record's village when set (``_side_references``);
  a later move of that member's household leaves them as they are. A record of another scope
  is never written, touched, nor named in a conflict; only the caller's own record is touched
  when its move or re-parent out of scope is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from desmig_desktop.domain.coercion import CoerceError, coerce
from desmig_desktop.domain.fields import EntitySpec
from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.ids import utc_now
from desmig_desktop.domain.issues import Issue
from desmig_desktop.domain.programme import reference_refusal, side_references
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.domain.validation import validate
from desmig_desktop.domain.wire import OpKind, OpStatus, result_json
from desmig_server.auth.principal import Principal
from desmig_server.db import tables as t
from desmig_server.questionnaires import QuestionnaireSet
from desmig_server.sync.audit import APPLIED, CASCADE, CONFLICT_LOST, CONFLICT_WON, AuditTrail
from desmig_server.sync.codec import dumps_text
from desmig_server.sync.lookup import ServerLookup
from desmig_server.sync.lost import insert_conflicts
from desmig_server.sync.merge import Clash, plan_merge
from desmig_server.sync.models import PushOp
from desmig_server.sync.prepare import Prepared
from desmig_server.sync.seq import SeqAllocator
from desmig_server.sync.state import STATE_KEY, FieldMeta, Rec, WorkingSet
from desmig_server.sync.storable import unstorable

DELETED = {"deleted": True}


@dataclass
class Outcome:
    """An op's verdict while its push is applied; its conflict entries are completed once the
    conflict rows have ids (``write_conflicts``), then it is answered as ``domain.wire.OpResult``."""

    status: OpStatus
    version: int
    reason: str | None = None
    clashes: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self, op_seq: int) -> dict[str, Any]:
        return result_json(op_seq, self.status, self.version, self.reason, self.clashes)


# Longest rejection reason stored and returned. A reason is built from known field keys and the
# rules' fixed texts only (never from client text), so this bound is only reached by a record
# failing nearly every rule at once; it still holds whatever a client sends.
REASON_MAX = 1000


def bounded(reason: str) -> str:
    """``reason`` cut to ``REASON_MAX`` characters."""
    return reason if len(reason) <= REASON_MAX else reason[:REASON_MAX - 1] + "…"


def rejection_reason(spec: EntitySpec, errors: list[Issue]) -> str:
    """``field: rule text; …`` for hard validation errors. Only a known field key of ``spec`` is
    named (another key is client text: reported generically); rule texts carry no value
    (SECURITY.md). Each part is a catalog text, so the laptop shows it in the officer's language."""
    named = [f"{i.field}: {i.message}" for i in errors if spec.has(i.field)]
    if len(named) < len(errors):
        named.append(_("Ada isian yang tidak dikenal."))
    return bounded("; ".join(named))


class DeviceNames:
    """device_id -> username, cached per request (conflict rows name both sides)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._names: dict[str, str | None] = {}

    def __call__(self, device_id: str) -> str | None:
        if device_id not in self._names:
            self._names[device_id] = self._conn.execute(
                select(t.devices.c.username).where(t.devices.c.device_id == device_id)).scalar()
        return self._names[device_id]


def _same_value(spec: EntitySpec, key: str, raw: Any, stored: Any) -> bool:
    try:
        return bool(coerce(spec.field(key), raw) == stored)
    except CoerceError:
        return False


def _coerced_or_raw(spec: EntitySpec, key: str, raw: Any) -> Any:
    try:
        return coerce(spec.field(key), raw)
    except CoerceError:
        return raw


class OpApplier:
    """Applies ops for one principal inside one push transaction."""

    def __init__(self, conn: Connection, ws: WorkingSet, seq: SeqAllocator, actor: Principal,
                 lookup: ServerLookup, today: dt.date) -> None:
        self.ws, self.seq, self.actor, self.lookup, self.today = ws, seq, actor, lookup, today
        self.names = DeviceNames(conn)
        self.questionnaires = QuestionnaireSet(conn)
        self.conflict_rows: list[dict[str, Any]] = []
        # index in conflict_rows -> the push-result entry of a field this op's device lost (its
        # detail is filled in by ``insert_conflicts`` once the row has an id)
        self._lost: dict[int, dict[str, Any]] = {}
        self.audit = AuditTrail(actor, utc_now())
        self.now = self.audit.now

    # -- helpers ---------------------------------------------------------------------------
    def _touch(self, rec: Rec | None) -> int:
        if rec is None:
            return 0
        rec.stamp(self.seq.next(), self.now)
        return rec.version

    def _conflict(self, rec_entity: str, rec_id: str, scope: str, key: str, kind: str, *, winning: Any,
                  losing: Any, winner: FieldMeta | None, loser: FieldMeta | None, version: int,
                  op_seq: int | None = None) -> dict[str, Any]:
        """Record a losing value; return the push-result entry of the field. ``op_seq``: the op
        being applied, when it is the loser (its device learns the detail from the result)."""
        entry: dict[str, Any] = {"field": key, "won": op_seq is None}
        if op_seq is not None:
            self._lost[len(self.conflict_rows)] = entry
        self.conflict_rows.append({
            "entity": rec_entity, "record_id": rec_id, "scope": scope, "field": key, "kind": kind,
            "winning_value": dumps_text(winning),
            "losing_value": dumps_text(losing),
            "winner_device": winner.device if winner else None,
            "winner_user": self.names(winner.device) if winner else None,
            "winner_role": winner.role if winner else None,
            "loser_device": loser.device if loser else None,
            "loser_user": self.names(loser.device) if loser else None,
            "loser_role": loser.role if loser else None,
            "version": version, "status": "open", "created_at": self.now, "loser_op_seq": op_seq or None,
        })
        return entry

    def write_conflicts(self, conn: Connection) -> None:
        """Insert the conflict rows of this transaction and complete the results that report them."""
        insert_conflicts(conn, self.conflict_rows, self._lost)
        self.conflict_rows, self._lost = [], {}

    def _echo(self, rec: Rec, op: PushOp, before: tuple[int, str | None, int | None], exact: bool) -> None:
        """Say whether ``rec``'s new version, made by ``op`` answered "ok", is exactly what the
        op's device holds once it applies that answer — then a pull leaves it out for that device
        (``sync.pull``). ``before``: the record's ``(version, echo_device, echo_op)``
        before the op; ``exact``: every field the op changed is stored as the op sent it.

        The device's copy is the version it based the op on plus its own ops since. That equals
        the stored record when nothing but this device's exact ops came after its base, so the
        version before the op must be new, the op's base itself, or this device's exact echo —
        and never this device's *inexact* one: a version whose answer said "ok" while the
        server stored a normalised value (the device believes it holds that version and rebases
        on it, but its copy differs; that version must come down, so nothing of this device's
        may ever stand in for it). An inexact version is marked with the op negated, which no
        window ``(after ≥ 0, through]`` covers. Only a device's numbered op qualifies (a review-desk
        resolution is op 0 of no device).
        """
        me = self.actor.device_id
        if op.op_seq <= 0 or not me:
            return
        version, device, number = before
        mine_exact, mine_inexact = device == me and (number or 0) > 0, device == me and (number or 0) < 0
        if exact and (version == 0 or mine_exact or (version == op.base_version and not mine_inexact)):
            rec.echo_device, rec.echo_op = me, op.op_seq
        else:
            rec.echo_device, rec.echo_op = me, -op.op_seq

    def _questionnaire(self, op: PushOp) -> Questionnaire | None:
        """The version ``op`` is validated under: the one its device validated it under (absent: 1).
        An op of no device (``op_seq`` 0: a resolution on the review desk, never from the wire)
        is an edit made now, under the current version."""
        return self.questionnaires.get(op.questionnaire_version) if op.op_seq > 0 else self.questionnaires.current()

    def _me(self, version: int) -> FieldMeta:
        return FieldMeta(version, self.actor.device_id, self.actor.role)

    def _rejected(self, rec: Rec | None, reason: str) -> Outcome:
        return Outcome(OpStatus.REJECTED, self._touch(rec), bounded(reason))

    def _outside(self, rec: Rec | None) -> Outcome:
        """Reject an op outside the caller's scopes, like any invalid op (DESIGN §4: one record never
        blocks the queue). ``rec`` is touched only when it is the caller's own record (a move or
        re-parent refused): a record of another scope is never written, and its version never told."""
        reason = _("Di luar desa tugas Anda.")
        if rec is not None and self.actor.can_access(rec.scope):
            return self._rejected(rec, reason)
        return Outcome(OpStatus.REJECTED, 0, reason)

    # -- ops -------------------------------------------------------------------------------
    def apply(self, op: PushOp, prepared: Prepared | None = None) -> Outcome:
        """``prepared``: the op's order-free work done by a worker (``sync.prepare``), if any."""
        return self._delete(op) if op.kind == OpKind.DELETE else self._upsert(op, prepared)

    def _delete(self, op: PushOp) -> Outcome:
        rec = self.ws.get(op.entity, op.id)
        if rec is not None and not self.actor.can_access(rec.scope):
            return self._outside(rec)
        if rec is None or rec.deleted:
            return Outcome(OpStatus.OK, rec.version if rec else 0)
        subtree = [rec] + [r for r in self.ws.descendants(rec) if not r.deleted]
        racing = [m for r in subtree for m in map(FieldMeta.of, r.fmeta.values())
                  if m is not None and m.version > op.base_version and m.device != self.actor.device_id]
        if racing:
            winner = max(racing, key=lambda m: m.version)
            version = self._touch(rec)
            lost = self._conflict(rec.entity, rec.id, rec.scope, "*", "delete_edit", winning=rec.data,
                                  losing=DELETED, winner=winner, loser=self._me(version), version=version,
                                  op_seq=op.op_seq)
            self.audit.deletion(op, rec, version, CONFLICT_LOST)
            return Outcome(OpStatus.CONFLICT, version, _("Data diubah perangkat lain; penghapusan tidak diterapkan."), [lost])
        before = (rec.version, rec.echo_device, rec.echo_op)
        for r in subtree:
            r.deleted = True
            r.updated_by = self.actor.username
            r.stamp(self.seq.next(), self.now)
            r.fmeta[STATE_KEY] = self._me(r.version).as_json()
            self.audit.deletion(op, r, r.version, APPLIED if r is rec else CASCADE)
        self._echo(rec, op, before, True)  # the cascaded children are not: the device still holds them live
        return Outcome(OpStatus.OK, rec.version)

    def _upsert(self, op: PushOp, prepared: Prepared | None) -> Outcome:
        rec = self.ws.get(op.entity, op.id)
        if rec is not None and not self.actor.can_access(rec.scope):
            return self._outside(rec)  # first: nothing of another scope's record is read or touched
        questionnaire = self._questionnaire(op)
        if questionnaire is None:  # a server restored from before a publish: consumed, like any invalid op
            return self._rejected(rec, _("Versi kuesioner ini tidak dikenal server; sinkronkan lagi."))
        spec = questionnaire.entity(op.entity)  # every version has every entity (compare() refuses new ones)
        if unstorable(op.fields) if prepared is None or prepared.unstorable is None else prepared.unstorable:
            return self._rejected(rec, _("Data berisi karakter kendali atau angka tak hingga yang tidak diizinkan."))
        if not spec.covers(op.fields):  # never named: the keys are client text (SECURITY.md)
            return self._rejected(rec, _("Ada isian yang tidak dikenal."))
        # Derived fields (UMKM class) are recomputed by validate(), never taken from a client.
        derived = spec.derived_keys
        fields = {k: v for k, v in op.fields.items() if k not in derived} if derived else dict(op.fields)
        reviving = False
        if rec is not None and rec.deleted:
            deletion = rec.meta(STATE_KEY)
            if deletion is not None and deletion.version > op.base_version and deletion.device != self.actor.device_id:
                version = self._touch(rec)
                lost = self._conflict(rec.entity, rec.id, rec.scope, "*", "delete_edit", winning=DELETED,
                                      losing=fields, winner=deletion, loser=self._me(version), version=version,
                                      op_seq=op.op_seq)
                self.audit.lost_fields(op, rec.scope, version, rec.data,
                                       {k: _coerced_or_raw(spec, k, v) for k, v in fields.items()})
                return Outcome(OpStatus.CONFLICT, version, _("Data sudah dihapus perangkat lain; perubahan tidak diterapkan."),
                               [lost])
            reviving = True
        plan = plan_merge(rec.data if rec else {}, rec.fmeta if rec else {}, fields,
                          base_version=op.base_version, device_id=self.actor.device_id, role=self.actor.role,
                          same_value=lambda k, raw, stored: _same_value(spec, k, raw, stored))
        raw = {**(rec.data if rec else {}), **plan.apply}
        parent, parent_id = None, None
        if spec.parent_key and spec.parent_entity:
            pid = raw.get(spec.parent_key)
            parent_id = pid.strip() if isinstance(pid, str) and pid.strip() else None
            if parent_id is not None:
                parent = self.ws.get(spec.parent_entity, parent_id)
                if parent is None:
                    return self._rejected(rec, _("Data induk ({entity}) tidak ditemukan.", entity=spec.parent_entity))
                if not self.actor.can_access(parent.scope):
                    return self._outside(rec)
                if parent.deleted:
                    return self._child_of_deleted(op, spec, rec, parent, fields)
        named_by, values, errors = self._validated(op, rec, raw, fields, questionnaire, parent, prepared)
        if errors:
            return self._rejected(rec, rejection_reason(named_by, errors))
        owner = values.get("owner_member_id")
        if owner is not None:
            member = self.ws.get("members", owner)
            if member is None or member.parent_id != values.get("household_id"):
                return self._rejected(rec, _("Pemilik usaha bukan anggota rumah tangga ini."))
        # A record without a parent (a household, a programme record) is scoped by its own village.
        scope = parent.scope if parent else values.get("village_code") if spec.parent_key is None else None
        if scope is None or not self.actor.can_access(scope):
            return self._outside(rec)
        refused = self._side_references(op.entity, rec, values, scope, reviving)
        if refused is not None:
            return self._rejected(rec, refused)
        return self._write(op, spec, rec, values, scope, parent_id, plan.clashes, plan.concurrent, reviving)

    def _validated(self, op: PushOp, rec: Rec | None, raw: dict[str, Any], fields: dict[str, Any],
                   questionnaire: Questionnaire, parent: Rec | None,
                   prepared: Prepared | None) -> tuple[EntitySpec, dict[str, Any], list[Issue]]:
        """The merged record ``raw`` validated: ``(the spec naming its fields, the values to store,
        the hard errors)``.

        An op of an older version than HQ's newest that edits a stored record must not fail, nor
        drop anything, because of a stored answer it did not touch: another device may have given
        it under a later version (a new choice, a loosened bound, a question asked more often).
        So the merged record is validated under the newest version — each published version is a
        compatible superset of the one before (``questionnaire_compat``), so it refuses nothing an
        older one accepts — and the op's own fields must also pass, and are read as, the version
        its device validated them under (a value a v1 app could not have offered is still
        refused). Only such
        ops pay the second validation; an op of the newest version, or one creating a record
        (every field is its own), is validated once, under its version, as before.
        Answers to questions beyond the validating version (a server restored from before a
        publish) stay as stored, unvalidated.

        A new record's validation may already be ``prepared`` by a worker: it is taken when every
        village that validation assumed exists does (``sync.prepare``)."""
        if rec is None and prepared is not None and prepared.values is not None and self._confirmed(prepared):
            return questionnaire.entity(op.entity), prepared.values, list(prepared.errors)  # each used once
        newest = self.questionnaires.current() if rec is not None and op.op_seq > 0 else questionnaire
        spec = newest.entity(op.entity)
        kept = None if rec is None or spec.covers(rec.data) else {k: v for k, v in raw.items() if not spec.has(k)}
        if kept:
            raw = {k: v for k, v in raw.items() if k not in kept}
        parent_data = parent.data if parent else None
        # Hard rules only (soft=False): the officer saw the soft warnings on the laptop; HQ keeps none.
        result = validate(op.entity, raw, record_id=op.id, lookup=self.lookup, parent=parent_data, today=self.today,
                          questionnaire=newest, soft=False)
        errors = result.errors
        values = result.values
        if newest is not questionnaire:
            own = validate(op.entity, raw, record_id=op.id, lookup=self.lookup, parent=parent_data, today=self.today,
                           questionnaire=questionnaire, soft=False)
            errors = errors + [i for i in own.errors if i.field in fields and not any(
                e.field == i.field for e in errors)]
            op_spec = questionnaire.entity(op.entity)  # a later question stays absent unless stored
            values = {**{k: v for k, v in values.items() if op_spec.has(k) or k in raw},
                      **{k: own.values[k] for k in fields if k in own.values}}  # the op's own answers as its version reads them
        return spec, {**values, **kept} if kept else values, errors

    def _confirmed(self, prepared: Prepared) -> bool:
        """Whether every village a worker's validation took as existing exists."""
        return all(self.lookup.village_exists(code) for code in prepared.villages)

    def _side_references(self, entity: str, rec: Rec | None, values: dict[str, Any], scope: str,
                         reviving: bool) -> str | None:
        """Why a reference other than the parent (the member served, an attendee, a cooperative's
        member or business) is refused, or ``None``. Checked when the reference is set or the
        record is new, revived or moved: it must name a live record of the record's own village
        (``domain.programme``). Never afterwards — a household that moves keeps the attendance
        and services recorded in its old village. A record the caller may not read is "not
        found", exactly like a missing one (nothing is told about other villages)."""
        for key, target in side_references(entity):
            ref = values.get(key)
            if ref is None or (rec is not None and not reviving and rec.scope == scope and rec.data.get(key) == ref):
                continue
            other = self.ws.get(target, ref)
            found = other is not None and self.actor.can_access(other.scope)
            why = reference_refusal(found, found and other is not None and other.scope == scope,
                                    other is not None and other.deleted)
            if why is not None:
                return f"{key}: {why}"
        return None

    def _child_of_deleted(self, op: PushOp, spec: EntitySpec, rec: Rec | None, parent: Rec,
                          fields: dict[str, Any]) -> Outcome:
        deletion = parent.meta(STATE_KEY)
        if deletion is None or deletion.version <= op.base_version or deletion.device == self.actor.device_id:
            # The author knew the parent was gone: a plain business-rule failure, not a race.
            return self._rejected(rec, _("Data induk sudah dihapus."))
        version = self._touch(rec)
        lost = self._conflict(op.entity, op.id, parent.scope, "*", "delete_edit",
                              winning={"deleted": True, "parent_id": parent.id}, losing=fields,
                              winner=deletion, loser=self._me(version), version=version or self.seq.current,
                              op_seq=op.op_seq)
        self.audit.lost_fields(op, parent.scope, version or self.seq.current, rec.data if rec else {},
                               {k: _coerced_or_raw(spec, k, v) for k, v in fields.items()})
        return Outcome(OpStatus.CONFLICT, version, _("Data induk sudah dihapus perangkat lain; perubahan tidak diterapkan."),
                       [lost])

    def _write(self, op: PushOp, spec: EntitySpec, rec: Rec | None, values: dict[str, Any], scope: str,
               parent_id: str | None, clashes: list[Clash], concurrent: bool, reviving: bool) -> Outcome:
        before = rec.data if rec else {}
        if before:
            changed = [k for k in spec.keys if values.get(k) != before.get(k)]
        else:  # a new record (most ops of a first push): every answered field is a change
            changed = [k for k in spec.keys if values.get(k) is not None]
        lost = any(not c.incoming_won for c in clashes)
        stamped = True
        prior = (rec.version, rec.echo_device, rec.echo_op) if rec is not None else (0, None, None)
        if rec is None:
            version = self.seq.next()
            rec = Rec(entity=op.entity, id=op.id, scope=scope, parent_id=parent_id, data=values, fmeta={},
                      version=version, deleted=False, created_at=self.now, updated_at=self.now,
                      updated_by=self.actor.username)
            self.ws.add(rec)
            rec.fmeta[STATE_KEY] = self._me(version).as_json()
        elif changed or reviving or lost or scope != rec.scope or parent_id != rec.parent_id:
            moving = scope != rec.scope
            if moving:
                self.ws.leaving(rec, self.seq.next())
            rec.stamp(self.seq.next(), self.now)
            if changed or reviving:  # a touch (lost clash) leaves the data, so its author, as they were
                rec.updated_by = self.actor.username
            if reviving:
                rec.deleted = False
                rec.fmeta[STATE_KEY] = self._me(rec.version).as_json()
            if moving:
                self._move(rec, scope)
            rec.data, rec.parent_id = values, parent_id
        else:
            stamped = False
        version = rec.version
        won = {c.field for c in clashes if c.incoming_won}
        applied = self.audit.fields(op, rec.scope, version, APPLIED)
        if reviving:
            applied["deleted"] = [True, False]
        me = self._me(version).as_json()  # one list shared by the fields this op changed (never mutated)
        fmeta = rec.fmeta
        if won:
            won_over = self.audit.fields(op, rec.scope, version, CONFLICT_WON)
            for k in changed:
                fmeta[k] = me
                (won_over if k in won else applied)[k] = [before.get(k), values.get(k)]
        else:
            for k in changed:
                fmeta[k] = me
                applied[k] = [before.get(k), values.get(k)]
        if not clashes:  # "ok" or "merged": nearly every op
            if concurrent:
                return Outcome(OpStatus.MERGED, version)
            if stamped:
                sent = op.fields
                self._echo(rec, op, prior, all(k in sent and sent[k] == values.get(k) for k in changed))
            return Outcome(OpStatus.OK, version)
        entries = []
        for c in clashes:
            if c.incoming_won:
                entries.append(self._conflict(
                    rec.entity, rec.id, rec.scope, c.field, "conflict", winning=values.get(c.field),
                    losing=c.stored_value, winner=self._me(version), loser=c.stored_by, version=version))
            else:
                losing = _coerced_or_raw(spec, c.field, c.incoming_value)
                entries.append(self._conflict(
                    rec.entity, rec.id, rec.scope, c.field, "conflict", winning=c.stored_value, losing=losing,
                    winner=c.stored_by, loser=self._me(version), version=version, op_seq=op.op_seq))
                self.audit.change(op, rec.scope, version, c.field, c.stored_value, losing, CONFLICT_LOST)
        return Outcome(OpStatus.CONFLICT, version, None, entries)

    def _move(self, rec: Rec, scope: str) -> None:
        """Change a record's scope (its notice number already taken, then its new version); its
        descendants follow, each with a notice number and a new version. The working set writes
        the move-out notices; conflicts recorded earlier in this transaction follow the records
        here (the stored ones are re-scoped by the flush)."""
        rec.scope = scope
        keys = {(rec.entity, rec.id)}
        for child in self.ws.descendants(rec):
            self.ws.leaving(child, self.seq.next())
            child.scope = scope
            child.stamp(self.seq.next(), self.now)
            keys.add((child.entity, child.id))
        for row in self.conflict_rows:
            if (row["entity"], row["record_id"]) in keys:
                row["scope"] = scope
