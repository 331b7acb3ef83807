"""Field-level three-way merge of one upsert against the stored record (pure; no DB).

A field *clashes* when the server changed it after the op's ``base_version`` through another
device (same device = the device's own later history, applied in order) and the values differ.
The deterministic winner: higher role (hq > supervisor > officer), then later arrival — i.e.
the incoming op wins ties. Whichever value loses is returned so the caller records it.

Result statuses: ``ok`` — no other device changed the record since the base, so the returned
version is safe for the client to rebase its later ops on; ``merged`` — other devices changed
other fields (the client must pull before treating the new version as seen); ``conflict`` —
at least one clash, each recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desmig_server.auth.principal import ROLE_RANK
from desmig_server.sync.state import FieldMeta


@dataclass(frozen=True)
class Clash:
    field: str
    incoming_won: bool
    incoming_value: Any
    stored_value: Any
    stored_by: FieldMeta


@dataclass
class MergePlan:
    apply: dict[str, Any] = field(default_factory=dict)  # op fields to write
    clashes: list[Clash] = field(default_factory=list)
    concurrent: bool = False  # another device changed the record since base (merged silently)


def incoming_wins(incoming_role: str, stored_role: str) -> bool:
    """Role priority, then arrival order: on equal rank the op being applied now (later) wins."""
    return ROLE_RANK[incoming_role] >= ROLE_RANK[stored_role]


def plan_merge(
    data: Mapping[str, Any],
    fmeta: Mapping[str, list[Any]],
    fields: Mapping[str, Any],
    *,
    base_version: int,
    device_id: str,
    role: str,
    same_value: Callable[[str, Any, Any], bool],
) -> MergePlan:
    """Decide, field by field, what an upsert writes and which values lose.

    Args:
        data: the stored record's fields (empty for a new record).
        fmeta: ``{field: [version, device, role]}`` of the stored record.
        fields: the op's changed fields (raw client values).
        same_value: ``(field, raw_incoming, stored)`` -> equal after normalisation.
    """
    if not fmeta:  # a new record: nothing stored to clash with (most ops of a first push)
        return MergePlan(apply=dict(fields))
    plan = MergePlan()
    # "merged" (not "ok") whenever another device changed anything since the base — including a
    # revive (the state entry) — so a client knows the acked version is not safe to rebase on.
    plan.concurrent = any(m.version > base_version and m.device != device_id
                          for m in map(FieldMeta.of, fmeta.values()) if m is not None)
    for key, value in fields.items():
        stored = data.get(key)
        meta = FieldMeta.of(fmeta.get(key))
        concurrent = meta is not None and meta.version > base_version and meta.device != device_id
        if not concurrent or same_value(key, value, stored):
            plan.apply[key] = value
            continue
        assert meta is not None
        won = incoming_wins(role, meta.role)
        plan.clashes.append(Clash(key, won, value, stored, meta))
        if won:
            plan.apply[key] = value
    return plan
