"""The programme's records on the HQ (issue 15 "Sync, scope, conflicts"): scoped by their village
like households, merged field by field with losing values kept, refused per op outside the
officer's villages or when they name a member or business of another village; a household that
moves keeps the attendance and services recorded where they happened; one profile per village."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from desmig_desktop.domain.fields import ENTITIES, PROGRAMME_ENTITIES
from desmig_desktop.domain.programme import side_references, village_profile_id

from .support import (
    V1,
    V2,
    V3,
    Device,
    Hq,
    attendance,
    business,
    cooperative,
    cooperative_business,
    cooperative_member,
    household,
    member,
    officer_activity,
    parenting_activity,
    programme_ops,
    reset_data,
    service,
    village_profile,
)

PROGRAMME = [e.name for e in PROGRAMME_ENTITIES]
OUTSIDE = "Di luar desa tugas Anda."
NOT_FOUND = "Data yang dirujuk tidak ditemukan di desa tugas Anda."
OTHER_VILLAGE = "Data yang dirujuk berada di desa lain; pilih data dari desa yang sama."
GONE = "Data yang dirujuk sudah dihapus."

# Per entity, a field two devices edit: a different one each for the merge, the same for the clash.
EDITS: dict[str, tuple[tuple[str, Any], tuple[str, Any]]] = {
    "village_profiles": (("facilitators", "Ani"), ("head_name", "Pak Kades")),
    "services": (("notes", "Sudah ditelepon"), ("referral", "dinaker")),
    "business_supports": (("provider", "Dinaker"), ("topic", "Pemasaran daring")),
    "parenting_activities": (("facilitator", "Bu Ratna"), ("topic", "Membaca")),
    "parenting_attendance": (("role", "pengasuh"), ("member_id", "m2")),
    "cooperatives": (("notes", "Rapat anggota"), ("capital", 5_000_000)),
    "cooperative_members": (("joined_on", "2024-05-06"), ("role", "ketua")),
    "cooperative_businesses": (("support", "Modal bergulir"), ("support", "Pemasaran")),
    "officer_activities": (("attendance", 25), ("follow_up", "Rapat lanjutan")),
}
assert set(EDITS) == set(PROGRAMME)


def _village(hq_app: Hq, dev: Device, village: str, suffix: str = "") -> tuple[str, str, str]:
    """A household of ``village`` with a member and a business (ids carry ``suffix``)."""
    h, m, b = f"h{suffix}", f"m{suffix}", f"b{suffix}"
    results = dev.push_ok(dev.op("households", h, household(village)), dev.op("members", m, member(h)),
                          dev.op("businesses", b, business(h)))
    assert [r["status"] for r in results] == ["ok"] * 3
    return h, m, b


def _statuses(results: list[dict[str, Any]]) -> list[str]:
    return [r["status"] for r in results]


@pytest.fixture
def two_officers(hq_app: Hq) -> tuple[Device, Device, dict[str, str]]:
    """Two officers of V1 on two laptops, one record of every programme entity made by the first."""
    a = hq_app.user_device("ofa", "officer", villages=[V1])
    b = hq_app.user_device("ofb", "officer", villages=[V1])
    h, m, bz = _village(hq_app, a, V1)
    a.push_ok(a.op("members", "m2", member(h, name="Dewi Lestari")))
    ops, ids = programme_ops(a, V1, m, bz)
    assert _statuses(a.push_ok(*ops)) == ["ok"] * len(ops)
    b.pull_all(V1)
    return a, b, ids


def test_every_programme_record_reaches_the_other_laptop_of_its_village(hq_app: Hq, two_officers) -> None:
    _a, _b, ids = two_officers
    fresh = hq_app.user_device("ofc", "officer", villages=[V1])
    got = {(r["entity"], r["id"]): r for r in fresh.pull_all(V1)}
    for entity, record_id in ids.items():
        assert (entity, record_id) in got, entity
        assert hq_app.record(entity, record_id).scope == V1  # children take their parent's village
    assert got[("services", ids["services"])]["data"]["member_id"] == "m"


@pytest.mark.parametrize("entity", PROGRAMME)
def test_edits_of_different_fields_merge_and_of_the_same_field_keep_the_loser(hq_app: Hq, two_officers,
                                                                              entity: str) -> None:
    a, b, ids = two_officers
    record_id = ids[entity]
    (key_a, value_a), (key_b, value_b) = EDITS[entity]
    base = a.versions[(entity, record_id)]
    assert _statuses(a.push_ok(a.op(entity, record_id, {key_a: value_a}, base=base))) == ["ok"]
    if key_a == key_b:  # the same field, concurrently: one wins, the other value is kept
        [result] = b.push_ok(b.op(entity, record_id, {key_b: value_b}, base=base))
        assert result["status"] == "conflict"
        [clash] = [c for c in hq_app.conflicts() if c["record_id"] == record_id]
        assert clash["field"] == key_a and clash["scope"] == V1
        return
    [result] = b.push_ok(b.op(entity, record_id, {key_b: value_b}, base=base))
    assert result["status"] == "merged"
    data = hq_app.data(entity, record_id)
    assert (data[key_a], data[key_b]) == (value_a, value_b)
    assert not hq_app.conflicts()


# Each op an officer of V1 must not make, and why (the village of a top-level record, the parent's
# village of a child). The parent records live in V3, made by HQ.
OUTSIDE_CASES = {
    "village_profiles": lambda r: ("village_profiles", village_profile_id(V3), village_profile(V3)),
    "services": lambda r: ("services", "x-sv", service(V3)),
    "business_supports": lambda r: ("business_supports", "x-bs", {"business_id": r["businesses"],
                                                                   "support_type": "modal",
                                                                   "received_on": "2024-05-03"}),
    "parenting_activities": lambda r: ("parenting_activities", "x-pa", parenting_activity(V3)),
    "parenting_attendance": lambda r: ("parenting_attendance", "x-at", attendance(r["parenting_activities"], "m")),
    "cooperatives": lambda r: ("cooperatives", "x-co", cooperative(V3)),
    "cooperative_members": lambda r: ("cooperative_members", "x-cm", cooperative_member(r["cooperatives"], "m")),
    "cooperative_businesses": lambda r: ("cooperative_businesses", "x-cb",
                                         cooperative_business(r["cooperatives"], "b")),
    "officer_activities": lambda r: ("officer_activities", "x-oa", officer_activity(V3)),
}
assert set(OUTSIDE_CASES) == set(PROGRAMME)


def test_an_officer_cannot_write_programme_records_of_another_village(hq_app: Hq) -> None:
    """Per op, like any invalid op: the batch goes through, the refused records are not stored,
    and the other village's records are untouched."""
    hq = hq_app.user_device("pusat", "hq")
    _h, m3, b3 = _village(hq_app, hq, V3, "3")
    ops, there = programme_ops(hq, V3, m3, b3, "3")
    hq.push_ok(*ops)
    officer = hq_app.user_device("ofa", "officer", villages=[V1])
    _village(hq_app, officer, V1)
    before = {(e, i): hq_app.record(e, i).version for e, i in there.items()}
    refs = {**there, "businesses": b3}
    attempts = [officer.op(*OUTSIDE_CASES[entity](refs)) for entity in PROGRAMME]
    fine = officer.op("services", "fine", service(V1))
    results = officer.push_ok(*attempts, fine)
    assert [(r["status"], r["reason"]) for r in results[:-1]] == [("rejected", OUTSIDE)] * len(PROGRAMME)
    assert results[-1]["status"] == "ok"
    for entity, record_id, _fields in (OUTSIDE_CASES[e](refs) for e in PROGRAMME):
        row = hq_app.record(entity, record_id)
        assert row is None or ((entity, record_id) in before and row.version == before[(entity, record_id)])
    # an edit moving an own record out of the officer's villages is refused too
    [moved] = officer.push_ok(officer.op("services", "fine", {"village_code": V3}))
    assert (moved["status"], moved["reason"]) == ("rejected", OUTSIDE)
    assert hq_app.data("services", "fine")["village_code"] == V1


