"""Logging in registers this laptop database with HQ as the next device of its lineage.

HQ checks exactly-once per (device, op number). A login may give the laptop a new device id (its
device was revoked: a logout, HQ's ``--revoke-devices``), and a database restored from a backup
may hold ops that the lost copy already sent under a device id it never heard of. So every login
names the database's lineage (``store.sync_restore.lineage_claim``; the server side is
``desmig_server.auth.lineage``) and asks to carry on as its current device:

* HQ keeps that device if it is still the lineage's live one (the ordinary login after a token
  expired): same op log, same numbering — a push whose answer was lost is a replay as before;
* otherwise HQ fences the lineage's live device and answers a new device with the lineage's
  watermark: the ops up to it are at HQ already and are filed as acknowledged
  (``sync_restore.register_successor``), the rest go out under the new device once.

An HQ without lineages (an older server) answers without a watermark: the previous rule applies.
"""

from __future__ import annotations

import logging

from sqlite_utils import Database

from desmig_desktop.store import sync_restore as sr
from desmig_desktop.store import sync_store as st
from desmig_desktop.sync.client import SyncClient
from desmig_desktop.sync.errors import SyncError, device_mismatch_error
from desmig_desktop.sync.protocol import Registration

log = logging.getLogger(__name__)


def register_laptop(db: Database, client: SyncClient, url: str, username: str, password: str,
                    name: str) -> Registration:
    """Register this laptop database at ``url`` as ``username`` and store the registration.

    Raises ``SyncError`` (``AUTH`` for wrong credentials, a lockout, or HQ holding more ops of
    this database than it ever made — a copy of it sent them; ``NETWORK``/``SERVER``)."""
    same_feed = st.state(db, st.K_SERVER_URL) == url and st.state(db, st.K_USERNAME) == username
    current = st.state(db, st.K_DEVICE_ID) if same_feed else None
    try:
        reg: Registration | None = client.register(username, password, name, device_id=current,
                                                   lineage=sr.lineage_claim(db, url))
    except SyncError as exc:
        if exc.status != 404 or current is None:
            raise
        reg = None  # an older HQ: the device asked for is revoked
    if reg is not None and same_feed and reg.device_id == current:
        st.store_token(db, reg.token, reg.token_expires_at)  # the same device carries on
        with st.immediate(db):
            st.put_state(db, st.K_DEVICE_NAME, name)
        return reg
    if reg is None or reg.lineage_base is None:
        return _older_server(db, client, url, username, password, name, reg, same_feed)
    marker = sr.restored_marker(db)  # a backup from before any login has no device: any feed is its own
    restored = marker is not None and (same_feed or not marker.get("device_id"))
    if not restored and reg.lineage_base > st.max_op_seq_allocated(db):
        # HQ holds more ops of this lineage than this database ever made: a copy of it made them.
        # Registered nothing here; the next login registers this copy as a lineage of its own.
        sr.leave_lineage(db)
        raise device_mismatch_error(f"lineage at {reg.lineage_base} beyond our last op {st.max_op_seq_allocated(db)}")
    sr.register_successor(db, server_url=url, username=username, device_id=reg.device_id, token=reg.token,
                          device_name=name, token_expires_at=reg.token_expires_at, lineage_base=reg.lineage_base,
                          same_feed=same_feed, restored=restored)
    return reg


def _older_server(db: Database, client: SyncClient, url: str, username: str, password: str, name: str,
                  reg: Registration | None, same_feed: bool) -> Registration:
    """An HQ without lineages: a new device starts after our first pending op; a restored
    database whose device HQ revoked first settles the backup with that device's final watermark."""
    if reg is None:
        reg = client.register(username, password, name)
    restored = sr.restored_marker(db)
    if restored is not None and same_feed:
        client.token = reg.token
        watermark = client.device_watermarks().get(str(restored.get("device_id")), 0)
        sr.reconcile_restore(db, watermark + st.op_seq_base(db))
    st.register_device(db, server_url=url, username=username, device_id=reg.device_id, token=reg.token,
                       device_name=name, token_expires_at=reg.token_expires_at)
    return reg


def after_sync_error(db: Database, exc: SyncError) -> None:
    """A cycle found this database's ops differing from HQ's log of its device (a clone: replay
    mismatch, or HQ's watermark beyond our ops): it leaves the lineage, so logging in again — what
    the error asks — registers it as a new device without fencing the original."""
    if exc.code == "device_mismatch":
        sr.leave_lineage(db)
