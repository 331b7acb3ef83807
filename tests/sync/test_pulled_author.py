"""A change pulled from HQ names who made it (issue 20 §14): the pull carries the username of
the op that last changed each record, and the laptop's history records it as the actor."""

from __future__ import annotations

from desmig_desktop.store import records
from tests.sync.harness import VILLAGE_1


def _pulled_changes(device, entity: str, record_id: str) -> list[tuple[str, str | None]]:
    return [(h["field"], h["actor"]) for h in records.history(device.db, entity, record_id) if h["source"] == "server"]


def test_a_pulled_edit_and_delete_carry_their_authors_username(hq_server, make_device, checker):
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    hid = ana.create_household(VILLAGE_1, members=2)
    ana.sync(), budi.sync()
    member = budi.live("members")[0]
    budi.edit("households", hid, hamlet="Dusun Krajan")
    budi.edit("members", member, occupation="Petani")
    budi.sync(), ana.sync()
    assert _pulled_changes(ana, "households", hid) == [("hamlet", "budi")]
    assert _pulled_changes(ana, "members", member) == [("occupation", "budi")]
    ana.edit("households", hid, notes="Rumah dekat masjid")
    ana.sync(), budi.sync()
    assert _pulled_changes(budi, "households", hid) == [("notes", "ana")]  # the last writer, each time
    budi.delete_household(hid)
    budi.sync(), ana.sync()
    assert ("deleted", "budi") in _pulled_changes(ana, "households", hid)
    assert ("deleted", "budi") in _pulled_changes(ana, "members", member)  # deleted with its household
    checker.check([ana, budi], quiescent=True)


def test_a_touch_keeps_the_last_writer_of_the_data(hq_server, make_device):
    """A rejected op gives the record a new version (so its author pulls the server's copy) but
    changes no data: the record's author stays whoever last changed it."""
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    hid = ana.create_household(VILLAGE_1)
    ana.sync(), budi.sync()
    budi.edit("households", hid, hamlet="Dusun Krajan")
    budi.sync()
    ana.edit("households", hid, rt="12345")  # too long: rejected at HQ, the record touched
    report = ana.sync()
    assert report.rejected == 1
    [row] = hq_server.query("SELECT updated_by FROM records WHERE id = ?", (hid,))
    assert row["updated_by"] == "budi"
