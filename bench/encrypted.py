"""Desktop rows on the database officers have: SQLCipher-encrypted (the app's default).

Every desktop-side row (search, save, start, RSS, push/pull/sync, export) is measured on an
encrypted database opened the way the app opens it (``store.db.connect`` with a passphrase; child
processes — the CLI, the GUI, ``bench.worker`` — get it from ``DESMIG_PASSPHRASE``, as an officer's
script would). The plaintext figure of the same row stays beside it as a context row whose
baseline is the encrypted figure, so the cost of encryption reads off the ratio.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.common import Row, show

PASSPHRASE = "sandi-bench-rahasia-1"  # synthetic; the bench DBs hold invented people only
PASSPHRASE_ENV = "DESMIG_PASSPHRASE"  # what the CLI and the GUI read (services.database)
ENCRYPTED = ", SQLCipher DB"
PLAINTEXT = ", plaintext DB (context)"
HIGHER_IS_BETTER = ("/s",)  # rates: records/s, hh/s


def passphrase_env(passphrase: str | None) -> dict[str, str]:
    """The extra environment of a child process opening the DB with ``passphrase`` (None: plain)."""
    return {PASSPHRASE_ENV: passphrase} if passphrase else {}


def encrypt(db_path: Path, passphrase: str = PASSPHRASE) -> Path:
    """Encrypt the plain DB at ``db_path`` in place, as the app does when a passphrase is first set."""
    from desmig_desktop.store.db import connect

    connect(db_path, passphrase).conn.close()
    return db_path


def label(rows: list[Row], suffix: str) -> list[Row]:
    """``rows`` renamed with ``suffix`` (which DB they ran on)."""
    return [dataclasses.replace(r, name=r.name + suffix) for r in rows]


def cost(encrypted: Row, plain: Row) -> float:
    """How much slower (or bigger) the encrypted figure is, as a fraction (0.1 = 10 % worse)."""
    if not plain.value or not encrypted.value:
        return 0.0
    if encrypted.unit.endswith(HIGHER_IS_BETTER):
        return plain.value / encrypted.value - 1
    return encrypted.value / plain.value - 1


def twins(encrypted: list[Row], plain: list[Row]) -> list[Row]:
    """The encrypted rows (named ``… , SQLCipher DB``), each followed by its plaintext twin of the
    same name (if measured) as a context row: value plaintext, baseline the encrypted figure."""
    by_name = {r.name: r for r in plain}
    out: list[Row] = []
    for row in encrypted:
        out.append(dataclasses.replace(row, name=row.name + ENCRYPTED,
                                       note=("; ".join(p for p in (row.note, "SQLCipher, opened as the app opens it") if p))))
        twin = by_name.get(row.name)
        if twin is None:
            continue
        context = Row(twin.name + PLAINTEXT, twin.value, twin.unit, row.value, "context (no §7 target)", None,
                      baseline_name="same row on the SQLCipher DB",
                      note=f"encryption costs {cost(row, twin) * 100:+.0f} %"
                           + (f"; {twin.note}" if twin.note else ""))
        show(context)
        out.append(context)
    return out
