"""Device succession: the registrations of one laptop database share one op numbering.

Exactly-once is checked per ``(device_id, op_seq)`` (DESIGN §4). A laptop gets a new device id
when it logs in after its device was revoked (a logout, HQ's ``--revoke-devices``) — and a
database restored from a backup may still hold ops that another copy already sent under a device
it never heard of. Without more, the same edit could arrive once per device id: a household
created twice, an old edit re-applied over a later one.

So a laptop database has a **lineage**: a random id it makes once and keeps in every backup, and
its own op numbering (the laptop's ``op_seq``; a device's op ``n`` is the lineage's op
``lineage_base + n``). A registration names its lineage and:

* if the device it names is the lineage's one unrevoked device, that device carries on (a fresh
  token; same log, same feed) — the ordinary login after a token expired;
* otherwise every unrevoked device of the lineage is revoked (*fenced*: under the row locks a
  push takes, so none of them applies anything afterwards) and the new device starts at the
  lineage's watermark — the highest lineage op any of its devices had applied, which is final
  now. The laptop files its ops up to there as acknowledged and never sends them again.

A lineage is one user's: devices of another user never count. The laptop's earlier devices that
HQ knows without a lineage (registered by an older app) are adopted first, with the base the
laptop gives, so their ops count too. Nothing here is per op: one indexed read per login.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from desmig_server.db import tables as t

log = logging.getLogger(__name__)

MAX_ADOPTED = 50  # earlier registrations a laptop may name (it logs in a few times a year)


@dataclass(frozen=True)
class LineageClaim:
    """What a registering laptop says about its database."""

    lineage: str
    base: int  # where a lineage HQ does not know yet starts (the laptop's numbering)
    devices: tuple[tuple[str, int], ...] = ()  # its earlier registrations here: (device_id, base)


@dataclass(frozen=True)
class Succession:
    """``device_id``: the device that carries on (``None``: register a new one); ``lineage_base``:
    where that device's numbering starts."""

    device_id: str | None
    lineage_base: int


def settle(conn: Connection, username: str, claim: LineageClaim, device_id: str | None) -> Succession:
    """Decide which device the registering laptop gets (write transaction; see the module doc)."""
    d = t.devices.c
    for old_id, base in claim.devices[-MAX_ADOPTED:]:
        conn.execute(update(t.devices).where(d.device_id == old_id, d.username == username, d.lineage.is_(None))
                     .values(lineage=claim.lineage, lineage_base=base))
    # FOR UPDATE: a push of one of these devices holds its row until it commits, so the watermark
    # read here includes it, and a push after this transaction sees the device revoked.
    rows = conn.execute(select(d.device_id, d.revoked, d.last_op_seq, d.lineage_base).where(
        d.lineage == claim.lineage, d.username == username).order_by(d.device_id).with_for_update()).all()
    live = [r for r in rows if not r.revoked]
    watermark = max((int(r.lineage_base) + int(r.last_op_seq) for r in rows), default=claim.base)
    if device_id is not None and [r.device_id for r in live] == [device_id] \
            and int(live[0].lineage_base) + int(live[0].last_op_seq) == watermark:
        return Succession(device_id, int(live[0].lineage_base))  # no other device went further
    if live:
        conn.execute(update(t.devices).where(d.device_id.in_([r.device_id for r in live])).values(
            revoked=True, prev_token_hash=None, prev_token_valid_until=None))
        log.info("lineage of %s re-registered: %d earlier device(s) fenced at lineage op %d", username, len(live),
                 watermark)
    return Succession(None, watermark)
