"""The forms follow the questionnaire version the database is on (issue 16 §3): after a sync
applied version 2, a form opened shows the new questions and saves them; a form open since
before keeps what was typed and keeps stored answers it does not show; the officer is told
what changed."""

from __future__ import annotations

import json
from typing import Any

from gui_helpers import click, fill, press_ctrl
from PySide6.QtCore import Qt

from desmig_desktop.domain.i18n import set_language
from desmig_desktop.services.questionnaire import update_notice
from desmig_desktop.store import questionnaire_store as qs
from desmig_desktop.store.queries import rows
from tests.gui.test_editor_save import BUSINESS, HEAD, HOUSEHOLD
from tests.sync.qversions import v2_document


def _save(qtbot: Any, editor: Any) -> None:
    press_ctrl(qtbot, editor.form.editors["head_name"].edit, Qt.Key.Key_S)
    assert not editor.dirty, [editor.issues.list.item(i).text() for i in range(editor.issues.list.count())]


def test_a_form_opened_after_a_new_version_shows_and_saves_its_questions(qtbot: Any, window: Any, db: Any) -> None:
    assert "training" not in window.new_household().form.editors  # version 1: not asked
    qs.apply_document(db, v2_document())  # what the sync does when HQ published version 2
    editor = window.new_household()
    assert "training" in editor.form.editors
    fill(qtbot, editor.form, {**HOUSEHOLD, "training": "menjahit"})
    click(qtbot, editor.members.members.add_button)
    fill(qtbot, editor.members.members.form, {**HEAD, "migration_status": "bukan"})
    click(qtbot, editor.businesses.add_button)
    assert "online_share" in editor.businesses.form.editors
    head_id = editor.members.members.current()["id"]
    fill(qtbot, editor.businesses.form, {**BUSINESS, "owner_member_id": head_id, "online_share": "35",
                                         "capital_source": "koperasi"})
    _save(qtbot, editor)
    household = rows(db, "SELECT * FROM households")[0]
    business = rows(db, "SELECT * FROM businesses")[0]
    assert household["training"] == "menjahit"
    assert business["online_share"] == 35 and business["capital_source"] == "koperasi"
    ops = rows(db, "SELECT entity, fields, questionnaire_version FROM sync_outbox")
    assert {op["questionnaire_version"] for op in ops} == {2}
    assert json.loads(next(op["fields"] for op in ops if op["entity"] == "households"))["training"] == "menjahit"


def test_a_form_open_across_the_new_version_keeps_what_was_typed(qtbot: Any, window: Any, db: Any) -> None:
    editor = window.new_household()
    fill(qtbot, editor.form, HOUSEHOLD)
    click(qtbot, editor.members.members.add_button)
    fill(qtbot, editor.members.members.form, {**HEAD, "migration_status": "bukan"})
    qs.apply_document(db, v2_document())  # a sync in the background applies version 2
    assert "training" not in editor.form.editors  # the open form keeps its widgets
    _save(qtbot, editor)
    household = rows(db, "SELECT * FROM households")[0]
    assert household["head_name"] == HOUSEHOLD["head_name"] and household["training"] is None
    assert {r["questionnaire_version"] for r in rows(db, "SELECT questionnaire_version FROM sync_outbox")} == {2}


def test_the_officer_is_told_what_a_version_changed() -> None:
    try:
        assert update_notice(3, {"field_added": 2}) == "Kuesioner versi 3: 2 pertanyaan baru"
        assert update_notice(2, {"field_added": 1, "choice_added": 1, "label_changed": 2}) == \
            "Kuesioner versi 2: 1 pertanyaan baru, 1 pilihan jawaban baru, 2 perubahan lain"
        set_language("en")
        assert update_notice(3, {"field_added": 2}) == "Questionnaire version 3: 2 new questions"
    finally:
        set_language("id")
