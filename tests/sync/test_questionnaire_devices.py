"""A questionnaire version HQ publishes reaches the devices at sync (issue 16 §3 and Tests).

Device A (ana) applies version 2 at its next sync and saves answers to the new questions; device
B (budi) stays on version 1 (an app from before versions: ``KeepVersion``) and edits another
field of the same household. After both sync, HQ and both devices hold A's new answers and B's
edit; B keeps the answers it does not know in ``extra`` and never blanks them. B then edits the
business whose capital source is version 2's new choice: HQ accepts the edit and keeps the choice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desmig_desktop.services.households import load_household, save_household
from desmig_desktop.store import questionnaire_store as qs
from tests.sync.harness import VILLAGE_1, Device, HqServer
from tests.sync.qversions import KeepVersion, v2_document, write_document

pytestmark = pytest.mark.e2e


def _hq_data(server: HqServer, entity: str, record_id: str) -> dict[str, Any]:
    rows = server.query("SELECT data FROM records WHERE entity = ? AND id = ?", (entity, record_id))
    return dict(json.loads(rows[0]["data"]))


def _columns(device: Device, table: str) -> set[str]:
    return {r[1] for r in device.db.execute(f"PRAGMA table_info({table})")}


def _household_with_business(device: Device) -> tuple[str, str]:
    hid = device.create_household(VILLAGE_1, members=2)
    graph = load_household(device.db, hid)
    owner = graph.members[0]["id"]
    graph.businesses.append({"household_id": hid, "owner_member_id": owner, "name": "Warung Uji",
                             "kbli_category": "G", "status": "aktif", "capital_source": "tabungan"})
    save_household(device.db, graph, confirm_warnings=True)
    device.remember()
    return hid, load_household(device.db, hid).businesses[0]["id"]


def test_a_published_version_reaches_a_device_while_an_old_one_keeps_what_it_does_not_know(
        own_hq: HqServer, make_device: Any, tmp_path: Path) -> None:
    a, b = make_device("ana"), make_device("budi")
    a.login(own_hq, "ana")
    b.login(own_hq, "budi")
    hid, bid = _household_with_business(a)
    a.sync()
    b.sync(questionnaire=KeepVersion)
    assert b.row("households", hid) is not None

    published = own_hq.hq("questionnaire", "publish", str(write_document(tmp_path / "v2.json", v2_document())))
    assert published.returncode == 0, published.stderr

    # A: applies version 2 at its next sync; the new columns exist, nothing else changed.
    report = a.sync()
    assert report.questionnaire_version == 2
    assert dict(report.questionnaire_changes) == {"choice_added": 1, "field_added": 2}
    assert report.as_json()["questionnaire_applied"] == {"version": 2, "changes": {"choice_added": 1, "field_added": 2}}
    assert qs.active_version(a.db) == 2
    assert "training" in _columns(a, "households") and "online_share" in _columns(a, "businesses")
    assert "training" not in _columns(b, "households")

    # A saves the new answers through the form's service, validated under version 2.
    graph = load_household(a.db, hid)
    graph.household["training"] = "las"
    graph.businesses[0].update(online_share=40, capital_source="koperasi")
    save_household(a.db, graph, confirm_warnings=True)
    a.remember()
    versions = {r[0] for r in a.db.execute("SELECT questionnaire_version FROM sync_outbox")}
    assert versions == {2}  # the ops name the version they were validated under

    # B, offline on version 1, edits another field of the same household.
    graph_b = load_household(b.db, hid)
    graph_b.household["address"] = "Jl. Uji Coba 7"
    save_household(b.db, graph_b, confirm_warnings=True)
    b.remember()
    assert {r[0] for r in b.db.execute("SELECT questionnaire_version FROM sync_outbox")} == {1}

    a.sync()
    b.sync(questionnaire=KeepVersion)
    a.sync()

    hq_household, hq_business = _hq_data(own_hq, "households", hid), _hq_data(own_hq, "businesses", bid)
    assert hq_household["training"] == "las" and hq_household["address"] == "Jl. Uji Coba 7"
    assert hq_business["online_share"] == 40 and hq_business["capital_source"] == "koperasi"
    row_a, business_a = a.row("households", hid), a.row("businesses", bid)
    assert row_a is not None and business_a is not None
    assert row_a["training"] == "las" and row_a["address"] == "Jl. Uji Coba 7" and row_a["extra"] is None
    assert business_a["online_share"] == 40 and business_a["capital_source"] == "koperasi"
    # B holds A's answers: the questions it does not know in ``extra``, the new choice as stored.
    row_b, business_b = b.row("households", hid), b.row("businesses", bid)
    assert row_b is not None and business_b is not None
    assert row_b["address"] == "Jl. Uji Coba 7" and json.loads(row_b["extra"]) == {"training": "las"}
    assert json.loads(business_b["extra"]) == {"online_share": 40} and business_b["capital_source"] == "koperasi"
    assert b.pending() == 0 and a.pending() == 0

    # B edits the household again (not the business): its op never names (nor blanks) "training".
    graph_b = load_household(b.db, hid)
    graph_b.household["rt"] = "009"
    save_household(b.db, graph_b, confirm_warnings=True)
    sent = [json.loads(r[0]) for r in b.db.execute("SELECT fields FROM sync_outbox")]
    assert sent and all("training" not in f for f in sent)
    b.sync(questionnaire=KeepVersion)
    assert _hq_data(own_hq, "households", hid)["training"] == "las"
    row_b = b.row("households", hid)
    assert row_b is not None and json.loads(row_b["extra"]) == {"training": "las"} and row_b["rt"] == "009"

    # B (still version 1) edits the business whose capital source is version 2's new choice: its op
    # names only its edit, and HQ does not refuse it for the stored answer B did not touch.
    graph_b = load_household(b.db, hid)
    assert graph_b.businesses[0]["capital_source"] == "koperasi"
    graph_b.businesses[0]["workers"] = 6
    save_household(b.db, graph_b, confirm_warnings=True)
    sent = [json.loads(r[0]) for r in b.db.execute("SELECT fields FROM sync_outbox WHERE entity = 'businesses'")]
    assert sent and all("capital_source" not in f and "online_share" not in f for f in sent)
    b.sync(questionnaire=KeepVersion)
    a.sync()
    hq_business = _hq_data(own_hq, "businesses", bid)
    assert (hq_business["workers"], hq_business["capital_source"], hq_business["online_share"]) == (6, "koperasi", 40)
    business_a, business_b = a.row("businesses", bid), b.row("businesses", bid)
    assert business_a is not None and business_b is not None
    assert (business_a["workers"], business_a["capital_source"], business_a["online_share"]) == (6, "koperasi", 40)
    assert (business_b["workers"], business_b["capital_source"]) == (6, "koperasi")
    assert json.loads(business_b["extra"]) == {"online_share": 40}
    assert b.pending() == 0 and a.pending() == 0

    # When B finally applies version 2, the answers it kept move into their new columns.
    b.sync()
    assert qs.active_version(b.db) == 2
    row_b, business_b = b.row("households", hid), b.row("businesses", bid)
    assert row_b is not None and business_b is not None
    assert row_b["training"] == "las" and row_b["extra"] is None
    assert business_b["online_share"] == 40 and business_b["extra"] is None
