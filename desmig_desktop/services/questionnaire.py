"""The questionnaire a database is on, for the GUI and the CLI (issue 16 §3).

Forms, lists and the household print read the specs of the database's ACTIVE version here (the
version its last sync applied; version 1 until then), so a question HQ published appears in a
form opened after the sync that brought it. A form already open keeps its widgets and what was
typed: its save goes through ``households.save_household``, which validates under the active
version and keeps every stored answer the form did not show.

``update_notice`` is the sentence the GUI shows after a sync applied a version
("Kuesioner versi 3: 2 pertanyaan baru").
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlite_utils import Database

from desmig_desktop.domain.i18n import _
from desmig_desktop.domain.questionnaire import Questionnaire
from desmig_desktop.domain.specs import EntitySpec
from desmig_desktop.store import questionnaire_store

__all__ = ["active", "active_version", "entity_spec", "update_notice"]


def active(db: Database) -> Questionnaire:
    """The questionnaire this database is on."""
    return questionnaire_store.active(db)


def active_version(db: Database) -> int:
    return questionnaire_store.active_version(db)


def entity_spec(db: Database, entity_name: str) -> EntitySpec:
    """``entity_name``'s questions under the database's active version."""
    return questionnaire_store.spec(db, entity_name)


def update_notice(version: int, changes: Mapping[str, int]) -> str:
    """What a newly applied version changed, as the officer is told: ``changes`` counts the
    compatible changes by code (``questionnaire_compat.summary``)."""
    parts = []
    if changes.get("field_added"):
        parts.append(_("{count} pertanyaan baru", count=changes["field_added"]))
    if changes.get("choice_added"):
        parts.append(_("{count} pilihan jawaban baru", count=changes["choice_added"]))
    other = sum(n for code, n in changes.items() if code not in ("field_added", "choice_added"))
    if other:
        parts.append(_("{count} perubahan lain", count=other))
    if not parts:
        return _("Kuesioner versi {version} diterapkan.", version=version)
    return _("Kuesioner versi {version}: {changes}", version=version, changes=", ".join(parts))
