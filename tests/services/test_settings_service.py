"""services.settings: the officer's settings read with their defaults, and saved together."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from desmig_desktop.services import settings
from desmig_desktop.store import settings as stored

VILLAGE = "32.01.05.2001"


def test_defaults_before_setup(db: Any) -> None:
    assert (settings.language(db), settings.officer_name(db), settings.villages(db)) == ("id", "", [])
    assert all(stored.get(db, key) is None for key in ("language", "officer_name", "villages"))


@pytest.mark.parametrize("given", [
    {"language": "en"}, {"officer_name": "Budi"}, {"villages": [VILLAGE]}, {"villages": []},
    {"language": "en", "officer_name": "Budi", "villages": (VILLAGE, "33.01.01.2001")}, {},
])
def test_only_the_given_settings_change(db: Any, given: dict[str, Any]) -> None:
    settings.save_settings(db, language="id", officer_name="Siti", villages=["33.01.01.2001"])
    before = {"language": "id", "officer_name": "Siti", "villages": ["33.01.01.2001"]}
    settings.save_settings(db, **given)
    expected = before | {key: list(value) if key == "villages" else value for key, value in given.items()}
    assert {"language": settings.language(db), "officer_name": settings.officer_name(db),
            "villages": settings.villages(db)} == expected


def test_a_failed_write_keeps_all_three_as_they_were(db: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    settings.save_settings(db, language="id", officer_name="Siti", villages=[VILLAGE])
    real = stored.put

    def put(handle: Any, key: str, value: Any, **kwargs: Any) -> None:
        if key == "villages":
            raise sqlite3.OperationalError("database or disk is full")
        real(handle, key, value, **kwargs)

    monkeypatch.setattr(stored, "put", put)
    with pytest.raises(sqlite3.OperationalError):
        settings.save_settings(db, language="en", officer_name="Budi", villages=[])
    assert (settings.language(db), settings.officer_name(db), settings.villages(db)) == ("id", "Siti", [VILLAGE])
