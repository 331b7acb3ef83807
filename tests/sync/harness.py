"""Test machinery shared by tests/sync, tests/e2e and tests/faults.

* ``HqServer`` — a real ``desmig-hq serve`` process on a random free 127.0.0.1 port, on an
  SQLite file copied from a migrated template (so users exist and start-up is quick).
* ``Device`` — an officer's laptop: its own data dir, in-process store + sync service, and the
  real ``desmig`` CLI for subprocess runs (crash points, SIGKILL).
* ``FaultAdapter`` — a requests transport that loses responses after the server committed,
  duplicates or truncates requests, or pretends the server is down.

Nothing here talks to any network but 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from desmig_desktop.domain.ids import new_id
from desmig_desktop.store import records
from desmig_desktop.store import sync_store as st
from desmig_desktop.store.db import connect
from desmig_desktop.store.records import Change
from desmig_desktop.sync.client import make_retry, make_session
from desmig_testing import serve
from desmig_testing.serve import ServeProcess, free_port, script  # noqa: F401  (free_port: tests import it from here)
from tests.support.broken_sync import BrokenVariant, engine_parts

ROOT = Path(__file__).resolve().parents[2]
VILLAGE_1 = "35.01.01.2001"  # shared by ana and budi
VILLAGE_2 = "35.01.01.2002"  # ana only
VILLAGE_3 = "33.01.01.2001"  # citra only (another province)
PASSWORD = "rahasia-123"
USERS: dict[str, tuple[str, list[str]]] = {
    "ana": ("officer", [VILLAGE_1, VILLAGE_2]),
    "budi": ("officer", [VILLAGE_1]),
    "citra": ("officer", [VILLAGE_3]),
    "pusat": ("hq", []),
}
FAST_ENV = {"DESMIG_HQ_ARGON2_FAST": "1", "DESMIG_SYNC_RETRY_BACKOFF": "0.02"}


def child_env(**extra: str) -> dict[str, str]:
    return serve.child_env(FAST_ENV, **extra)


# -- the HQ server ------------------------------------------------------------------------------
def build_hq_template(path: Path) -> None:
    """A migrated HQ SQLite file holding the standard users."""
    from desmig_server.context import HqContext
    from desmig_server.db.migrations import migrate
    from desmig_server.settings import Settings

    ctx = HqContext.open(f"sqlite:///{path}", Settings(argon2_fast=True))
    migrate(ctx.db)
    _add_users(ctx)
    ctx.db.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _add_users(ctx: Any) -> None:
    from desmig_server.auth.users import add_user

    with ctx.db.write() as conn:
        for name, (role, villages) in USERS.items():
            add_user(conn, ctx.passwords, ctx.settings, username=name, role=role, password=PASSWORD,
                     villages=villages or None)


class HqServer(ServeProcess):
    """A ``desmig-hq serve`` subprocess on its own SQLite file."""

    def __init__(self, db_path: Path, log_path: Path, port: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(f"sqlite:///{db_path}", log_path, port=port, env=env, base_env=FAST_ENV, stop_wait=10)
        self.db_path = db_path

    def kill(self) -> None:
        """SIGKILL: no shutdown, whatever the server was doing."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def reset(self) -> None:
        """Wipe all sync data and devices (users stay) while the server runs: it keeps nothing in memory."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            for table in ("applied_ops", "conflicts", "scope_exits", "records", "devices", "login_attempts",
                          "area_values", "area_figures", "aggregate_state"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("UPDATE seq_counter SET value = 0")
            conn.execute("COMMIT")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def backup_to(self, path: Path) -> None:
        """A consistent copy of the live database (SQLite online backup)."""
        with self.connect() as conn:
            target = sqlite3.connect(path)
            conn.backup(target)
            target.close()

    def restore_from(self, path: Path) -> None:
        """Replace the database with an older copy (server must be stopped)."""
        assert self.proc is None
        for suffix in ("-wal", "-shm"):
            Path(str(self.db_path) + suffix).unlink(missing_ok=True)
        shutil.copy(path, self.db_path)

    def hq(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*script("desmig-hq"), *args, "--db", self.db_url], input=stdin, text=True,
                              capture_output=True, env=child_env(), timeout=120, cwd=self.db_path.parent)


# -- fault injection ----------------------------------------------------------------------------
class LostResponse(requests.exceptions.ConnectionError):
    """The request reached the server (and was committed); the answer never came back."""


class FaultAdapter(HTTPAdapter):
    """A transport that misbehaves on purpose. ``plan(request) -> action`` picks, per request:
    ``None`` (normal), ``"lose"`` (send, then drop the answer), ``"duplicate"`` (send twice,
    return the second answer), ``"truncate"`` (send half the body), ``"down"`` (refuse)."""

    def __init__(self, plan: Callable[[requests.PreparedRequest], str | None] | None = None,
                 backoff: float = 0.01) -> None:
        super().__init__(max_retries=make_retry(backoff))
        self.plan = plan or (lambda _r: None)
        self.sent: list[tuple[str, str, str | None]] = []  # (method, path, action)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        action = self.plan(request)
        path = (request.path_url or "").split("?")[0]
        self.sent.append((request.method or "", path, action))
        if action == "down":
            raise requests.exceptions.ConnectionError("NewConnectionError: server down (injected)")
        if action == "timeout":  # the server got it (and may have committed); we gave up waiting
            super().send(request, *args, **kwargs)
            raise requests.exceptions.ReadTimeout("read timeout (injected)")
        if action is not None and action.startswith("reply:"):  # a canned answer; nothing sent
            _tag, status, *body = action.split(":", 2)
            return self._canned(request, int(status), body[0] if body else "{}")
        if action == "lose":
            super().send(request, *args, **kwargs)
            raise LostResponse("response lost after the server answered (injected)")
        if action == "duplicate":
            super().send(request.copy(), *args, **kwargs)
        if action == "truncate" and isinstance(request.body, bytes):
            cut = request.copy()
            cut.body = request.body[: max(1, len(request.body) // 2)]
            cut.headers["Content-Length"] = str(len(cut.body))
            return super().send(cut, *args, **kwargs)
        return super().send(request, *args, **kwargs)

    @staticmethod
    def _canned(request: requests.PreparedRequest, status: int, body: str) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp._content = body.encode("utf-8")
        resp.headers["Content-Type"] = "application/json"
        resp.request = request
        resp.url = request.url or ""
        return resp

    def count(self, path_suffix: str = "") -> int:
        return sum(1 for _m, p, _a in self.sent if p.endswith(path_suffix))


def only(path_suffix: str, action: str, times: int = 1) -> Callable[[requests.PreparedRequest], str | None]:
    """A plan applying ``action`` to the first ``times`` requests whose path ends with ``path_suffix``."""
    left = [times]

    def plan(request: requests.PreparedRequest) -> str | None:
        if (request.path_url or "").split("?")[0].endswith(path_suffix) and left[0] > 0:
            left[0] -= 1
            return action
        return None
    return plan


# -- devices ------------------------------------------------------------------------------------
class Device:
    """One officer laptop (a data dir). In-process calls share one connection; close it before a
    subprocess writes to the same database."""

    def __init__(self, root: Path, name: str, template: Path) -> None:
        self.root = root
        self.name = name
        root.mkdir(parents=True, exist_ok=True)
        if not (root / "desmig.db").exists():
            shutil.copy(template, root / "desmig.db")
        self._db: Any = None
        self.made: dict[int, tuple[str, str, str, dict[str, Any]]] = {}  # every op this laptop committed
        self.adapter = FaultAdapter()
        self.session = make_session(adapter=self.adapter)
        self.user: str | None = None
        self.foreign_devices: set[str] = set()
        # Ops of copies of this laptop's database that a restore threw away, by (device, wire
        # number): the server may hold them (the checker accepts those, and only those).
        self.retired: dict[tuple[str, int], list[Any]] = {}
        self.backups: dict[Path, dict[int, Any]] = {}  # backup file -> ``made`` when it was taken
        # Registrations of the copies a restore replaced (same lineage, same numbering): the server
        # may hold this database's ops under devices the restored copy never heard of.
        self.earlier_registrations: list[dict[str, Any]] = []
        self._restores_seen = 0

    # connection
    @property
    def db(self) -> Any:
        if self._db is None:
            self._db = connect(self.root / "desmig.db")
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None

    def crash_restart(self) -> None:
        """What a restart after a crash looks like to the store: a fresh connection."""
        if self._db is not None:
            try:
                if self._db.conn.in_transaction:
                    self._db.conn.rollback()
            finally:
                self.close()

    # backup and restore (issue 17 §3)
    def backup(self, path: Path) -> None:
        from desmig_desktop.store.backup import write_backup

        write_backup(self.db, path)
        self.backups[path] = dict(self.made)

    def retire_ops(self) -> dict[tuple[str, int], list[Any]]:
        """Every op this copy holds, by (device, wire number) of the registration it belongs to."""
        regs = st.state(self.db, st.K_REGISTRATIONS, [])
        out: dict[tuple[str, int], list[Any]] = {k: list(v) for k, v in self.retired.items()}
        ops = [*st.journal_ops(self.db), *st.take_batch(self.db, 10**9)]
        for i, reg in enumerate(regs):
            base = int(reg["op_seq_base"])
            upto = int(regs[i + 1]["op_seq_base"]) if i + 1 < len(regs) else float("inf")
            for op in ops:
                if base < op.op_seq <= upto:
                    out.setdefault((reg["device_id"], op.op_seq - base), []).append(op)
        return out

    def restore(self, path: Path, *, previous: Device | None = None) -> None:
        """Restore a backup into this data dir (``previous``: the laptop whose backup it is, when
        it is another one — a new laptop); the copy it replaces is retired."""
        from desmig_desktop.store.backup import apply_pending_restore, stage_restore

        source = previous or self
        retired = source.retire_ops()
        known = {r["device_id"] for r in source.earlier_registrations}
        earlier = [*source.earlier_registrations,
                   *(r for r in st.state(source.db, st.K_REGISTRATIONS, []) if r["device_id"] not in known)]
        made = source.backups[path]
        self.close()
        stage_restore(self.root / "desmig.db", path, None)
        assert apply_pending_restore(self.root / "desmig.db")
        self.retired = retired
        self.earlier_registrations = earlier
        self.made = dict(made)
        self.backups = dict(source.backups)
        self.foreign_devices = set(source.foreign_devices)
        self.user = source.user
        self._restores_seen = len(st.state(self.db, st.K_RESTORES, []))

    def follow_renumbering(self) -> None:
        """Keep ``made`` keyed by op number when a reconcile after a restore moved ops up."""
        if self._db is None and not (self.root / "desmig.db").exists():
            return
        done = st.state(self.db, st.K_RESTORES, [])
        for entry in done[self._restores_seen:]:
            shift, allocated = int(entry["shift"]), int(entry["allocated"])
            if shift:
                self.made = {(seq + shift if seq > allocated else seq): op for seq, op in self.made.items()}
        self._restores_seen = len(done)

    # sync
    def login(self, server: HqServer, user: str, *, password: str = PASSWORD) -> Any:
        from desmig_desktop.services.sync_service import login

        self.user = user
        return login(self.db, server.url, user, password, self.name, session=self.session)

    def lose_token(self, server: HqServer, how: str) -> None:
        """The laptop's device stops working: its token ``expired``, the officer ``logged_out``
        (the device is revoked), or HQ ``revoked`` it. The next sync is refused (401)."""
        from desmig_desktop.services.sync_service import logout

        device_id = st.state(self.db, st.K_DEVICE_ID)
        if how == "logged_out":
            logout(self.db, session=self.session)
        elif how == "expired":
            server.query("UPDATE devices SET token_expires_at = 0 WHERE device_id = ?", (device_id,))
        else:
            assert how == "revoked", how
            server.query("UPDATE devices SET revoked = 1 WHERE device_id = ?", (device_id,))

    def point_at(self, url: str) -> None:
        """Talk to ``url`` from now on (a proxy in front of the same server)."""
        st.put_state(self.db, st.K_SERVER_URL, url)

    def sync(self, *, broken: BrokenVariant | None = None, **options: Any) -> Any:
        """One cycle through ``sync_service.run_cycle``; ``broken``: a negative control's engine."""
        from desmig_desktop.services.sync_service import run_cycle

        return run_cycle(self.db, session=self.session, **engine_parts(broken), **options)

    def engine(self, *, broken: BrokenVariant | None = None, **options: Any) -> Any:
        from desmig_desktop.sync.client import SyncClient
        from desmig_desktop.sync.engine import SyncEngine

        client = SyncClient(st.state(self.db, st.K_SERVER_URL), st.state(self.db, st.K_TOKEN), session=self.session)
        return SyncEngine(self.db, client, **engine_parts(broken), **options)

    def cli(self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        self.close()
        return subprocess.run([*script("desmig"), "--data-dir", str(self.root), *args], input=stdin, text=True,
                              capture_output=True, env=child_env(**(env or {})), timeout=timeout)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        self.close()
        return subprocess.Popen([*script("desmig"), "--data-dir", str(self.root), *args], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(**(env or {})))

    # local edits (each one transaction with its outbox ops, like the form)
    def remember(self) -> None:
        """Note every op now in the outbox: the invariants check none of them is ever lost."""
        self.follow_renumbering()
        for op in st.take_batch(self.db, 1_000_000):
            self.made.setdefault(op.op_seq, (op.entity, op.record_id, op.kind, op.fields))

    def made_records(self) -> set[str]:
        """Ids of the records this laptop created or changed itself."""
        return {record_id for _e, record_id, _k, _f in self.made.values()}

    def create_household(self, village: str, *, members: int = 1, head: str | None = None,
                         hid: str | None = None) -> str:
        from desmig_desktop.services.households import HouseholdGraph, save_household

        hid = hid or new_id()
        people = [{"id": f"{hid[:30]}-m{i}", "name": f"Anggota {i} {hid[-4:]}", "sex": "L" if i % 2 else "P",
                   "relationship": "kepala" if i == 0 else "anak", "migration_status": "pmi_aktif" if i == 1 else "bukan"}
                  for i in range(members)]
        household = {"id": hid, "village_code": village, "head_name": head or f"Kepala {hid[-6:]}",
                     "visited_on": "2025-03-01", "consent": True, "rt": "001", "rw": "002"}
        save_household(self.db, HouseholdGraph(household, people), confirm_warnings=True)
        self.remember()
        return hid

    def edit(self, entity: str, record_id: str, **values: Any) -> list[int]:
        seqs = records.apply_changes(self.db, [Change(entity, record_id, values)])
        self.remember()
        return seqs

    def delete_household(self, hid: str) -> None:
        from desmig_desktop.services.households import delete_household

        delete_household(self.db, hid)
        self.remember()

    def live(self, entity: str = "households") -> list[str]:
        return [r[0] for r in self.db.execute(f"SELECT id FROM {entity} WHERE deleted = 0 ORDER BY id")]

    def pending(self) -> int:
        return st.pending_count(self.db)

    def row(self, entity: str, record_id: str) -> dict[str, Any] | None:
        return records.get(self.db, entity, record_id)


def skewed_clock(days: float) -> Callable[[], dt.datetime]:
    return lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def report_totals(text: str) -> dict[str, Any]:
    return json.loads(text)["totals"]
