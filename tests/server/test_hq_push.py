"""Push: exactly once per (device, op_seq) — apply, replay, gap, mismatch, rejection."""

from __future__ import annotations

from sqlalchemy import func, select

from desmig_server.db import tables as t

from .support import V1, Hq, business, household, make_op, member, placement


def test_push_creates_records_and_acks_watermark(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    results = dev.push_ok(dev.op("households", "h1", household()), dev.op("members", "m1", member("h1")),
                          dev.op("placements", "p1", placement("m1")), dev.op("businesses", "b1", business("h1")))
    assert [r["status"] for r in results] == ["ok"] * 4
    versions = [r["version"] for r in results]
    assert versions == sorted(versions) and len(set(versions)) == 4
    assert dev.hello()["last_op_seq"] == 4
    rec = hq_app.record("members", "m1")
    assert rec.scope == V1 and rec.parent_id == "h1" and rec.version == rec.server_seq == versions[1]
    assert hq_app.record("placements", "p1").scope == V1  # grandchild inherits the household's village


def test_replay_with_same_hash_returns_stored_result_and_applies_nothing(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    ops = [dev.op("households", "h1", household()), dev.op("members", "m1", member("h1", sex="X"))]
    first = dev.push(*ops)
    assert first.status_code == 200
    before = hq_app.snapshot()
    again = dev.push(*ops)
    assert again.status_code == 200
    assert again.json() == {**first.json()}
    assert again.json()["results"][1]["status"] == "rejected"
    assert hq_app.snapshot() == before


def test_replay_prefix_plus_new_ops_applies_only_the_new(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    op1 = dev.op("households", "h1", household())
    dev.push_ok(op1)
    op2 = dev.op("members", "m1", member("h1"))
    response = dev.push(op1, op2)  # the ack of op1 was lost; the client resends it with op2
    assert response.status_code == 200
    assert response.json()["last_op_seq"] == 2
    assert [r["op_seq"] for r in response.json()["results"]] == [1, 2]
    with hq_app.ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.applied_ops)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(t.records)).scalar() == 2


def test_replay_with_different_hash_is_409_and_changes_nothing(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h1", household()))
    before = hq_app.snapshot()
    cloned = make_op(1, "households", "h1", household(head_name="Lain"))  # a cloned/rolled-back DB reuses op_seq 1
    response = dev.push(cloned, make_op(2, "members", "m1", member("h1")))
    assert response.status_code == 409
    assert response.json()["error"] == "replay_mismatch"
    assert hq_app.snapshot() == before


def test_gap_is_409_with_watermark_and_changes_nothing(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h1", household()))
    before = hq_app.snapshot()
    response = dev.push(make_op(3, "households", "h2", household()))
    assert response.status_code == 409
    assert response.json() == {"error": "gap", "detail": {"last_op_seq": 1}}
    # A hole inside the batch is a gap too, even though its first op is the expected one.
    response = dev.push(make_op(2, "households", "h2", household()), make_op(4, "households", "h3", household()))
    assert response.status_code == 409 and response.json()["detail"]["last_op_seq"] == 1
    assert hq_app.snapshot() == before


def test_watermarks_are_per_device(hq_app: Hq) -> None:
    a = hq_app.user_device("ani", "officer", villages=[V1])
    b = hq_app.register("ani", device_name="second laptop")
    a.push_ok(a.op("households", "h1", household()))
    assert b.push_ok(b.op("households", "h2", household()))[0]["status"] == "ok"
    assert b.push(make_op(1, "households", "h2", household())).status_code == 200  # b's own replay


def test_rejection_is_consumed_and_the_queue_moves_on(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    results = dev.push_ok(
        dev.op("households", "h1", household(consent=False)),  # hard error: no consent
        dev.op("households", "h2", household(village_code="32.01.01.9999")),  # no such village
        dev.op("households", "h3", household(nosuch="x")),  # unknown field
        dev.op("members", "m1", member("no-such-household")),  # unknown parent
        dev.op("households", "h4", household()),
    )
    assert [r["status"] for r in results] == ["rejected"] * 4 + ["ok"]
    assert "persetujuan" in results[0]["reason"]
    assert results[1]["reason"].startswith("village_code: ") and "9999" not in results[1]["reason"]
    assert results[2]["reason"] == "Ada isian yang tidak dikenal." and "nosuch" not in results[2]["reason"]
    assert "tidak ditemukan" in results[3]["reason"]
    assert hq_app.record("households", "h1") is None and hq_app.record("households", "h4") is not None
    assert dev.push(dev.op("households", "h5", household())).json()["last_op_seq"] == 6


def test_rejected_edit_leaves_the_record_unchanged_but_resends_it(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    [created] = dev.push_ok(dev.op("households", "h1", household()))
    [bad] = dev.push_ok(dev.op("households", "h1", {"visited_on": "not a date"}))
    assert bad["status"] == "rejected" and "visited_on" in bad["reason"]
    assert hq_app.data("households", "h1")["visited_on"] == "2024-05-01"
    # The record got a new version so the author's next pull brings the server copy back.
    assert bad["version"] > created["version"]
    assert [r["id"] for r in dev.pull(V1, since=created["version"])["records"]] == ["h1"]


def test_values_are_normalised_and_derived_fields_recomputed(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h1", household(visited_on="01/05/2024", phone="0812-3456-7890")),
                dev.op("businesses", "b1", business("h1", capital="Rp 2.000.000.000", umkm_class="mikro",
                                                    export_ready="ya")))
    assert hq_app.data("households", "h1")["visited_on"] == "2024-05-01"
    assert hq_app.data("households", "h1")["phone"] == "081234567890"
    data = hq_app.data("businesses", "b1")
    assert (data["capital"], data["umkm_class"], data["umkm_basis"], data["export_ready"]) == (
        2_000_000_000, "kecil", "modal", True)


def test_edit_sends_changed_fields_only_and_keeps_the_rest(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h1", household(hamlet="Dusun I")))
    [edit] = dev.push_ok(dev.op("households", "h1", {"head_name": "Budi S."}))
    assert edit["status"] == "ok"
    data = hq_app.data("households", "h1")
    assert (data["head_name"], data["hamlet"]) == ("Budi S.", "Dusun I")


def test_unchanged_upsert_does_not_bump_the_version(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    [first] = dev.push_ok(dev.op("households", "h1", household()))
    [same] = dev.push_ok(dev.op("households", "h1", {"head_name": "Budi Santoso"}))
    assert (same["status"], same["version"]) == ("ok", first["version"])


def test_delete_cascades_to_descendants_with_tombstones(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    dev.push_ok(dev.op("households", "h1", household()), dev.op("members", "m1", member("h1")),
                dev.op("placements", "p1", placement("m1")), dev.op("businesses", "b1", business("h1")))
    [deleted] = dev.push_ok(dev.op("households", "h1", kind="delete"))
    assert deleted["status"] == "ok"
    for entity, rid in [("households", "h1"), ("members", "m1"), ("placements", "p1"), ("businesses", "b1")]:
        assert hq_app.record(entity, rid).deleted, entity
    tombstones = {(r["entity"], r["id"]): r["deleted"] for r in dev.pull(V1)["records"]}
    assert set(tombstones.values()) == {True} and len(tombstones) == 4
    # Deleting again, or deleting a record the server never saw, is a harmless no-op.
    assert [r["status"] for r in dev.push_ok(dev.op("households", "h1", kind="delete"),
                                             dev.op("households", "never", kind="delete"))] == ["ok", "ok"]


def test_revoked_device_cannot_push(hq_app: Hq) -> None:
    dev = hq_app.user_device("ani", "officer", villages=[V1])
    assert hq_app.client.post("/v1/devices/revoke", headers=dev.headers).status_code == 200
    response = dev.push(dev.op("households", "h1", household()))
    assert response.status_code == 401
    assert hq_app.record("households", "h1") is None