# Each side reference, and a record of V1 that uses it to name ``ref`` (a member or a business).
REFERENCES = {
    ("services", "member_id"): lambda ref, r: service(V1, ref),
    ("parenting_attendance", "member_id"): lambda ref, r: attendance(r["parenting_activities"], ref),
    ("cooperative_members", "member_id"): lambda ref, r: cooperative_member(r["cooperatives"], ref),
    ("cooperative_businesses", "business_id"): lambda ref, r: cooperative_business(r["cooperatives"], ref),
}
assert set(REFERENCES) == {(e, k) for e in PROGRAMME for k, _t in side_references(e)}


@pytest.mark.parametrize("entity, key", list(REFERENCES), ids=[e for e, _k in REFERENCES])
def test_a_reference_must_name_a_live_record_of_the_same_village(hq_app: Hq, entity: str, key: str) -> None:
    """Refused per op: a record that does not exist, one of a village the officer does not have
    (said exactly as "not found"), one of the officer's other village, one deleted; accepted: a
    live one of the same village."""
    target = ENTITIES[entity].field(key).ref_entity
    pick = {"members": 1, "businesses": 2}[target]
    hq = hq_app.user_device("pusat", "hq")
    far = _village(hq_app, hq, V3, "3")[pick]
    officer = hq_app.user_device("ofa", "officer", villages=[V1, V2])
    near = _village(hq_app, officer, V1)[pick]
    other = _village(hq_app, officer, V2, "2")[pick]
    gone = _village(hq_app, officer, V1, "g")[pick]
    officer.push_ok(officer.op(target, gone, kind="delete"))
    ops, ids = programme_ops(officer, V1, _village(hq_app, officer, V1, "p")[1],
                             _village(hq_app, officer, V1, "q")[2], "p")
    officer.push_ok(*ops)
    cases = [("nope", NOT_FOUND), (far, NOT_FOUND), (other, OTHER_VILLAGE), (gone, GONE), (near, None)]
    results = officer.push_ok(*(officer.op(entity, f"r{n}", REFERENCES[(entity, key)](ref, ids))
                                for n, (ref, _why) in enumerate(cases)))
    assert [(r["status"], r["reason"]) for r in results] == [
        ("rejected", f"{key}: {why}") if why else ("ok", None) for _ref, why in cases]
    # an edit pointing an accepted record at another village's member is refused, the record kept
    [edit] = officer.push_ok(officer.op(entity, "r4", {key: other}))
    assert (edit["status"], edit["reason"]) == ("rejected", f"{key}: {OTHER_VILLAGE}")
    assert hq_app.data(entity, "r4")[key] == near


