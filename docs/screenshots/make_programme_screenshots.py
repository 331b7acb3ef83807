"""Screenshots of the "Program Desmigratif" window (issue 15), one per page, at the X server's screen size.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_programme_screenshots.py
    xvfb-run -a -s "-screen 0 1024x600x24" .venv/bin/python docs/screenshots/make_programme_screenshots.py

Writes ``programme-<page>-<W>x<H>.png``: each page with a record open in its form (the open cases
view for the migration services). Synthetic data (``desmig demo`` households and a few programme
records saved through the service) in a throwaway data dir.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services import programme as prog
from desmig_desktop.services.demo import generate_demo
from desmig_desktop.services.paths import Paths
from desmig_desktop.services.programme_lists import business_options, member_options
from desmig_desktop.store import settings
from desmig_desktop.store.db import connect
from desmig_desktop.ui.programme import ProgrammeWindow

HERE = Path(__file__).resolve().parent
VILLAGES = ["33.01.01.2001", "33.01.01.2002"]  # Cilacap, Jawa Tengah


def shot(window: ProgrammeWindow, name: str) -> None:
    QTest.qWait(400)
    screen = QGuiApplication.primaryScreen()
    size = screen.geometry()
    path = HERE / f"programme-{name}-{size.width()}x{size.height()}.png"
    window.grab().save(str(path))
    print("saved", path.name)


def seed(db: object) -> None:
    """A few records of each kind, as an officer would have typed them over a month."""
    today = dt.date.today()
    day = lambda n: (today - dt.timedelta(days=n)).isoformat()  # noqa: E731
    village = VILLAGES[0]
    people = member_options(db, village)  # type: ignore[arg-type]
    children = [o for o in people if o.child_of_pmi]
    adults = [o for o in people if not o.child_of_pmi]
    businesses = business_options(db, [village])  # type: ignore[arg-type]
    profile = prog.profile_for_village(db, village)  # type: ignore[arg-type]
    profile.values.update(joined_year=2017, status="aktif", facilitators="Rina Marlina, Joko Susilo",
                          centre_address="Balai Desa, Jl. Raya Adipala No. 3", centre_days="1_senin,4_kamis",
                          head_name="H. Sutrisno", head_phone="081234567890")
    prog.save_record(db, profile, confirm_warnings=True)  # type: ignore[arg-type]
    services = [
        {"served_on": day(61), "member_id": adults[0].id, "service_type": "pengaduan", "case_kind": "gaji",
         "destination_country": "MY", "referral": "bp2mi", "status": "ditindaklanjuti", "follow_up_on": day(1)},
        {"served_on": day(20), "walk_in_name": "Tarsih", "walk_in_sex": "P", "walk_in_age_band": "25_34",
         "service_type": "pengaduan", "case_kind": "hilang", "destination_country": "SA", "referral": "dinaker",
         "status": "terbuka"},
        {"served_on": day(9), "member_id": adults[1].id, "service_type": "dokumen", "document_kind": "paspor",
         "status": "selesai"},
        {"served_on": day(3), "walk_in_name": "Slamet Riyadi", "walk_in_sex": "L", "walk_in_age_band": "18_24",
         "service_type": "informasi", "destination_country": "KR", "status": "selesai"},
    ]
    for values in services:
        prog.save_record(db, prog.new_record("services", {"village_code": village, **values}),  # type: ignore[arg-type]
                         confirm_warnings=True)
    for n, business in enumerate(businesses[:3]):
        prog.save_record(db, prog.new_record("business_supports", {  # type: ignore[arg-type]
            "business_id": business.id, "support_type": ("pelatihan", "pendampingan", "modal")[n],
            "received_on": day(30 + n * 11), "provider": ("Dinaker Cilacap", "Pendamping Desmigratif", "Bank BRI")[n],
            "topic": ("Pengemasan produk", "Pembukuan sederhana", "KUR mikro")[n], "source": ("kemnaker", "kemnaker",
                                                                                            "kur")[n],
            "amount": (None, None, 10_000_000)[n]}), confirm_warnings=True)
    activity = prog.new_record("parenting_activities", {
        "village_code": village, "held_on": day(5), "activity_type": "kelompok_belajar", "facilitator": "Bu Wartini",
        "topic": "Membaca dan mewarnai bersama", "walk_in_children": 4, "walk_in_caregivers": 1})
    activity.children["parenting_attendance"] = (
        [{"member_id": o.id, "role": "anak"} for o in children[:4]] + [{"member_id": adults[2].id, "role": "pengasuh"}])
    prog.save_record(db, activity, confirm_warnings=True)  # type: ignore[arg-type]
    coop = prog.new_record("cooperatives", {
        "village_code": village, "name": "KUB Purna Migran Sejahtera", "group_kind": "kelompok",
        "legal_status": "belum", "founded_on": "2019-08-17", "capital": 12_500_000, "status": "aktif"})
    coop.children["cooperative_members"] = [{"member_id": o.id, "role": role, "joined_on": "2019-08-17"}
                                            for o, role in zip(adults[:4], ("ketua", "sekretaris", "bendahara", "anggota"))]
    coop.children["cooperative_businesses"] = [{"business_id": b.id, "support": "Pemasaran bersama"}
                                               for b in businesses[:2]]
    prog.save_record(db, coop, confirm_warnings=True)  # type: ignore[arg-type]
    for n, (kind, partners, topic) in enumerate((
            ("rapat_koordinasi", "dinaker,pemdes", "Pendataan PMI dan calon PMI"),
            ("sosialisasi", "tokoh,pemdes", "Migrasi aman dan prosedural"),
            ("kunjungan", "bp2mi", "Pendampingan kasus gaji tidak dibayar"))):
        prog.save_record(db, prog.new_record("officer_activities", {  # type: ignore[arg-type]
            "village_code": village, "held_on": day(2 + n * 6), "activity_kind": kind, "partners": partners,
            "topic": topic, "attendance": (14, 63, 3)[n], "follow_up": "Laporan ke Dinaker" if n == 0 else None}),
            confirm_warnings=True)


def main(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    paths = Paths(data_dir).ensure()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    db = connect(paths.database)
    settings.put(db, "officer_name", "Siti Aminah")
    settings.put(db, "villages", VILLAGES)
    set_language("id")
    generate_demo(db, 60, villages=VILLAGES, seed=15)
    seed(db)
    window = ProgrammeWindow(db, VILLAGES)
    window.setGeometry(QGuiApplication.primaryScreen().availableGeometry())
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    for entity, name in (("village_profiles", "profil-desa"), ("services", "layanan"),
                         ("business_supports", "dukungan-usaha"), ("parenting_activities", "pengasuhan"),
                         ("cooperatives", "koperasi"), ("officer_activities", "kegiatan-petugas")):
        page = window.show_page(entity)
        if entity == "services":
            page.open_only.setChecked(True)
        page.focus_list()
        QTest.keyClick(page.table, Qt.Key.Key_Return)
        shot(window, name)
    page = window.show_page("officer_activities")
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    shot(window, "kesalahan")
    window.close()
    db.close()  # type: ignore[attr-defined]
    app.processEvents()


if __name__ == "__main__":
    main(Path("/tmp/desmig-programme-screenshots"))
