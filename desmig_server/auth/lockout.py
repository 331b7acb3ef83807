"""Login lockout: after N failures for one username within a window, refuse logins for a while.

State lives in ``login_attempts`` (not process memory) so every stateless worker behind the load
balancer enforces the same lock. Attempts are keyed by the *attempted* username whether or not
it exists, so a lock reveals nothing about which usernames are real.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from desmig_server.db import tables as t
from desmig_server.settings import Settings


def lockout_key(username: str) -> str:
    return username.strip().lower()[:64]


def seconds_locked(conn: Connection, username: str, now: float) -> float:
    """Seconds until ``username`` may try again; 0 when not locked."""
    locked_until = conn.execute(select(t.login_attempts.c.locked_until).where(
        t.login_attempts.c.username == lockout_key(username))).scalar()
    return max(0.0, locked_until - now) if locked_until is not None else 0.0


def record_failure(conn: Connection, username: str, now: float, settings: Settings) -> bool:
    """Count one failed login (inside a write transaction); return True if it locked the name."""
    key = lockout_key(username)
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(dialect_insert(t.login_attempts).values(
        username=key, failures=0, window_started_at=now, locked_until=None).on_conflict_do_nothing())
    row = conn.execute(select(t.login_attempts).where(t.login_attempts.c.username == key).with_for_update()).one()
    failures, window_start = row.failures + 1, row.window_started_at
    if now - window_start > settings.lockout_window_s:
        failures, window_start = 1, now
    values: dict[str, object] = {"failures": failures, "window_started_at": window_start}
    locked = failures >= settings.lockout_threshold
    if locked:
        # Counting restarts once the lock expires: the next full burst locks again.
        values.update(failures=0, window_started_at=now, locked_until=now + settings.lockout_duration_s)
    conn.execute(update(t.login_attempts).where(t.login_attempts.c.username == key).values(**values))
    return locked


def reset(conn: Connection, username: str) -> None:
    conn.execute(t.login_attempts.delete().where(t.login_attempts.c.username == lockout_key(username)))
