"""A household is saved or imported only in the officer's villages (issue 13 §5).

Once the device is registered those are the server's scopes (from ``hello``, in ``sync_state``);
before, the setup wizard's villages; an HQ account and a laptop set up with no villages are not
restricted here (the HQ still rejects per op). The HQ would reject an op outside the scopes; the
laptop refuses it before it enters the queue, so one record never ends up rejected or stuck.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from desmig_desktop.domain.i18n import _, set_language
from desmig_desktop.errors import ValidationFailed
from desmig_desktop.services.exchange import ImportFailed, import_file
from desmig_desktop.services.households import HouseholdGraph, save_household
from desmig_desktop.services.villages import assigned_villages
from desmig_desktop.store import settings
from desmig_desktop.store import sync_store as st

MINE, OTHER, THIRD = "32.01.05.2003", "35.02.01.2001", "32.01.01.1001"


def _household(village: str, **over: Any) -> dict[str, Any]:
    return {"village_code": village, "head_name": "Budi Santoso", "visited_on": "2025-03-01", "consent": True,
            **over}


def _save(db: Database, village: str) -> None:
    save_household(db, HouseholdGraph(_household(village), []), confirm_warnings=True)


def _register(db: Database, role: str, scopes: list[str]) -> None:
    st.put_state(db, st.K_DEVICE_ID, "dev-1")
    st.put_state(db, st.K_ROLE, role)
    st.put_state(db, st.K_SCOPES, scopes)


def _refused(db: Database, village: str) -> str:
    with pytest.raises(ValidationFailed) as info:
        _save(db, village)
    [issue] = [i.issue for i in info.value.issues if i.issue.hard]
    assert (issue.field, issue.code) == ("village_code", "region_scope")
    return issue.message


def _count(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM households").fetchone()[0])


def test_before_registration_the_wizard_villages_decide(db: Database) -> None:
    assert assigned_villages(db) is None
    _save(db, OTHER)  # nothing set up yet: not restricted here
    settings.put(db, "villages", [MINE])
    assert assigned_villages(db) == {MINE}
    assert _refused(db, OTHER) == "Di luar desa tugas Anda."
    _save(db, MINE)
    assert _count(db) == 2
    assert db.execute("SELECT count(*) FROM sync_outbox WHERE fields LIKE ?", [f"%{OTHER}%"]).fetchone()[0] == 1


def test_once_registered_the_servers_scopes_decide(db: Database) -> None:
    settings.put(db, "villages", [MINE])
    _register(db, "officer", [OTHER, THIRD])
    assert assigned_villages(db) == {OTHER, THIRD}
    _refused(db, MINE)  # the wizard's choice no longer counts: the server's assignment does
    _save(db, OTHER)
    _save(db, THIRD)
    _register(db, "hq", [OTHER])  # HQ's scopes are only where data lies: no restriction
    assert assigned_villages(db) is None
    _save(db, MINE)


def test_the_refusal_is_translated(db: Database) -> None:
    settings.put(db, "villages", [MINE])
    set_language("en")
    try:
        assert _refused(db, OTHER) == "Outside your assigned villages." == _("Di luar desa tugas Anda.")
    finally:
        set_language("id")


def test_an_edit_of_a_household_in_a_village_taken_away_is_refused(db: Database) -> None:
    _register(db, "officer", [MINE, OTHER])
    save_household(db, HouseholdGraph({**_household(OTHER), "id": "h-other"}, []), confirm_warnings=True)
    _register(db, "officer", [MINE])
    with pytest.raises(ValidationFailed):
        save_household(db, HouseholdGraph({**_household(OTHER, notes="x"), "id": "h-other"}, []),
                       confirm_warnings=True)
    # moving it into one of the officer's villages is accepted
    save_household(db, HouseholdGraph({**_household(MINE), "id": "h-other"}, []), confirm_warnings=True)


def test_import_accepts_only_the_officers_villages(db: Database, tmp_path: Path) -> None:
    _register(db, "officer", [MINE])
    lines = [{"entity": "households", "id": f"RT-{n}", "data": _household(v)} for n, v in enumerate((MINE, OTHER))]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(db, path)
    [error] = info.value.errors
    assert (error.column, error.message, error.row) == ("village_code", "Di luar desa tugas Anda.", 2)
    assert _count(db) == 0  # all or nothing
    result = import_file(db, path, valid_only=True)
    assert (result["imported"], result["invalid"]) == (1, 1)
    assert [r[0] for r in db.execute("SELECT village_code FROM households")] == [MINE]
