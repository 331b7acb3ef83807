"""The benchmarks' HQ: a real ``desmig-hq serve`` process (``desmig_testing.serve``, shared with
the sync, e2e and fault tests), on SQLite or PostgreSQL, on 127.0.0.1 only.

SQLite servers start from a migrated template file (migrating loads 91,600 regions, seconds we
would otherwise pay per server); the PostgreSQL database ``desmig_bench`` is dropped and created
afresh for each server so every run starts empty.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from desmig_testing import serve
from desmig_testing.serve import ServeProcess

PASSWORD = "rahasia-bench-1"
PG_DB = "desmig_bench"
PG_URL = f"postgresql+psycopg:///{PG_DB}?host=/var/run/postgresql"
BENCH_ENV = {"DESMIG_HQ_ARGON2_FAST": "1", "DESMIG_SYNC_RETRY_BACKOFF": "0.05", "DESMIG_ALLOW_PLAINTEXT": "1"}


def child_env(**extra: str) -> dict[str, str]:
    """A child process's environment with the benchmarks' fast hashing and retries."""
    return serve.child_env(BENCH_ENV, **extra)


def postgres_available() -> bool:
    try:
        return subprocess.run(["psql", "-d", "postgres", "-qAtc", "select 1"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def reset_postgres(name: str = PG_DB) -> str:
    """Drop and create the database ``name`` (default ``desmig_bench``); returns its SQLAlchemy URL."""
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=True, capture_output=True, timeout=60)
    subprocess.run(["createdb", name], check=True, capture_output=True, timeout=60)
    return f"postgresql+psycopg:///{name}?host=/var/run/postgresql"


def build_sqlite_template(folder: Path) -> Path:
    """A migrated, empty HQ SQLite file in ``folder`` (copied for each SQLite server of the run;
    named after the schema version, so a new migration builds a new one)."""
    from desmig_server.context import HqContext
    from desmig_server.db.migrations import LATEST, migrate
    from desmig_server.settings import Settings

    path = folder / f"hq-template-v{LATEST}.db"
    if path.exists():
        return path

    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    ctx = HqContext.open(f"sqlite:///{part}", Settings(argon2_fast=True))
    migrate(ctx.db)
    ctx.db.dispose()
    conn = sqlite3.connect(part)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(str(part) + suffix).unlink(missing_ok=True)
    os.replace(part, path)
    return path


def add_users(db_url: str, users: dict[str, tuple[str, list[str]]]) -> None:
    """Create ``{name: (role, villages)}`` with the bench password (cheap argon2)."""
    from desmig_server.auth.users import add_user
    from desmig_server.context import HqContext
    from desmig_server.db.migrations import migrate
    from desmig_server.settings import Settings

    ctx = HqContext.open(db_url, Settings(argon2_fast=True))
    try:
        migrate(ctx.db)
        with ctx.db.write() as conn:
            for name, (role, villages) in users.items():
                add_user(conn, ctx.passwords, ctx.settings, username=name, role=role, password=PASSWORD,
                         villages=villages or None)
    finally:
        ctx.db.dispose()


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far; 0 once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class HqServer(ServeProcess):
    """The benchmarks' HQ: a migrated SQLite template copy or PostgreSQL, and its CPU time."""

    def __init__(self, db_url: str, log_path: Path, **options: Any) -> None:
        options.setdefault("base_env", BENCH_ENV)
        super().__init__(db_url, log_path, **options)

    @classmethod
    def sqlite(cls, folder: Path, template: Path, name: str = "hq.db") -> HqServer:
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / name
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        shutil.copy(template, db)
        return cls(f"sqlite:///{db}", folder / (name + ".log"))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the running server has used so far, its push workers included."""
        ordered, workers = self.cpu_split()
        return ordered + workers

    def cpu_split(self) -> tuple[float, float]:
        """``(the serving process, its descendants)``' CPU seconds so far (Linux ``/proc``): the
        descendants are the push's prepare workers and their fork server (``sync.prepare``)."""
        assert self.proc is not None
        return _cpu_seconds(self.proc.pid), sum(map(_cpu_seconds, serve.descendants(self.proc.pid)))

    def cpu_since(self, before: tuple[float, float]) -> tuple[float, float]:
        """``cpu_split()`` now, less ``before`` (a ``cpu_split()`` taken earlier)."""
        ordered, workers = self.cpu_split()
        return ordered - before[0], workers - before[1]

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.db_url.removeprefix("sqlite:///")) if self.db_url.startswith("sqlite:///") else None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the server's database directly (counts after a run)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql)).all()]
        finally:
            engine.dispose()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""
