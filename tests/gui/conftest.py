"""GUI test fixtures: databases copied per test from ``template_db`` (tests/conftest.py), built
once per session because creating one loads 91k regions (~1 s). Message
boxes are replaced by recorders (``answers`` / ``shown_errors``) so no test ever blocks on a
modal dialog, and any error shown without the test expecting it fails the test.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))  # test modules import gui_helpers (pytest may use importlib mode)

import pytest
from gui_helpers import BIG_HOUSEHOLDS, OTHER_VILLAGE, VILLAGE, show_active

from desmig_desktop.app import database_factory
from desmig_desktop.domain.i18n import get_language, set_language
from desmig_desktop.services.paths import Paths
from desmig_desktop.store import settings
from desmig_desktop.store.db import connect
from desmig_desktop.store.records import refresh_search

# The offscreen platform plugin warns when a top-level window is shown; it says nothing about our code.
OFFSCREEN_NOISE = "This plugin does not support"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(scope="session")
def big_template_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 households inserted directly (no members): enough to page through, fast to build."""
    path = tmp_path_factory.mktemp("big") / "big.db"
    shutil.copyfile(template_db, path)
    db = connect(path)
    now = "2025-01-01T00:00:00.000000Z"
    rows = [(f"00000000-0000-7000-8000-{n:012d}", now, now, VILLAGE if n % 2 else OTHER_VILLAGE,
             f"Kepala {n:05d}", f"3201051234{n:06d}", (dt.date(2025, 1, 1) - dt.timedelta(days=n % 300)).isoformat(), 1)
            for n in range(BIG_HOUSEHOLDS)]
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO households (id, deleted, server_version, created_at, updated_at, village_code, head_name,"
            " kk_number, visited_on, consent) VALUES (?, 0, 0, ?, ?, ?, ?, ?, ?, ?)", rows)
        refresh_search(db, [r[0] for r in rows])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture(autouse=True)
def indonesian() -> Iterator[None]:
    before = get_language()
    set_language("id")
    yield
    set_language(before)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "data").ensure()


@pytest.fixture
def db(template_db: Path, paths: Paths) -> Iterator[Any]:
    shutil.copyfile(template_db, paths.database)
    database = connect(paths.database)
    settings.put(database, "officer_name", "Siti Petugas")
    settings.put(database, "villages", [VILLAGE])
    yield database
    database.close()


@pytest.fixture
def big_db(big_template_db: Path, paths: Paths) -> Iterator[Any]:
    shutil.copyfile(big_template_db, paths.database)
    database = connect(paths.database)
    settings.put(database, "officer_name", "Siti Petugas")
    yield database
    database.close()


class Answers:
    """Stands in for ``dialogs.confirm``: records each question and gives the next prepared answer."""

    def __init__(self) -> None:
        self.questions: list[str] = []
        self.next: list[bool] = []
        self.default = True

    def __call__(self, parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> bool:
        self.questions.append(text)
        return self.next.pop(0) if self.next else self.default


@pytest.fixture(autouse=True)
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    from desmig_desktop.ui import dialogs

    recorder = Answers()
    monkeypatch.setattr(dialogs, "confirm", recorder)
    monkeypatch.setattr(dialogs, "inform", lambda *a, **k: None)
    return recorder


@pytest.fixture(autouse=True)
def shown_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Errors shown to the officer; a test that expects one must empty this list."""
    from desmig_desktop.ui import dialogs

    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, error, **k: shown.append(dialogs.error_text(error)))
    yield shown
    assert shown == [], f"unexpected error shown: {shown}"


@pytest.fixture
def ctx(qtbot: Any, db: Any, paths: Paths) -> Iterator[Any]:
    from desmig_desktop.ui.context import AppContext
    from desmig_desktop.ui.taskman import TaskManager

    tasks = TaskManager(database_factory(paths))
    yield AppContext(db, paths, tasks)
    tasks.shutdown()


@pytest.fixture
def window(qtbot: Any, ctx: Any) -> Any:
    from desmig_desktop.ui.main_window import MainWindow

    win = MainWindow(ctx, autosave_ms=60_000)
    qtbot.addWidget(win)
    show_active(qtbot, win)
    return win
