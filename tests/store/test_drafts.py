"""Drafts live in the (encrypted) database: durable, replaceable, never plain files."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from desmig_desktop.services import drafts
from desmig_desktop.store.db import connect


def test_drafts_round_trip_replace_and_discard(db: Database) -> None:
    drafts.save_draft(db, "h1", {"household": {"head_name": "Wati"}, "members": [{"nik": "3201055203850002"}]})
    drafts.save_draft(db, "h2", {"household": {}})
    drafts.save_draft(db, "h1", {"household": {"head_name": "Wati Lestari"}})
    found = {d.key: d.data for d in drafts.load_drafts(db)}
    assert found == {"h1": {"household": {"head_name": "Wati Lestari"}}, "h2": {"household": {}}}
    drafts.discard_draft(db, "h1")
    assert [d.key for d in drafts.load_drafts(db)] == ["h2"]


def test_drafts_survive_reopening_and_are_encrypted(tmp_path: Path, template_db: Path) -> None:
    path = tmp_path / "d.db"
    path.write_bytes(template_db.read_bytes())
    db = connect(path, "kata sandi panjang")
    drafts.save_draft(db, "h1", {"members": [{"nik": "3201055203850002"}]})
    db.conn.close()
    assert b"3201055203850002" not in path.read_bytes()
    assert not list(tmp_path.glob("**/*.json"))
    again = connect(path, "kata sandi panjang")
    assert drafts.load_drafts(again)[0].data == {"members": [{"nik": "3201055203850002"}]}


def test_unreadable_draft_is_skipped(db: Database) -> None:
    with db.atomic():
        db.execute("INSERT INTO drafts VALUES ('bad', '2026-01-01', '{\"version\": 99}')")
    drafts.save_draft(db, "good", {"x": 1})
    assert [d.key for d in drafts.load_drafts(db)] == ["good"]
