"""The villages an officer may record households in, for the ui (region picker, editor).

Saves and imports are refused outside them by validation itself (``StoreLookup``); the ui
offers only these villages so the officer never gets that far.
"""

from __future__ import annotations

from sqlite_utils import Database

from desmig_desktop.store import queries


def assigned_villages(db: Database) -> frozenset[str] | None:
    """The officer's villages (the server's once registered, else the setup wizard's); ``None``
    when nothing restricts them yet (see ``store.queries.assigned_villages``)."""
    return queries.assigned_villages(db)
