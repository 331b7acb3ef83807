"""Sync use cases shared by the CLI and the GUI: log in, run a cycle, status, the conflicts inbox.

Threading: every function takes the ``Database`` of the calling thread. The GUI runs
``run_cycle`` on its background worker with a connection opened there, passes ``progress``
(called with ``engine.Progress`` in records) and ``cancel`` (e.g. ``threading.Event().is_set``),
and gets a ``CycleReport`` or a ``SyncError`` whose ``kind`` (``ErrorKind``) says what to show.
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES
from desmig_desktop.domain.i18n import _, pick
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.domain.validation import validate
from desmig_desktop.errors import KnownError, RecordIssue, ValidationFailed
from desmig_desktop.services import settings, succession
from desmig_desktop.store import questionnaire_store, records
from desmig_desktop.store import sync_conflicts as sc
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.queries import StoreLookup
from desmig_desktop.sync.client import SyncClient, make_retry, make_session
from desmig_desktop.sync.engine import CycleReport, Progress, SyncEngine
from desmig_desktop.sync.errors import ErrorKind, SyncError
from desmig_desktop.sync.protocol import Registration
from desmig_desktop.sync.scheduler import BackoffPolicy, SyncScheduler

__all__ = ["BackoffPolicy", "ConflictItem", "ConflictPlace", "CycleReport", "ErrorKind", "LoginResult", "Progress",
           "SyncError", "SyncScheduler", "SyncStatus", "accept_theirs", "conflict_place", "dismiss", "follow_scopes",
           "keep_mine", "list_conflicts", "login", "logout", "pending_ops", "resend_rejected", "run_cycle",
           "sync_status"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginResult:
    server_url: str
    username: str
    device_id: str
    device_name: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class SyncStatus:
    """Everything the status-bar indicator shows."""

    logged_in: bool
    server_url: str | None
    username: str | None
    device_name: str | None
    scopes: tuple[str, ...]
    pending_ops: int
    open_conflicts: int
    open_rejections: int
    last_success: str | None
    last_error_kind: ErrorKind | None
    last_error_message: str | None
    clock_offset_s: float | None


@dataclass(frozen=True)
class ConflictItem:
    """One row of the conflicts inbox: a field where my value lost, or a record the server refused."""

    id: int
    kind: str  # "conflict" | "rejected"
    entity: str
    record_id: str
    field: str | None  # None for a rejection; "*" when a delete raced an edit
    field_label: str
    mine: Any
    theirs: Any
    reason: str | None
    status: str
    created_at: str
    winner: str = ""  # who won, for the officer: "HQ (pusat)"; empty when the server did not say
    why: str = ""  # why that value won: "peran lebih tinggi", "dikirim lebih akhir", …


def winner_text(role: str | None, username: str | None) -> str:
    """Who won a conflict, as the inbox shows it (role first: what decided it)."""
    roles = {"hq": _("HQ"), "supervisor": _("Supervisor"), "officer": _("Petugas")}
    shown = roles.get(role or "", role or "")
    if username:
        return f"{shown} ({username})" if shown else username
    return shown


def rule_text(rule: str | None) -> str:
    """Why the winning value won (DESIGN §4), in words."""
    if rule == "higher_role":
        return _("Peran lebih tinggi menang (HQ > supervisor > petugas)")
    if rule == "later_arrival":
        return _("Peran sama: perubahan yang tiba belakangan di server menang")
    if rule == "delete_edit":
        return _("Penghapusan dan perubahan bersamaan: yang tidak melihat perubahan lain kalah")
    return ""


def _normalise_url(url: str) -> str:
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise KnownError(_("Alamat server tidak valid: {url}", url=url))
    if parsed.scheme == "http" and (parsed.hostname or "") not in ("127.0.0.1", "localhost", "::1"):
        # Tokens and NIKs must never cross a network in clear text; plain http is for local tests only.
        raise KnownError(_("Alamat server harus diawali https:// (http hanya untuk 127.0.0.1)."))
    return url.strip().rstrip("/")


def login(db: Database, server_url: str, username: str, password: str, device_name: str | None = None, *,
          session: requests.Session | None = None) -> LoginResult:
    """Register this laptop as a device of ``username`` and remember its token.

    Raises ``SyncError`` (``AUTH`` for wrong credentials or a lockout, ``NETWORK``/``SERVER``).
    """
    url = _normalise_url(server_url)
    name = (device_name or platform.node() or "laptop").strip()[:100]
    client = SyncClient(url, session=session)
    try:
        reg = _register(db, client, url, username, password, name)
        client.token = reg.token
        scopes: tuple[str, ...] = ()
        try:
            hello = client.hello()
            scopes = hello.scopes
            st.put_state(db, st.K_SCOPES, list(scopes))
            if hello.role:
                st.put_state(db, st.K_ROLE, hello.role)
        except SyncError as exc:  # logged in all the same; the first sync fetches the villages
            log.warning("hello after login failed: %r", exc)
    finally:
        if session is None:
            client.close()
    log.info("logged in to %s as %s, device %s", url, username, reg.device_id)
    return LoginResult(url, username, reg.device_id, name, scopes)


def _register(db: Database, client: SyncClient, url: str, username: str, password: str,
              name: str) -> Registration:
    """Register this laptop database as the next device of its lineage (``services.succession``)."""
    return succession.register_laptop(db, client, url, username, password, name)


def logout(db: Database, *, revoke: bool = True, session: requests.Session | None = None) -> None:
    """Forget the token; pending ops stay and go out after the next login (as a new device).

    With ``revoke`` the server is asked to revoke the token first (best effort, a few seconds at
    most): offline, the token is only forgotten here.
    """
    url, token = st.state(db, st.K_SERVER_URL), st.state(db, st.K_TOKEN)
    if revoke and url and token:
        client = SyncClient(url, token, session=session or make_session(make_retry(0.1)), timeout=(3, 5))
        try:
            client.revoke()
        except SyncError as exc:
            log.info("token not revoked on the server (%r); forgotten locally", exc)
        finally:
            if session is None:
                client.close()
    st.forget_token(db)


def _client(db: Database, session: requests.Session | None) -> SyncClient:
    url, token = st.state(db, st.K_SERVER_URL), st.state(db, st.K_TOKEN)
    if not url or not token:
        raise SyncError(ErrorKind.AUTH, _("Belum masuk ke server. Masuk dulu untuk sinkronisasi."),
                        detail="no token")
    return SyncClient(url, token, session=session)


def run_cycle(db: Database, *, progress: Callable[[Progress], None] | None = None,
              cancel: Callable[[], bool] | None = None, session: requests.Session | None = None,
              **engine_options: Any) -> CycleReport:
    """Run one sync cycle now. Raises ``SyncError``; ``exc.partial`` tells what got done first."""
    client = _client(db, session)
    try:
        return SyncEngine(db, client, progress=progress, cancel=cancel, **engine_options).run_cycle()
    except SyncError as exc:
        succession.after_sync_error(db, exc)
        raise
    finally:
        if session is None:
            client.close()


def sync_status(db: Database) -> SyncStatus:
    error = st.state(db, st.K_LAST_ERROR) or {}
    kind = None
    if error.get("kind"):
        try:
            kind = ErrorKind(error["kind"])
        except ValueError:
            kind = None
    counts = dict(db.execute("SELECT kind, count(*) FROM sync_conflicts WHERE status = 'open' GROUP BY kind")
                  .fetchall())
    return SyncStatus(
        logged_in=bool(st.state(db, st.K_TOKEN)), server_url=st.state(db, st.K_SERVER_URL),
        username=st.state(db, st.K_USERNAME), device_name=st.state(db, st.K_DEVICE_NAME),
        scopes=tuple(st.state(db, st.K_SCOPES, [])), pending_ops=st.pending_count(db),
        open_conflicts=int(counts.get("conflict", 0)), open_rejections=int(counts.get("rejected", 0)),
        last_success=st.state(db, st.K_LAST_SUCCESS), last_error_kind=kind,
        last_error_message=error.get("message"), clock_offset_s=st.state(db, st.K_CLOCK_OFFSET))


def pending_ops(db: Database) -> int:
    """Local changes not yet acknowledged by the server (the outbox)."""
    return records.pending_ops(db)


def follow_scopes(db: Database, scopes: Sequence[str]) -> bool:
    """Make the officer's villages the server's assignment; True when they changed.

    An HQ account is assigned none: its villages stay as chosen in the setup.
    """
    wanted = list(scopes)
    if not wanted or wanted == settings.villages(db):
        return False
    settings.save_settings(db, villages=wanted)
    return True


def _label(entity_name: str, key: str | None, q: Questionnaire | None = None) -> str:
    spec = (q.entities if q is not None else ENTITIES).get(entity_name)
    if spec is None or key is None:
        return ""
    if key == "*":
        return _("Seluruh data (hapus/ubah)")
    return pick(spec.field(key).label_id, spec.field(key).label_en) if spec.has(key) else key


def list_conflicts(db: Database, *, include_closed: bool = False) -> list[ConflictItem]:
    statuses = ("open", "kept_mine", "accepted", "resent", "dismissed") if include_closed else ("open",)
    q = questionnaire_store.active(db)
    return [ConflictItem(r.id, r.kind, r.entity, r.record_id, r.field, _label(r.entity, r.field, q), r.mine, r.theirs,
                         r.reason, r.status, r.created_at, winner_text(r.winner_role, r.winner_user),
                         rule_text(r.rule)) for r in sc.conflict_rows(db, statuses=statuses)]


@dataclass(frozen=True)
class ConflictPlace:
    """Where an inbox item belongs: its record as stored now, and its household (id and record)."""

    record: dict[str, Any] | None
    household_id: str | None
    household: dict[str, Any] | None


def conflict_place(db: Database, item: ConflictItem) -> ConflictPlace:
    """The item's record and household; a record deleted meanwhile is found through what I sent."""
    record = records.get(db, item.entity, item.record_id)
    mine: dict[str, Any] = item.mine if isinstance(item.mine, dict) else {}
    if item.entity == "households":
        household = record if record is not None else item.mine if isinstance(item.mine, dict) else None
        return ConflictPlace(record, item.record_id, household)
    data = record or mine
    if item.entity == "placements":
        member_id = data.get("member_id")
        member = records.get(db, "members", member_id) if member_id else None
        household_id = member.get("household_id") if member else None
    else:
        household_id = data.get("household_id")
    return ConflictPlace(record, household_id, records.get(db, "households", household_id) if household_id else None)