def test_a_household_that_moves_keeps_its_attendance_and_services_where_they_happened(hq_app: Hq) -> None:
    officer = hq_app.user_device("ofa", "officer", villages=[V1, V2])
    reader = hq_app.user_device("ofr", "officer", villages=[V1])  # a laptop of the old village only
    h, m, b = _village(hq_app, officer, V1)
    ops, ids = programme_ops(officer, V1, m, b)
    officer.push_ok(*ops)
    first = reader.pull(V1, 0, 1000)
    assert not first["more"]
    [moved] = officer.push_ok(officer.op("households", h, {"village_code": V2}))
    assert moved["status"] == "ok"
    assert hq_app.record("members", m).scope == V2 and hq_app.record("businesses", b).scope == V2
    assert hq_app.record("business_supports", ids["business_supports"]).scope == V2  # the business's child
    for entity in ("services", "parenting_attendance", "cooperative_members", "cooperative_businesses"):
        row = hq_app.record(entity, ids[entity])
        assert row.scope == V1 and not row.deleted, entity  # stays with its activity / cooperative
    assert hq_app.data("parenting_attendance", ids["parenting_attendance"])["member_id"] == m
    # the old village's laptop: the member leaves (a notice), the attendance does not
    pulled = reader.pull_all(V1, since=first["next"])
    notices = {(r["entity"], r["id"]) for r in pulled if r.get("moved_out")}
    assert ("members", m) in notices and ("parenting_attendance", ids["parenting_attendance"]) not in notices
    # the link is kept: editing the attendance (or the service) later is fine, from either laptop
    [role] = reader.push_ok(reader.op("parenting_attendance", ids["parenting_attendance"], {"role": "pengasuh"}))
    assert role["status"] == "ok"
    [note] = officer.push_ok(officer.op("services", ids["services"], {"notes": "Pindah ke desa lain"}))
    assert note["status"] == "ok"
    # but a new record of the old village cannot name the member who now lives elsewhere
    [new] = officer.push_ok(officer.op("parenting_attendance", "later",
                                       attendance(ids["parenting_activities"], m)))
    assert (new["status"], new["reason"]) == ("rejected", f"member_id: {OTHER_VILLAGE}")


