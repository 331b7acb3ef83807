"""Unsaved form contents kept on disk so nothing typed is lost (autosave, close, crash).

One JSON file per open editor in ``Paths.drafts``, written atomically (temporary file, fsync,
rename) so a power cut leaves either the previous draft or the new one, never half a file.
Drafts hold personal data and live beside the database, under the same data directory.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desmig_desktop.domain.ids import utc_now

log = logging.getLogger(__name__)
DRAFT_VERSION = 1
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Draft:
    """One saved snapshot of an editor: ``data`` is whatever the editor needs to rebuild itself."""

    key: str
    saved_at: str
    data: dict[str, Any]


def _path(folder: Path, key: str) -> Path:
    if not _KEY_RE.match(key):
        raise ValueError(f"bad draft key: {key!r}")
    return folder / f"{key}.json"


def save_draft(folder: Path, key: str, data: dict[str, Any]) -> None:
    """Write (or replace) the draft ``key`` durably."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _path(folder, key)
    tmp = target.with_suffix(".tmp")
    payload = {"version": DRAFT_VERSION, "key": key, "saved_at": utc_now(), "data": data}
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def discard_draft(folder: Path, key: str) -> None:
    """Forget the draft ``key`` (after a save or an explicit discard)."""
    try:
        _path(folder, key).unlink()
    except FileNotFoundError:
        pass


def load_drafts(folder: Path) -> list[Draft]:
    """Every readable draft, oldest first; unreadable files are logged and left in place."""
    if not folder.is_dir():
        return []
    found: list[Draft] = []
    for path in folder.glob("*.json"):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("version") != DRAFT_VERSION or not isinstance(payload.get("data"), dict):
                raise ValueError("unknown draft layout")
            found.append(Draft(str(payload["key"]), str(payload["saved_at"]), payload["data"]))
        except (OSError, ValueError, KeyError) as exc:
            log.warning("draft %s could not be read: %s", path.name, exc)
    return sorted(found, key=lambda d: d.saved_at)
