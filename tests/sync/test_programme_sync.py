"""The programme's records (issue 15) between two laptops and HQ, end to end on SQLite and
PostgreSQL: every entity reaches the other laptop of its village and HQ; concurrent edits merge
field by field and a clash keeps the losing value on both sides; ``status`` counts each entity; a
household that moves keeps its attendance on the old village's laptop (which no longer holds the
member) and that laptop may still edit it; a laptop writing outside its villages, or naming
another village's member, gets a per-op rejection in its inbox. Real ``desmig-hq serve``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desmig_desktop.domain.fields import ENTITY_ORDER
from desmig_desktop.domain.ids import new_id
from desmig_desktop.services.status import status
from desmig_desktop.store import records
from desmig_desktop.store.records import Change
from desmig_server.db import tables as t
from desmig_server.db.engine import Database
from desmig_testing.serve import ServeProcess
from tests.server.conftest import private_pg_schema
from tests.server.support import reset_data
from tests.sync import programme
from tests.sync.harness import FAST_ENV, VILLAGE_1, VILLAGE_2, VILLAGE_3, Device, HqServer, _add_users

pytestmark = pytest.mark.e2e
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module")
def programme_pg() -> Iterator[Any]:
    yield from private_pg_schema("hq_programme_sync")


def _fresh_pg(pg: Database) -> None:
    """Every data table emptied (the server keeps nothing in memory), the standard users back."""
    from desmig_server.context import HqContext
    from desmig_server.settings import Settings

    with pg.write() as conn:
        reset_data(conn)
    ctx = HqContext.open(pg.url, Settings(argon2_fast=True))
    try:
        _add_users(ctx)
    finally:
        ctx.db.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def hq_any(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           hq_template: Path) -> Iterator[ServeProcess]:
    """A real server process on each backend, one per module (wiped per test by ``hq``)."""
    root = tmp_path_factory.mktemp("hq-programme")
    if request.param == "sqlite":
        shutil.copy(hq_template, root / "hq.db")
        server: ServeProcess = HqServer(root / "hq.db", root / "serve.log")
    else:
        pg = request.getfixturevalue("programme_pg")
        _fresh_pg(pg)
        server = ServeProcess(pg.url, root / "serve.log", base_env=FAST_ENV, stop_wait=10)
        server.reset_pg = pg  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hq(hq_any: ServeProcess) -> ServeProcess:
    if isinstance(hq_any, HqServer):
        hq_any.reset()
    else:
        _fresh_pg(hq_any.reset_pg)  # type: ignore[attr-defined]
    return hq_any


def _rows(device: Device, entity: str) -> dict[str, dict[str, Any]]:
    """The live records of ``entity`` on a laptop, without its own bookkeeping columns."""
    cur = device.db.execute(f"SELECT * FROM {entity} WHERE deleted = 0")
    names = [c[0] for c in cur.description]
    skip = {"server_version", "created_at", "updated_at"}
    return {row[0]: {k: v for k, v in zip(names, row) if k not in skip} for row in cur}


def _village_with_everything(device: Device, village: str) -> dict[str, str]:
    """A household (a PMI head, two children) with a business, then one record of every
    programme entity in ``village``; their ids by entity."""
    hid = device.create_household(village, members=3)
    device.edit("businesses", new_id(), household_id=hid, name="Warung Bersama", kbli_category="G", status="aktif")
    ids = {}
    for entity in programme.PROGRAMME:
        made = programme.create(device.db, entity, village, pick=1)
        assert made is not None, entity
        ids[entity] = made
    device.remember()
    return ids


def _login(hq: ServeProcess, *devices: Device) -> None:
    for device in devices:
        device.login(hq, device.name)  # type: ignore[arg-type]  # only its url is read


def test_every_entity_reaches_the_other_laptop_and_hq_and_is_counted(hq, make_device):
    ana, budi, pusat = (make_device(n) for n in ("ana", "budi", "pusat"))
    _login(hq, ana, budi, pusat)
    ids = _village_with_everything(ana, VILLAGE_1)
    for device in (ana, budi, pusat):
        result = device.sync()
        assert result.rejected == 0, device.name
    for entity in programme.PROGRAMME:
        mine = _rows(ana, entity)
        assert ids[entity] in mine, entity
        assert _rows(budi, entity) == mine == _rows(pusat, entity), entity
    counts = status(budi.db)
    assert {e: counts[e] for e in ENTITY_ORDER} == {e: len(_rows(budi, e)) for e in ENTITY_ORDER}
    assert all(counts[e] >= 1 for e in programme.PROGRAMME)
    assert counts["pending_ops"] == 0


# Per entity: two fields two laptops edit at the same time (the second ``None`` when the record
# has no other free field), and two values of one field both laptops change (``MEMBER``: two
# members of the village, read on the laptop).
MEMBER = object()
MERGE: dict[str, tuple[tuple[str, Any], tuple[str, Any] | None]] = {
    "village_profiles": (("facilitators", "Ani"), ("head_name", "Pak Kades")),
    "services": (("notes", "Sudah ditelepon"), ("referral", "dinaker")),
    "business_supports": (("provider", "Bank desa"), ("topic", "Pemasaran")),
    "parenting_activities": (("topic", "Membaca"), ("facilitator", "Bu Ratna")),
    "parenting_attendance": (("role", "pengasuh"), None),
    "cooperatives": (("notes", "Rapat anggota"), ("capital", 2_000_000)),
    "cooperative_members": (("role", "ketua"), ("joined_on", "2025-01-05")),
    "cooperative_businesses": (("support", "Modal bergulir"), None),
    "officer_activities": (("attendance", 12), ("follow_up", "Rapat lanjutan")),
}
CLASH: dict[str, tuple[str, Any, Any]] = {
    "village_profiles": ("notes", "Catatan A", "Catatan B"), "services": ("status", "ditindaklanjuti", "selesai"),
    "business_supports": ("provider", "Dinaker", "BUMDes"), "parenting_activities": ("topic", "Menulis", "Bermain"),
    "parenting_attendance": ("member_id", MEMBER, MEMBER), "cooperatives": ("name", "Koperasi A", "Koperasi B"),
    "cooperative_members": ("role", "sekretaris", "bendahara"),
    "cooperative_businesses": ("support", "Pemasaran", "Pelatihan"),
    "officer_activities": ("topic", "Rapat desa", "Sosialisasi BP2MI"),
}
assert set(MERGE) == set(CLASH) == set(programme.PROGRAMME)


def _without_bookkeeping(device: Device, entity: str, record_id: str) -> dict[str, Any]:
    skip = {"server_version", "created_at", "updated_at"}
    return {k: v for k, v in (device.row(entity, record_id) or {}).items() if k not in skip}


@pytest.mark.parametrize("entity", programme.PROGRAMME)
def test_concurrent_edits_merge_or_keep_the_losing_value(hq, make_device, entity):
    ana, budi = make_device("ana"), make_device("budi")
    _login(hq, ana, budi)
    record_id = _village_with_everything(ana, VILLAGE_1)[entity]
    ana.sync()
    budi.sync()
    (key_a, value_a), second = MERGE[entity]
    ana.edit(entity, record_id, **{key_a: value_a})
    if second is not None:
        budi.edit(entity, record_id, **{second[0]: second[1]})
    for device in (ana, budi, ana):
        device.sync()
    merged = _without_bookkeeping(ana, entity, record_id)
    assert merged == _without_bookkeeping(budi, entity, record_id)
    assert merged[key_a] == value_a and (second is None or merged[second[0]] == second[1])
    # the same field on both laptops: both sides end equal, the losing value is kept
    key, mine, theirs = CLASH[entity]
    if mine is MEMBER:
        others = [m for m in programme.members_in(ana.db, VILLAGE_1) if m != merged[key]]
        mine, theirs = others[0], others[1]
    ana.edit(entity, record_id, **{key: mine})
    budi.edit(entity, record_id, **{key: theirs})
    for device in (ana, budi, ana):
        assert device.sync().rejected == 0
    final = _without_bookkeeping(ana, entity, record_id)
    assert final == _without_bookkeeping(budi, entity, record_id) and final[key] == theirs  # later arrival
    lost = ana.db.execute("SELECT mine FROM sync_conflicts WHERE entity = ? AND record_id = ? AND field = ?",
                          [entity, record_id, key]).fetchall()
    assert [json.loads(m) for (m,) in lost] == [mine]
    db = Database(hq.db_url)
    try:
        with db.read() as conn:
            held = conn.execute(select(t.conflicts.c.losing_value).where(
                t.conflicts.c.entity == entity, t.conflicts.c.record_id == record_id,
                t.conflicts.c.field == key)).scalars().all()
    finally:
        db.dispose()
    assert [json.loads(v) for v in held] == [mine]


def test_a_moved_household_keeps_its_attendance_on_the_old_villages_laptop(hq, make_device):
    """ana (villages 1 and 2) moves the household to village 2; budi (village 1 only) drops the
    household and its members but keeps the activity's attendance, which still names the member
    it no longer holds — and may edit it (the local foreign keys hold), and sync the edit."""
    ana, budi = make_device("ana"), make_device("budi")
    _login(hq, ana, budi)
    ids = _village_with_everything(ana, VILLAGE_1)
    ana.sync()
    budi.sync()
    attendance = budi.row("parenting_attendance", ids["parenting_attendance"])
    assert attendance is not None
    member = attendance["member_id"]
    household = budi.row("members", member)["household_id"]
    ana.edit("households", household, village_code=VILLAGE_2)
    ana.sync()
    budi.sync()
    assert budi.row("households", household) is None and budi.row("members", member) is None
    kept = budi.row("parenting_attendance", ids["parenting_attendance"])
    assert kept is not None and not kept["deleted"] and kept["member_id"] == member
    for entity in ("services", "cooperative_members"):
        row = budi.row(entity, ids[entity])
        assert row is not None and not row["deleted"], entity
    budi.edit("parenting_attendance", ids["parenting_attendance"], role="pengasuh")  # foreign keys on
    assert budi.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    result = budi.sync()
    assert result.rejected == 0 and budi.pending() == 0
    ana.sync()
    assert ana.row("parenting_attendance", ids["parenting_attendance"])["role"] == "pengasuh"
    assert ana.row("members", member) is not None  # ana holds both villages: the member stays


def test_writing_outside_the_villages_or_naming_another_villages_member_is_rejected_per_op(hq, make_device):
    """citra (village 3) and ana (villages 1, 2): records a laptop should not have written (an
    older app, an edited database) come back as rejections in its inbox; the rest goes through."""
    ana, citra = make_device("ana"), make_device("citra")
    _login(hq, ana, citra)
    ids = _village_with_everything(ana, VILLAGE_1)
    other = ana.create_household(VILLAGE_2, members=2)
    ana.sync()
    far_member = next(m for m in ana.live("members") if m.startswith(other[:30]))
    near_member = programme.members_in(ana.db, VILLAGE_1)[0]
    # citra writes a service in village 1, and a record of her own village
    records.apply_changes(citra.db, [Change("services", "sv-outside", {
        "village_code": VILLAGE_1, "served_on": "2025-02-01", "service_type": "informasi", "status": "selesai",
        "walk_in_name": "Tamu"})])
    own = programme.create(citra.db, "officer_activities", VILLAGE_3)
    citra.remember()
    # ana names a member of village 2 from village 1's activity
    records.apply_changes(ana.db, [
        Change("parenting_attendance", "at-far", {"activity_id": ids["parenting_activities"],
                                                  "member_id": far_member, "role": "anak"}),
        Change("parenting_attendance", "at-near", {"activity_id": ids["parenting_activities"],
                                                   "member_id": near_member, "role": "pengasuh"})])
    ana.remember()
    assert citra.sync().rejected == 1 and ana.sync().rejected == 1
    rejected = {(r[0], r[1]): r[2] for db in (citra.db, ana.db) for r in db.execute(
        "SELECT entity, record_id, reason FROM sync_conflicts WHERE kind = 'rejected'")}
    assert rejected == {("services", "sv-outside"): "Di luar desa tugas Anda.",
                        ("parenting_attendance", "at-far"):
                            "member_id: Data yang dirujuk berada di desa lain; pilih data dari desa yang sama."}
    assert citra.pending() == 0 and ana.pending() == 0
    assert own is not None and citra.row("officer_activities", own)["server_version"] > 0
    assert ana.row("parenting_attendance", "at-near")["server_version"] > 0