def test_one_profile_per_village_made_offline_on_two_laptops_merges(hq_app: Hq) -> None:
    a = hq_app.user_device("ofa", "officer", villages=[V1])
    b = hq_app.user_device("ofb", "officer", villages=[V1])
    pid = village_profile_id(V1)
    assert _statuses(a.push_ok(a.op("village_profiles", pid, village_profile(V1, facilitators="Ani")))) == ["ok"]
    [second] = b.push_ok(b.op("village_profiles", pid, village_profile(V1, centre_address="Balai desa")))
    assert second["status"] in ("merged", "ok")
    data = hq_app.data("village_profiles", pid)
    assert (data["facilitators"], data["centre_address"]) == ("Ani", "Balai desa")
    [other] = b.push_ok(b.op("village_profiles", "another-id", village_profile(V1)))
    assert other["status"] == "rejected" and other["reason"].startswith("village_code: ")
    assert hq_app.record("village_profiles", "another-id") is None


def test_deleting_an_activity_deletes_its_attendance_but_not_the_member(hq_app: Hq, two_officers) -> None:
    a, _b, ids = two_officers
    [gone] = a.push_ok(a.op("parenting_activities", ids["parenting_activities"], kind="delete"))
    assert gone["status"] == "ok"
    assert hq_app.record("parenting_attendance", ids["parenting_attendance"]).deleted
    assert not hq_app.record("members", "m").deleted
    [coop] = a.push_ok(a.op("cooperatives", ids["cooperatives"], kind="delete"))
    assert coop["status"] == "ok"
    assert hq_app.record("cooperative_members", ids["cooperative_members"]).deleted
    assert not hq_app.record("businesses", "b").deleted