def _open_row(db: Database, conflict_id: int, kind: str) -> sc.ConflictRow:
    row = sc.conflict_row(db, conflict_id)
    if row is None or row.kind != kind or row.status != "open":
        raise KnownError(_("Konflik ini sudah diselesaikan atau tidak ada."))
    return row


def keep_mine(db: Database, conflict_id: int) -> int:
    """Write my losing value again, as a new edit on top of the winner the officer saw (returns its op_seq).

    The edit is made on the inbox's copy: the winning value it shows. If the record no longer
    holds that value (a later sync changed the field again), the officer would overrule a value
    they have not seen: refused, and the row shows the value that now holds instead.
    """
    row = _open_row(db, conflict_id, "conflict")
    close = (row.id, "kept_mine")
    current = records.get(db, row.entity, row.record_id)
    version = int(current["server_version"]) if current else 0
    if row.field == "*":
        if row.mine == st.DELETED_MARK:
            return sc.force_edit(db, row.entity, row.record_id, {}, delete=True, base=records.Base(version),
                                 close_conflict=close)
        spec = questionnaire_store.spec(db, row.entity)
        fields = {k: v for k, v in (row.mine or {}).items() if spec.has(k)}
        return sc.force_edit(db, row.entity, row.record_id, fields, revive=True, base=records.Base(version),
                             close_conflict=close)
    assert row.field is not None
    if current is not None and row.theirs is not None and current.get(row.field) != row.theirs \
            and current.get(row.field) != row.mine:
        with st.immediate(db):
            sc.set_theirs(db, row.id, current.get(row.field))
        raise KnownError(_("Nilai yang berlaku sudah berubah lagi sejak ditampilkan. Periksa nilai barunya, "
                           "lalu pilih lagi."))
    seen = records.Base(version, {row.field: row.theirs})
    return sc.force_edit(db, row.entity, row.record_id, {row.field: row.mine}, base=seen, close_conflict=close)


