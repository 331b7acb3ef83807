"""Server settings: protocol limits, schema window, lockout policy, password-hash cost, token lifetime."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from desmig_desktop.domain.ops import APP_SCHEMA, MIN_APP_SCHEMA

MIB = 1024 * 1024
DAY = 24 * 60 * 60.0
FAST_ARGON2_ENV = "DESMIG_HQ_ARGON2_FAST"
TOKEN_TTL_ENV = "DESMIG_HQ_TOKEN_TTL_DAYS"
TOKEN_GRACE_ENV = "DESMIG_HQ_TOKEN_GRACE_SECONDS"
APPLIED_OPS_RETENTION_ENV = "DESMIG_HQ_APPLIED_OPS_RETENTION_DAYS"
AGGREGATES_FOLLOW_ENV = "DESMIG_HQ_AGGREGATES_FOLLOW_SECONDS"
PUSH_PROCESSES_ENV = "DESMIG_HQ_PUSH_PROCESSES"


def default_push_processes(serving_processes: int = 1) -> int:
    """Per serving process: one push worker per core beyond the ones applying ops, at most 4
    (beyond that the ordered path is the bound: a worker prepares an op in about half the time
    it takes to apply it). ``serving_processes``: ``desmig-hq serve --workers N`` shares the
    cores between N serving processes."""
    return max(0, min(4, (os.cpu_count() or 1) // max(1, serving_processes) - 1))


@dataclass(frozen=True)
class Settings:
    """Everything tunable about one server instance; immutable and shared by all requests."""

    min_schema: int = MIN_APP_SCHEMA
    max_schema: int = APP_SCHEMA
    # Caps on the request body as received and after gzip decompression (a small gzip body can
    # inflate a thousandfold, so both are needed).
    max_body_bytes: int = 32 * MIB
    max_decompressed_bytes: int = 32 * MIB
    max_ops_per_push: int = 10_000
    pull_default_limit: int = 1_000
    pull_max_limit: int = 5_000
    lockout_threshold: int = 5
    lockout_window_s: float = 15 * 60
    lockout_duration_s: float = 15 * 60
    min_password_length: int = 8
    # Laptops often run with a wrong clock (dead CMOS battery) and officers sit in UTC+7..+9:
    # a visit dated "today" on the laptop must not be refused as "in the future" by the server.
    future_date_tolerance_days: int = 3
    # Cheap argon2 parameters are for tests only; production keeps argon2-cffi's RFC 9106 defaults.
    argon2_fast: bool = False
    db_pool_size: int = 10
    db_max_overflow: int = 20
    # Device tokens expire this long after they were issued (register or rotate); clients rotate
    # well before (see ``auth.tokens``). An expired token means logging in again with the password.
    token_ttl_s: float = 90 * DAY
    # How long a token replaced by a rotation keeps working if the new one is never used (a lost
    # rotation reply on a field laptop's link). The first call with the new token ends it at once.
    token_rotation_grace_s: float = 1 * DAY
    # How long a pushed op's result is kept to answer a replay of it with the original result
    # (``sync/retention``); older replays are answered ``pruned``, never applied again.
    applied_ops_retention_s: float = 90 * DAY
    # How often a serving worker catches the report aggregates up in the background
    # (``aggregates.follower``); 0 = never (reports still catch up before they read). A catch-up
    # recomputes each village changed since the last one, so a longer interval folds more pushes
    # into one recomputation (at 2 s the 1M bench lost 29 % of its push throughput).
    aggregates_follow_s: float = 10.0
    # Worker processes that prepare a large push's ops (hash, validation of new records) while
    # the request's thread applies them in order (``sync.prepare``); 0 = all on that thread.
    # Started by the first push of at least ``push_prepare_min_ops`` ops.
    push_prepare_processes: int = 0
    push_prepare_min_ops: int = 400
    push_prepare_chunk: int = 250  # ops per worker task (the first waits for one)
    # Ops between two writes of a push's records, history and applied-op rows in its transaction
    # (``WorkingSet.write_changes``, ``sync.push``): written as the push goes, the rows' cost
    # overlaps the workers and the device's next batch instead of following them (only the commit
    # waits); 0 = all at the end.
    push_write_every: int = 500

    @classmethod
    def from_env(cls) -> Settings:
        """Default settings, overridden by ``DESMIG_HQ_*`` environment variables where set.

        Raises:
            ValueError: an override that is not a positive number.
        """
        overrides: dict[str, Any] = {}
        for env, key, unit in ((TOKEN_TTL_ENV, "token_ttl_s", DAY), (TOKEN_GRACE_ENV, "token_rotation_grace_s", 1.0),
                               (APPLIED_OPS_RETENTION_ENV, "applied_ops_retention_s", DAY)):
            raw = os.environ.get(env, "").strip()
            if raw:
                value = float(raw)
                if not value > 0 or value == float("inf"):
                    raise ValueError(f"{env} must be a positive number, not {raw!r}")
                overrides[key] = value * unit
        follow = os.environ.get(AGGREGATES_FOLLOW_ENV, "").strip()
        if follow:
            value = float(follow)
            if not 0 <= value < float("inf"):
                raise ValueError(f"{AGGREGATES_FOLLOW_ENV} must be 0 (off) or a positive number, not {follow!r}")
            overrides["aggregates_follow_s"] = value
        processes = os.environ.get(PUSH_PROCESSES_ENV, "").strip()
        if processes and not (processes.isascii() and processes.isdigit() and int(processes) <= 64):
            raise ValueError(f"{PUSH_PROCESSES_ENV} must be a whole number from 0 (off) to 64, not {processes!r}")
        overrides["push_prepare_processes"] = int(processes) if processes else default_push_processes()
        return cls(argon2_fast=os.environ.get(FAST_ARGON2_ENV, "") == "1", **overrides)
