"""Re-make ``profile_chooser.png`` (run under a 1366×768 X server, e.g. Xvfb).

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_profile_screenshots.py

Three synthetic officers' profiles in a throwaway data home; the chooser shows what it always
shows: officer name, villages, last sync — nothing from inside the encrypted databases.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services.profiles import ProfileHome, remember
from desmig_desktop.store import settings
from desmig_desktop.store.db import connect
from desmig_desktop.ui.profile_chooser import ProfileChooser

HERE = Path(__file__).resolve().parent
OFFICERS = [  # synthetic
    ("siti", "Siti Aminah", ["33.01.01.2001", "33.01.01.2002"], "2026-12-03T07:15:00Z"),
    ("budi", "Budi Santoso", ["33.01.01.2003"], "2026-11-28T02:40:00Z"),
    ("dewi", "Dewi Lestari", ["33.01.01.2004", "33.01.01.2005", "33.01.01.2006", "33.01.01.2007"], None),
]


def main(root: Path) -> None:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    set_language("id")
    home = ProfileHome(root)
    template = root / "template.db"
    connect(template).close()
    for name, officer, villages, synced in OFFICERS:
        paths = home.create(name)
        shutil.copyfile(template, paths.database)
        db = connect(paths.database)
        settings.put(db, "officer_name", officer)
        settings.put(db, "villages", villages)
        if synced:
            settings.put(db, "last_success", synced, table="sync_state")
        remember(paths, db)
        db.close()
    chooser = ProfileChooser(home.profiles(), current="siti")
    chooser.move(383, 150)
    chooser.show()
    chooser.activateWindow()
    QTest.qWait(700)
    geo = chooser.frameGeometry()
    image = QGuiApplication.primaryScreen().grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
    image.save(str(HERE / "profile_chooser.png"))
    print("saved profile_chooser")
    chooser.close()
    app.processEvents()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="desmig-profiles-") as where:
        os.environ["DESMIG_ALLOW_PLAINTEXT"] = "1"  # throwaway synthetic data
        main(Path(where))
