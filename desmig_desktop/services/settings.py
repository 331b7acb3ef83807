"""The officer's settings: language, name and the villages chosen in the setup wizard.

Stored as JSON values in the local ``settings`` table (``store.settings``); the sync part
replaces ``villages`` with the server's assignment. The keys are named here once, so the
wizard, the settings dialog and the main window read and write the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from desmig_desktop.store import settings

LANGUAGE, OFFICER_NAME, VILLAGES = "language", "officer_name", "villages"


def language(db: Database) -> str:
    """The ui language chosen by the officer (``"id"`` until one is chosen)."""
    return str(settings.get(db, LANGUAGE, "id") or "id")


def officer_name(db: Database) -> str:
    """The officer's name as entered in setup (empty before setup)."""
    return str(settings.get(db, OFFICER_NAME, "") or "")


def villages(db: Database) -> list[str]:
    """The villages the officer works in (setup's choice, or the server's assignment after a sync)."""
    return [str(code) for code in settings.get(db, VILLAGES, []) or []]


def save_settings(db: Database, *, language: str | None = None, officer_name: str | None = None,
                  villages: Sequence[str] | None = None) -> None:
    """Store the given settings together (the ones left ``None`` stay as they are).

    One transaction: a failure part-way leaves all of them as they were, so the officer never
    ends up with a new name and the old villages.
    """
    values = {LANGUAGE: language, OFFICER_NAME: officer_name,
              VILLAGES: None if villages is None else list(villages)}
    with db.atomic():
        for key, value in values.items():
            if value is not None:
                settings.put(db, key, value)
