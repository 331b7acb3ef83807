"""What every request handler needs, built once per app by the composition root (``app.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from desmig_server.auth.passwords import Passwords
from desmig_server.db.engine import Database
from desmig_server.settings import Settings
from desmig_server.sync.prepare import PreparePool


@dataclass(frozen=True)
class HqContext:
    db: Database
    settings: Settings
    passwords: Passwords
    prepare: PreparePool | None = None  # a push's worker processes (``sync.prepare``), if any

    @classmethod
    def open(cls, db_url: str, settings: Settings | None = None) -> HqContext:
        settings = settings or Settings.from_env()
        db = Database(db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
                      background_checkpoint=True)
        processes = settings.push_prepare_processes
        pool = (PreparePool(processes, chunk=settings.push_prepare_chunk, min_ops=settings.push_prepare_min_ops)
                if processes > 0 else None)
        return cls(db=db, settings=settings, passwords=Passwords(fast=settings.argon2_fast), prepare=pool)