def accept_theirs(db: Database, conflict_id: int) -> None:
    """Keep the winning value (already in the local copy after the pull); closes the row."""
    _open_row(db, conflict_id, "conflict")
    with st.immediate(db):
        sc.set_conflict_status(db, conflict_id, "accepted")


def dismiss(db: Database, conflict_id: int) -> None:
    """Give up a rejected change (the server's copy stays)."""
    _open_row(db, conflict_id, "rejected")
    with st.immediate(db):
        sc.set_conflict_status(db, conflict_id, "dismissed")


def resend_rejected(db: Database, conflict_id: int, fixes: dict[str, Any] | None = None) -> int:
    """Send a rejected change again with the officer's ``fixes`` (field → value) applied.

    The whole rejected change is re-sent (not only the fixed fields): the server never stored
    any of it. Validated like a form save first; raises ``ValidationFailed`` on hard errors.
    """
    row = _open_row(db, conflict_id, "rejected")
    close = (row.id, "resent")
    if row.mine == st.DELETED_MARK:
        current = records.get(db, row.entity, row.record_id) or {}
        return sc.force_edit(db, row.entity, row.record_id, {}, delete=True,
                             base=records.Base(_captured_on(db, row.op_seq, current)), close_conflict=close)
    q = questionnaire_store.active(db)
    spec = q.entity(row.entity)
    fields = {k: v for k, v in {**(row.mine or {}), **(fixes or {})}.items() if spec.has(k)}
    current = records.get(db, row.entity, row.record_id) or {}
    whole = {k: current.get(k) for k in spec.keys if current.get(k) is not None}
    whole.update(fields)
    parent = None
    if spec.parent_entity and spec.parent_key and whole.get(spec.parent_key):
        parent = records.get(db, spec.parent_entity, str(whole[spec.parent_key]))
    result = validate(row.entity, whole, record_id=row.record_id, lookup=StoreLookup(db), parent=parent,
                      questionnaire=q)
    if result.errors:
        issues = [RecordIssue(row.entity, row.record_id, i) for i in result.errors]
        raise ValidationFailed(_("Data belum bisa dikirim ulang: {count} kesalahan.", count=len(issues)), issues)
    normalised = {k: result.values.get(k) for k in fields}
    # The server never stored the refused op: all of it is the officer's edit, made on the copy
    # the op was captured on (its base_version), so a change another device made since is seen.
    return sc.force_edit(db, row.entity, row.record_id, normalised, revive=bool(current.get("deleted")),
                         base=records.Base(_captured_on(db, row.op_seq, current)), close_conflict=close)


def _captured_on(db: Database, op_seq: int | None, current: dict[str, Any]) -> int:
    """The base_version of a journaled op (the version its author had seen); else the record's own."""
    found = db.execute("SELECT base_version FROM sync_journal WHERE op_seq = ?", [op_seq]).fetchone() \
        if op_seq is not None else None
    return int(found[0]) if found else int(current.get("server_version") or 0)
