"""Login lockout: after N failures for one username within a window, refuse logins for a while.

State lives in ``login_attempts`` (not process memory) so every stateless worker behind the load
balancer enforces the same lock. Attempts are keyed by the *attempted* username whether or not
it exists, so a lock reveals nothing about which usernames are real. Each attempt is charged
before its password is checked (``begin_attempt``), so parallel guesses cannot outrun the lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from desmig_server.db import tables as t
from desmig_server.settings import Settings


def lockout_key(username: str) -> str:
    return username.strip().lower()[:64]


def _row(conn: Connection, key: str, now: float) -> Any:
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(dialect_insert(t.login_attempts).values(
        username=key, failures=0, window_started_at=now, locked_until=None).on_conflict_do_nothing())
    return conn.execute(select(t.login_attempts).where(t.login_attempts.c.username == key).with_for_update()).one()


def begin_attempt(conn: Connection, username: str, now: float, settings: Settings) -> float:
    """Charge one attempt *before* the password is checked (inside a write transaction).

    Returns the seconds to wait (0: go ahead). Counting first, under the row lock, is what makes
    the threshold hold against many concurrent guesses: had the count been taken only after a
    failed check, every request of a parallel burst would pass the "not locked" read first. A
    successful login then calls ``reset``.
    """
    key = lockout_key(username)
    row = _row(conn, key, now)
    if row.locked_until is not None and row.locked_until > now:
        return float(row.locked_until - now)
    failures, window_start = row.failures, row.window_started_at
    if now - window_start > settings.lockout_window_s:
        failures, window_start = 0, now
    if failures >= settings.lockout_threshold:  # a burst filled the window: lock now
        _lock(conn, key, now, settings)
        return settings.lockout_duration_s
    conn.execute(update(t.login_attempts).where(t.login_attempts.c.username == key).values(
        failures=failures + 1, window_started_at=window_start, locked_until=None))
    return 0.0


def _lock(conn: Connection, key: str, now: float, settings: Settings) -> None:
    # Counting restarts once the lock expires: the next full burst locks again.
    conn.execute(update(t.login_attempts).where(t.login_attempts.c.username == key).values(
        failures=0, window_started_at=now, locked_until=now + settings.lockout_duration_s))


def record_failure(conn: Connection, username: str, now: float, settings: Settings) -> bool:
    """After a failed check of an attempt ``begin_attempt`` charged: lock the name once the
    threshold is reached. Returns True if it locked the name."""
    key = lockout_key(username)
    row = _row(conn, key, now)
    if row.failures >= settings.lockout_threshold:
        _lock(conn, key, now, settings)
        return True
    return False


def reset(conn: Connection, username: str) -> None:
    conn.execute(t.login_attempts.delete().where(t.login_attempts.c.username == lockout_key(username)))
