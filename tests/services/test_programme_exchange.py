"""The programme's records (issue 15) in export and import, like the household records: each
entity its own sheet / file / JSON lines, a lossless round trip, identity numbers masked in a
shared export (a walk-in's NIK too), and a village profile typed without an id completing the
village's one profile instead of making a second."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlite_utils import Database

from desmig_desktop.domain.fields import ENTITIES, ENTITY_ORDER, PROGRAMME_ENTITIES
from desmig_desktop.domain.programme import village_profile_id
from desmig_desktop.services.exchange import ImportFailed, export, headers, import_file
from desmig_desktop.services.import_rows import COPY_HEADERS, _entity_for_headers, key_of
from desmig_desktop.store import records
from desmig_desktop.store.records import Change
from tests.services.test_exchange import VILLAGES, fresh, snapshot
from tests.sync import programme

PROGRAMME = [e.name for e in PROGRAMME_ENTITIES]
WALK_IN_NIK = "3201014101900001"  # synthetic: Bogor, a woman born 1 January 1990
WALK_IN_ID = "01938f2e-0000-7000-8000-00000000aaaa"


@pytest.fixture
def pillar_db(demo_db: Database) -> Database:
    """The demo households plus one record of every programme entity in each village, and a
    walk-in with a NIK."""
    for village in VILLAGES:
        for entity in PROGRAMME:
            assert programme.create(demo_db, entity, village, pick=1) is not None, entity
    records.apply_changes(demo_db, [Change("services", WALK_IN_ID, {
        "village_code": VILLAGES[0], "served_on": "2025-02-01", "service_type": "dokumen", "document_kind": "paspor",
        "status": "selesai", "walk_in_name": "Tamu Berpaspor", "walk_in_nik": WALK_IN_NIK})])
    return demo_db


@pytest.fixture
def demo_db(db: Database) -> Database:
    from desmig_desktop.services.demo import generate_demo

    generate_demo(db, 12, villages=VILLAGES, seed=3)
    return db


@pytest.mark.parametrize("fmt, target", [("jsonl", "out.jsonl"), ("csv", "csvdir"), ("xlsx", "out.xlsx")])
def test_the_programme_records_round_trip(pillar_db: Database, tmp_path: Path, template_db: Path, fmt: str,
                                          target: str) -> None:
    out = tmp_path / target
    written = export(pillar_db, fmt, out, mask=False)
    before = snapshot(pillar_db)
    assert all(before[e] for e in PROGRAMME)
    assert written == sum(len(v) for v in before.values())
    other = fresh(tmp_path, template_db, "other")
    result = import_file(other, out)
    assert result["invalid"] == 0 and result["imported"] == written
    assert snapshot(other) == before


def test_each_programme_entity_is_its_own_sheet_and_file(pillar_db: Database, tmp_path: Path) -> None:
    export(pillar_db, "xlsx", tmp_path / "out.xlsx")
    export(pillar_db, "csv", tmp_path / "csv")
    wb = load_workbook(tmp_path / "out.xlsx", read_only=True)
    for entity in PROGRAMME:
        assert entity in wb.sheetnames
        first = next(wb[entity].iter_rows(max_row=1, values_only=True))
        assert list(first[:len(headers(entity))]) == headers(entity)
        with open(tmp_path / "csv" / f"{entity}.csv", newline="", encoding="utf-8-sig") as fh:
            assert next(csv.reader(fh))[:len(headers(entity))] == headers(entity)


def test_a_shared_export_masks_a_walk_ins_nik(pillar_db: Database, tmp_path: Path) -> None:
    export(pillar_db, "jsonl", tmp_path / "out.jsonl")
    export(pillar_db, "csv", tmp_path / "csv")
    text = (tmp_path / "out.jsonl").read_text(encoding="utf-8") + (tmp_path / "csv" / "services.csv").read_text(
        encoding="utf-8-sig")
    assert WALK_IN_NIK not in text
    [line] = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
              if json.loads(x)["id"] == WALK_IN_ID]
    assert line["data"]["walk_in_nik"].startswith("3201") and "*" in line["data"]["walk_in_nik"]


def _profile_sheet(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "village_profiles"
    ws.append(headers("village_profiles"))
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_a_profile_typed_without_an_id_is_the_villages_one_profile(db: Database, tmp_path: Path) -> None:
    keys = ["id", "village_code", "joined_year", "facilitators", "centre_address", "centre_days", "head_name",
            "head_phone", "status", "notes"]
    assert [h.rsplit("[", 1)[1].rstrip("]") for h in headers("village_profiles")] == keys

    def row(**values: object) -> list[object]:
        return [values.get(k) for k in keys]

    first = _profile_sheet(tmp_path / "a.xlsx", [row(village_code=VILLAGES[0], joined_year=2018, status="aktif",
                                                     facilitators="Ani")])
    assert import_file(db, first)["invalid"] == 0
    pid = village_profile_id(VILLAGES[0])
    assert records.get(db, "village_profiles", pid)["facilitators"] == "Ani"
    # again, typed by someone else (a label as id): the same profile, as the row states it now
    second = _profile_sheet(tmp_path / "b.xlsx", [row(id="PROFIL-1", village_code=VILLAGES[0], joined_year=2018,
                                                      status="aktif", facilitators="Ani, Budi",
                                                      centre_address="Balai desa")])
    assert import_file(db, second)["invalid"] == 0
    assert db.execute("SELECT count(*) FROM village_profiles").fetchone()[0] == 1
    stored = records.get(db, "village_profiles", pid)
    assert (stored["facilitators"], stored["centre_address"]) == ("Ani, Budi", "Balai desa")
    # and a village's profile under another id is refused, not stored as a second one
    other = _profile_sheet(tmp_path / "c.xlsx", [row(id="01938f2e-0000-7000-8000-00000000bbbb",
                                                     village_code=VILLAGES[1], joined_year=2019, status="aktif")])
    with pytest.raises(ImportFailed, match="satu profil per desa"):
        import_file(db, other)


@pytest.mark.parametrize("entity", list(ENTITY_ORDER))
def test_an_exported_table_is_recognised_as_its_entity_whatever_its_name(entity: str) -> None:
    """Entities share field keys (village code, head name, notes, status): the headings decide,
    never one marker key (a village profile's sheet was read as households)."""
    keys = [key_of(h) for h in [*headers(entity), *COPY_HEADERS]]
    for label in ("", entity, f"{entity}.csv", "Lembar1", "households"):
        assert _entity_for_headers(keys, label) == entity, label


@given(data=st.data())
def test_any_headings_of_one_entity_in_its_named_sheet_are_that_entity(data: st.DataObject) -> None:
    entity = data.draw(st.sampled_from(list(ENTITY_ORDER)))
    keys = data.draw(st.lists(st.sampled_from(list(ENTITIES[entity].keys)), min_size=1, unique=True))
    noise = data.draw(st.lists(st.sampled_from(["", "id", "Nama", "Alamat"]), max_size=2))
    label = data.draw(st.sampled_from([entity, f"{entity}.csv"]))
    assert _entity_for_headers([*noise, *keys], label) == entity


def test_an_import_refuses_a_reference_the_hq_would_refuse(pillar_db: Database, tmp_path: Path) -> None:
    """The member served or attending, the cooperative's member or business: of the record's own
    village and live — said at import, in HQ's words, instead of a rejection after the sync."""
    near, far = programme.members_in(pillar_db, VILLAGES[0]), programme.members_in(pillar_db, VILLAGES[1])
    gone = near[-1]
    records.apply_changes(pillar_db, [Change("members", gone, delete=True)])
    activity = programme.top_level_in(pillar_db, "parenting_activities", VILLAGES[0])[0]
    coop = programme.top_level_in(pillar_db, "cooperatives", VILLAGES[0])[0]
    far_business = programme.businesses_in(pillar_db, VILLAGES[1])[0]
    service = {"village_code": VILLAGES[0], "served_on": "2025-02-01", "service_type": "informasi",
               "status": "selesai"}
    cases = [  # (entity, data, refused field or None)
        ("services", {**service, "member_id": near[0]}, None),
        ("services", {**service, "member_id": far[0]}, "member_id"),
        ("services", {**service, "member_id": gone}, "member_id"),
        ("parenting_attendance", {"activity_id": activity, "member_id": far[0], "role": "anak"}, "member_id"),
        ("parenting_attendance", {"activity_id": activity, "member_id": near[0], "role": "anak"}, None),
        ("cooperative_members", {"cooperative_id": coop, "member_id": far[1], "role": "anggota"}, "member_id"),
        ("cooperative_businesses", {"cooperative_id": coop, "business_id": far_business}, "business_id"),
    ]
    for n, (entity, data, refused) in enumerate(cases):
        path = tmp_path / f"case{n}.jsonl"
        path.write_text(json.dumps({"entity": entity, "id": f"RIW-{n}", "data": data}) + "\n", encoding="utf-8")
        before = pillar_db.execute("SELECT count(*) FROM sync_outbox").fetchone()[0]
        if refused is None:
            assert import_file(pillar_db, path)["imported"] == 1
            continue
        with pytest.raises(ImportFailed) as info:
            import_file(pillar_db, path)
        [error] = info.value.errors
        assert error.column == refused and "Data yang dirujuk" in error.message, (n, error)
        assert pillar_db.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] == before


def test_an_attendance_of_an_activity_in_the_same_file_is_left_to_hq(db: Database, tmp_path: Path) -> None:
    """A new activity and its attendance typed together: the village comes with the file."""
    from desmig_desktop.services.demo import generate_demo

    generate_demo(db, 3, villages=VILLAGES[:1], seed=5)
    member = programme.members_in(db, VILLAGES[0])[0]
    lines = [{"entity": "parenting_activities", "id": "KEG-1", "data": {
        "village_code": VILLAGES[0], "held_on": "2025-02-03", "activity_type": "kelompok_belajar"}},
             {"entity": "parenting_attendance", "id": "HADIR-1", "data": {
                 "activity_id": "KEG-1", "member_id": member, "role": "anak"}}]
    path = tmp_path / "kegiatan.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    assert import_file(db, path)["imported"] == 2
