"""Pull: commit-ordered pages by scope and cursor, tombstones, and the watermark."""

from __future__ import annotations

import dataclasses

from desmig_server.settings import Settings

from .conftest import open_hq
from .support import V1, V2, Hq, household


def test_pages_follow_the_cursor_without_overlap_or_gap(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1, V2])
    dev.push_ok(*[dev.op("households", f"h{i}", household(V1 if i % 3 else V2)) for i in range(10)])
    full = dev.pull(V1)
    assert not full["more"] and len(full["records"]) == 6
    seqs = [r["server_seq"] for r in full["records"]]
    assert seqs == sorted(seqs) and full["next"] == seqs[-1]
    pages, since = [], 0
    while True:
        page = dev.pull(V1, since=since, limit=4)
        pages.append([r["id"] for r in page["records"]])
        since = page["next"]
        if not page["more"]:
            break
    assert pages == [[r["id"] for r in full["records"][:4]], [r["id"] for r in full["records"][4:]]]
    assert dev.pull(V1, since=since) == {"records": [], "next": since, "more": False, "last_op_seq": 10}


def test_records_carry_all_fields_versions_and_tombstones(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h1", household()), dev.op("households", "h2", household()))
    [deleted] = dev.push_ok(dev.op("households", "h1", kind="delete"))
    records = {r["id"]: r for r in dev.pull(V1)["records"]}
    assert records["h1"]["deleted"] is True and records["h1"]["version"] == deleted["version"]
    assert records["h2"]["deleted"] is False
    assert set(records["h2"]["data"]) == {"village_code", "hamlet", "rt", "rw", "address", "kk_number",
                                          "head_name", "phone", "latitude", "longitude", "visited_on", "consent",
                                          "notes", "location_accuracy_m", "location_at", "interview_started_at",
                                          "interview_ended_at"}
    assert records["h1"]["by"] == records["h2"]["by"] == "ani"  # who last changed it (issue 20 §14)
    assert records["h2"]["version"] == records["h2"]["server_seq"]
    assert [r["id"] for r in dev.pull(V1)["records"]] == ["h2", "h1"]  # h1 changed last


def test_pull_reports_this_devices_watermark(hq_app: Hq) -> None:
    a = hq_app.user_device("ani", "officer", villages=[V1])
    b = hq_app.register("ani", device_name="other")
    a.push_ok(a.op("households", "h1", household()), a.op("households", "h2", household()))
    assert a.pull(V1)["last_op_seq"] == 2
    assert b.pull(V1)["last_op_seq"] == 0


def test_page_size_is_capped_by_the_server(db_url: str) -> None:
    settings = dataclasses.replace(Settings.from_env(), pull_default_limit=2, pull_max_limit=3)
    for hq_app in open_hq(db_url, settings):
        dev = hq_app.user_device("ani", "officer", villages=[V1])
        dev.push_ok(*[dev.op("households", f"h{i}", household()) for i in range(5)])
        assert len(dev.pull(V1)["records"]) == 2
        page = dev.pull(V1, limit=100)
        assert len(page["records"]) == 3 and page["more"] is True
