"""Re-make ``update_prompt.png``: the update banner after a sync announced a new release.

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_update_screenshot.py [DATA_DIR]

Synthetic demo data in a throwaway data dir; the announcement is signed by a key made here and
handed to the app through ``UpdateConfig`` (as the composition root does with the built-in key).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import set_language
from desmig_desktop.domain.release import Announcement, Manifest, manifest_bytes
from desmig_desktop.services.paths import Paths
from desmig_desktop.services.update_install import UpdateConfig
from desmig_desktop.store import settings
from desmig_desktop.store import sync_store as st
from desmig_desktop.ui import update_banner
from desmig_desktop.ui.context import AppContext
from desmig_desktop.ui.main_window import MainWindow
from desmig_desktop.ui.sync.controller import SyncController
from desmig_desktop.ui.sync.extension import install_sync
from desmig_desktop.ui.taskman import TaskManager

HERE = Path(__file__).resolve().parent
VILLAGES = ["33.01.01.2001", "33.01.01.2002", "33.01.01.2003"]
NOTES = ("Perbaikan di versi ini: daftar rumah tangga terbuka lebih cepat; kelas UMKM dihitung ulang saat modal "
         "diubah; sinkronisasi melanjutkan unduhan yang terputus. Data di laptop tidak berubah.")


def main(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    paths = Paths(data_dir).ensure()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    passphrase = "kata-sandi-contoh"  # a throwaway database
    open_db = database_factory(paths, passphrase)
    db = open_db()
    settings.put(db, "officer_name", "Siti Aminah")
    settings.put(db, "villages", VILLAGES)
    db.close()
    subprocess.run([sys.executable, "-m", "desmig_desktop.cli", "--data-dir", str(data_dir), "demo",
                    "--households", "300", "--villages", ",".join(VILLAGES), "--seed", "7"], check=True,
                   env={**os.environ, "DESMIG_PASSPHRASE": passphrase})
    db = open_db()
    set_language("id")
    key = Ed25519PrivateKey.generate()
    manifest = Manifest("0.2.0", "0.1.0", 187_432_117, hashlib.sha256(b"bundle").hexdigest())
    signed = manifest_bytes(manifest)
    for k, v in ((st.K_SERVER_URL, "https://hq.example.invalid"), (st.K_USERNAME, "siti"),
                 (st.K_DEVICE_ID, "d-1"), (st.K_TOKEN, "t"), (st.K_DEVICE_NAME, "laptop-desa")):
        st.put_state(db, k, v)
    st.put_state(db, st.K_UPDATE, Announcement("0.2.0", "0.1.0", manifest.size, manifest.sha256, NOTES,
                                               signed.decode(), base64.b64encode(key.sign(signed)).decode()).as_dict())
    install = Path(tempfile.mkdtemp(prefix="desmig-install-"))
    config = UpdateConfig(install, "0.1.0", key.public_key().public_bytes_raw())
    tasks = TaskManager(open_db)
    ctx = AppContext(db, paths, tasks, updates=config)
    window = MainWindow(ctx)
    controller = SyncController(ctx)
    install_sync(window, ctx, controller)
    controller.stop()  # no real server here
    update_banner.install_update_banner(window, ctx, controller)
    window.setGeometry(0, 0, 1366, 740)
    window.show()
    QTest.qWait(800)
    QGuiApplication.primaryScreen().grabWindow(0).save(str(HERE / "update_prompt.png"))
    print("saved update_prompt")
    window.close()
    tasks.shutdown()
    shutil.rmtree(install, ignore_errors=True)
    app.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "desmig-update-shot")
