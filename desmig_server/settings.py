"""Server settings: protocol limits, schema window, lockout policy and password-hash cost."""

from __future__ import annotations

import os
from dataclasses import dataclass

from desmig_desktop.domain.ops import APP_SCHEMA

MIB = 1024 * 1024
FAST_ARGON2_ENV = "DESMIG_HQ_ARGON2_FAST"


@dataclass(frozen=True)
class Settings:
    """Everything tunable about one server instance; immutable and shared by all requests."""

    min_schema: int = APP_SCHEMA
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

    @classmethod
    def from_env(cls) -> Settings:
        """Default settings, with the test-only fast password hashing when its env var is set."""
        return cls(argon2_fast=os.environ.get(FAST_ARGON2_ENV, "") == "1")
