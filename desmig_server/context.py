"""What every request handler needs, built once per app by the composition root (``app.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from desmig_server.auth.passwords import Passwords
from desmig_server.db.engine import Database
from desmig_server.settings import Settings


@dataclass(frozen=True)
class HqContext:
    db: Database
    settings: Settings
    passwords: Passwords

    @classmethod
    def open(cls, db_url: str, settings: Settings | None = None) -> HqContext:
        settings = settings or Settings.from_env()
        db = Database(db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
        return cls(db=db, settings=settings, passwords=Passwords(fast=settings.argon2_fast))
