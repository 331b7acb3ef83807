"""Region picker queries over the indexed ``regions`` table (Kemendagri codes).

The table holds 91,599 rows (83,762 villages); every query here is bounded by a parent code
(served by ``idx_regions_parent``) or by a ``LIMIT`` on a name-prefix search (served by
``idx_regions_level_name``), so a keystroke never scans or loads the whole list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from desmig_desktop.domain.reference import Region

_COLUMNS = "code, name, level, parent_code, kind"


@dataclass(frozen=True, slots=True)
class VillageMatch:
    """A village found by name, with the names of the areas above it (to tell namesakes apart)."""

    code: str
    name: str
    district: str
    regency: str
    province: str


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _region(row: tuple[str, str, int, str | None, str]) -> Region:
    return Region(code=row[0], name=row[1], level=int(row[2]), parent_code=row[3], kind=row[4])


def children(db: Database, parent_code: str | None, text: str = "", *, limit: int = 500) -> list[Region]:
    """Regions directly under ``parent_code`` (provinces for ``None``) whose name contains ``text``.

    Names are matched case-insensitively anywhere in the name ("bogor" finds "Kota Bogor"); the
    largest parent has ~110 children, so the scan stays within one index range.
    """
    params: list[object] = []
    if parent_code is None:
        where = "parent_code IS NULL AND level = 1"
    else:
        where = "parent_code = ?"
        params.append(parent_code)
    words = text.split()
    for word in words:
        where += " AND name LIKE ? ESCAPE '\\'"
        params.append(f"%{_like_escape(word)}%")
    params.append(limit)
    cur = db.execute(f"SELECT {_COLUMNS} FROM regions WHERE {where} ORDER BY name COLLATE NOCASE, code LIMIT ?",
                     params)
    return [_region(r) for r in cur.fetchall()]


def get(db: Database, code: str) -> Region | None:
    """One region by its code, or ``None``."""
    row = db.execute(f"SELECT {_COLUMNS} FROM regions WHERE code = ?", [code]).fetchone()
    return _region(row) if row else None


def lineage(db: Database, code: str) -> list[Region]:
    """The chain province → … → ``code`` (empty if ``code`` is unknown)."""
    parts = code.split(".")
    codes = [".".join(parts[:n]) for n in range(1, len(parts) + 1)]
    marks = ", ".join("?" * len(codes))
    rows = db.execute(f"SELECT {_COLUMNS} FROM regions WHERE code IN ({marks}) ORDER BY level", codes).fetchall()
    found = [_region(r) for r in rows]
    return found if found and found[-1].code == code else []


def names(db: Database, codes: Iterable[str]) -> dict[str, str]:
    """``{code: name}`` for the given codes (unknown codes are left out)."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    return dict(db.execute(f"SELECT code, name FROM regions WHERE code IN ({marks})", wanted).fetchall())


def find_villages(db: Database, text: str, *, limit: int = 30) -> list[VillageMatch]:
    """Villages anywhere in Indonesia whose name starts with ``text`` (index range scan, bounded)."""
    prefix = text.strip()
    if not prefix:
        return []
    cur = db.execute(
        "SELECT v.code, v.name, d.name, r.name, p.name FROM regions v"
        " JOIN regions d ON d.code = v.parent_code JOIN regions r ON r.code = d.parent_code"
        " JOIN regions p ON p.code = r.parent_code"
        " WHERE v.level = 4 AND v.name LIKE ? ESCAPE '\\' ORDER BY v.name COLLATE NOCASE, v.code LIMIT ?",
        [f"{_like_escape(prefix)}%", limit],
    )
    return [VillageMatch(*row) for row in cur.fetchall()]


def village_label(db: Database, code: str) -> str:
    """``"Cijayanti, Babakan Madang, Kabupaten Bogor"`` for a village code (the code itself if unknown)."""
    chain = lineage(db, code)
    if len(chain) < 3:
        return code
    return ", ".join(r.name for r in reversed(chain[1:]))