def _reference_machine(hq_app: Hq) -> type:
    """Households move between villages and members are deleted (by HQ) while an officer of two
    villages records activities and attendance, points attendance at other members, and edits
    it. A model says, for each op, what the HQ must answer: an attendance's member is checked
    when it is set (live, of the activity's village, readable by the officer) and never again."""
    from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

    villages = (V1, V2, V3)  # the officer has V1 and V2; V3 only HQ

    class References(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            with hq_app.ctx.db.write() as conn:
                reset_data(conn)
            self.hq = hq_app.user_device("pusat", "hq")
            self.officer = hq_app.user_device("ofa", "officer", villages=[V1, V2])
            self.member_village: dict[str, str] = {}
            self.household_of: dict[str, str] = {}
            self.gone: set[str] = set()
            self.activity_village: dict[str, str] = {}
            self.attendance: dict[str, str] = {}  # id -> member as HQ holds it
            self.serial = 0

        def _id(self, prefix: str) -> str:
            self.serial += 1
            return f"{prefix}{self.serial}"

        @rule(village=st.sampled_from(villages))
        def add_household(self, village: str) -> None:
            h, m = self._id("h"), self._id("m")
            self.hq.push_ok(self.hq.op("households", h, household(village)), self.hq.op("members", m, member(h)))
            self.member_village[m], self.household_of[m] = village, h

        @precondition(lambda self: bool(self.member_village))
        @rule(data=st.data(), village=st.sampled_from(villages))
        def move(self, data: st.DataObject, village: str) -> None:
            m = data.draw(st.sampled_from(sorted(self.member_village)))
            [r] = self.hq.push_ok(self.hq.op("households", self.household_of[m], {"village_code": village}))
            assert r["status"] == "ok"
            self.member_village[m] = village

        @precondition(lambda self: bool(self.member_village))
        @rule(data=st.data())
        def delete_member(self, data: st.DataObject) -> None:
            m = data.draw(st.sampled_from(sorted(self.member_village)))
            self.hq.push_ok(self.hq.op("members", m, kind="delete"))
            self.gone.add(m)

        @rule(village=st.sampled_from((V1, V2)))
        def add_activity(self, village: str) -> None:
            a = self._id("a")
            [r] = self.officer.push_ok(self.officer.op("parenting_activities", a, parenting_activity(village)))
            assert r["status"] == "ok"
            self.activity_village[a] = village

        def _expected(self, activity: str, m: str) -> str | None:
            where = self.member_village.get(m)
            if where is None or where not in (V1, V2):
                return NOT_FOUND
            if where != self.activity_village[activity]:
                return OTHER_VILLAGE
            return GONE if m in self.gone else None

        def _member(self, data: st.DataObject, village: str) -> str:
            """A member, most often one of ``village`` (else any): the case the rule lets through."""
            near = sorted(m for m, v in self.member_village.items() if v == village and m not in self.gone)
            if near and data.draw(st.integers(0, 3)):
                return str(data.draw(st.sampled_from(near)))
            return str(data.draw(st.sampled_from(sorted(self.member_village))))

        @precondition(lambda self: bool(self.activity_village) and bool(self.member_village))
        @rule(data=st.data())
        def attend(self, data: st.DataObject) -> None:
            a = data.draw(st.sampled_from(sorted(self.activity_village)))
            m = self._member(data, self.activity_village[a])
            att = self._id("t")
            [r] = self.officer.push_ok(self.officer.op("parenting_attendance", att, attendance(a, m)))
            why = self._expected(a, m)
            assert (r["status"], r["reason"]) == (("ok", None) if why is None else ("rejected", f"member_id: {why}"))
            if why is None:
                self.attendance[att] = m

        @precondition(lambda self: bool(self.attendance))
        @rule(data=st.data(), repoint=st.booleans())
        def edit_attendance(self, data: st.DataObject, repoint: bool) -> None:
            att = data.draw(st.sampled_from(sorted(self.attendance)))
            if repoint:
                activity = hq_app.data("parenting_attendance", att)["activity_id"]
                m = self._member(data, self.activity_village[activity])
                [r] = self.officer.push_ok(self.officer.op("parenting_attendance", att, {"member_id": m}))
                why = None if m == self.attendance[att] else self._expected(activity, m)
                assert (r["status"], r["reason"]) == (("ok", None) if why is None else ("rejected", f"member_id: {why}"))
                if why is None:
                    self.attendance[att] = m
            else:  # the member kept, whatever happened to them since: always accepted
                role = data.draw(st.sampled_from(["anak", "pengasuh"]))
                [r] = self.officer.push_ok(self.officer.op("parenting_attendance", att, {"role": role}))
                assert r["status"] == "ok", r
            assert hq_app.data("parenting_attendance", att)["member_id"] == self.attendance[att]

    return References


def test_references_are_checked_when_set_and_survive_moves_and_deletions(hq_app: Hq) -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(_reference_machine(hq_app), settings=settings(
        max_examples=40, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


@pytest.mark.parametrize("entity", PROGRAMME)
def test_each_programme_record_has_its_history(hq_app: Hq, two_officers, entity: str) -> None:
    """``GET /v1/records/{entity}/{id}/history`` takes every entity of the questionnaire (its path
    parameter listed four before issue 15, and the server refused to start with more)."""
    a, _b, ids = two_officers
    (key, value), _second = EDITS[entity]
    a.push_ok(a.op(entity, ids[entity], {key: value}))
    boss = hq_app.user_device("pusat", "hq")
    response = hq_app.client.get(f"/v1/records/{entity}/{ids[entity]}/history", headers=boss.headers)
    assert response.status_code == 200, response.text
    changes = [e for e in response.json()["history"] if e["field"] == key]
    assert changes and changes[-1]["new_value"] == value
    assert hq_app.client.get(f"/v1/records/{entity}x/{ids[entity]}/history", headers=boss.headers).status_code == 422
