"""A device never downloads its own acknowledged changes (issue 21 §1), in whole cycles of the
real engine against a real server: what it pushed comes back only when the server's copy differs
from its own (another writer, a rejection's touch), and nothing else is missing or stale."""

from __future__ import annotations

from tests.sync.harness import VILLAGE_1, VILLAGE_2


def test_a_cycle_pulls_back_nothing_of_its_own_and_everything_of_others(hq_server, make_device, checker):
    ana, budi = make_device("ana"), make_device("budi")
    ana.login(hq_server, "ana"), budi.login(hq_server, "budi")
    hids = [ana.create_household(VILLAGE_1 if i % 2 else VILLAGE_2, members=2) for i in range(4)]
    first = ana.sync()
    assert first.pushed == 4 * 3 and first.pulled == 0  # (4 households with 2 members each)
    budi.sync()
    budi.edit("households", hids[1], hamlet="Dusun Krajan")  # another writer (budi has village 1): comes down
    budi.sync()
    ana.edit("households", hids[3], notes="catatan ana")  # her own: does not
    ana.edit("households", hids[2], rt="12345")  # rejected: touched, the server's copy comes back
    second = ana.sync()
    assert second.rejected == 1 and second.pulled == 2
    assert ana.row("households", hids[1])["hamlet"] == "Dusun Krajan"
    budi.sync()
    checker.check([ana, budi], quiescent=True)
    assert ana.sync().pulled == 0
