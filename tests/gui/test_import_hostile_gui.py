"""Issue 14 §3 from the app's menu: the table of hostile files never ends in "unexpected error".

The same files as ``desmig import`` gets in ``tests/services/test_import_hostile.py``, opened through
the GUI's import path (``ui.data_menu.run_import`` → ``services.jobs.import_job``): each ends in a
clean import, the import report, or one message in the officer's words naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import VILLAGE
from PySide6.QtWidgets import QDialog

from desmig_desktop.store import settings
from desmig_desktop.ui import data_menu
from tests.services.test_import_hostile import HOSTILE
from tests.services.test_import_hostile import VILLAGE as FILE_VILLAGE

UNEXPECTED = "tidak terduga"


def shown_texts(window: Any) -> list[str]:
    """What the import put in front of the officer: the import report's summary and table."""
    dialog = window.findChild(QDialog, "import_report")
    if dialog is None:
        return []
    table = dialog.table
    return [dialog.summary.text(), *(table.item(r, c).text() for r in range(table.rowCount())
                                     for c in range(table.columnCount()) if table.item(r, c) is not None)]


@pytest.mark.parametrize("name, filename, content, code, fragment", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_from_the_menu_never_give_an_unexpected_error(
        qtbot: Any, window: Any, db: Any, tmp_path: Path, shown_errors: list[str], name: str, filename: str,
        content: Callable[[], bytes], code: int, fragment: str) -> None:
    settings.put(db, "villages", [VILLAGE, FILE_VILLAGE])  # the files' village is the officer's too
    path = tmp_path / filename
    path.write_bytes(content())
    with qtbot.waitSignal(window.ctx.tasks.finished, timeout=60_000) as finished:
        data_menu.run_import(window, path)
    errors, texts = list(shown_errors), shown_texts(window)
    shown_errors.clear()
    assert not [t for t in [*errors, *texts] if UNEXPECTED in t], (errors, texts)
    households = db.execute("SELECT count(*) FROM households").fetchone()[0]
    if code == 0:
        assert finished.args == ["done"] and errors == [] and households == 1
    else:
        assert finished.args == ["failed"] and households == 0
        # one message naming what is wrong, or the import report listing it
        assert len(errors) + bool(texts) == 1, (errors, texts)
        said = errors[0] if errors else "\n".join(texts)
        assert fragment in said or fragment.lower() in said.lower(), said
