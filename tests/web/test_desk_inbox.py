"""A conflict resolved on the web closes in the inbox of the laptop that lost it (issue 21 §5).

When a supervisor resolves a conflict on the web, every laptop pulls the outcome (the record's new
version: ``test_desk_chromium``). A loser whose laptop had already fetched the conflict used to keep
it *open*: the lost-values feed (cursor = conflict id) never re-sends a conflict. The server now
numbers resolutions (``conflicts.resolved_seq``) and the laptop reads the ones after its cursor
(``GET /v1/sync/resolutions``, ``sync/lost.LostFeed.fetch_resolutions``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from tests.sync.fixtures import hq_template, make_device, own_hq, scratch  # noqa: F401 (fixtures)
from tests.sync.harness import PASSWORD, VILLAGE_1, Device, HqServer

pytestmark = pytest.mark.e2e


def _resolve_on_the_web(base: str, conflict_id: int, value: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as web:
        form = web.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf
        assert web.post("/login", data={"username": "pusat", "password": PASSWORD,
                                        "csrf": csrf.group(1)}).status_code in (200, 303)
        page = re.search(r'name="csrf" value="([^"]+)"', web.get(f"/konflik/{conflict_id}").text)
        assert page
        done = web.post(f"/konflik/{conflict_id}", data={"csrf": page.group(1), "pilihan": "value", "nilai": value})
        assert done.status_code in (200, 303), done.text


def test_a_loser_whose_inbox_holds_the_conflict_sees_it_closed_after_the_resolution(
        own_hq: HqServer, make_device: Callable[[str], Device]) -> None:
    ana, budi = make_device("ana"), make_device("budi")
    for device in (ana, budi):
        device.login(own_hq, device.name)
    hid = ana.create_household(VILLAGE_1, members=1, head="Sutrisno")
    ana.sync()
    budi.sync()
    budi.edit("households", hid, head_name="Sutrisna")
    ana.edit("households", hid, head_name="Sutrisno Hadi")
    budi.sync()
    ana.sync()
    budi.sync()  # the feed brings budi's lost value: open in the inbox
    assert [tuple(r) for r in budi.db.execute("SELECT status FROM sync_conflicts").fetchall()] == [("open",)]
    [conflict] = own_hq.query("SELECT id FROM conflicts")
    _resolve_on_the_web(own_hq.url, conflict["id"], "Sutrisno Hadiwijaya")
    budi.sync()
    assert budi.row("households", hid)["head_name"] == "Sutrisno Hadiwijaya"  # the value arrives ...
    assert [tuple(r) for r in budi.db.execute("SELECT status FROM sync_conflicts").fetchall()] == [("resolved",)]
