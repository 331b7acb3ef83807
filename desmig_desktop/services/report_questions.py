"""The desktop half of ``domain.report_questions``: breakdowns of the choice questions of the
database's active questionnaire version that version 1 lacks, counted in SQL over the typed
columns the version added (one grouped query per question)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from desmig_desktop.domain import report_questions as rq
from desmig_desktop.store import questionnaire_store
from desmig_desktop.store.queries import rows as fetch


def add_breakdowns(db: Database, report: dict[str, Any], length: int, prefix: str) -> dict[str, Any]:
    """``report`` with the breakdowns of the new questions (unchanged when there are none)."""
    from desmig_desktop.services.reports import _source  # (reports imports this module: its hook)

    questions = rq.new_choice_questions(questionnaire_store.active(db))
    counts: rq.Counts = {}
    for entity_name, f in questions:
        source, village = _source(entity_name)
        column = f"e.{questionnaire_store.quote(f.key)}"
        sql = (f"SELECT substr({village}, 1, :n) AS code, {column} AS k, count(*) AS n {source}"
               f" AND {column} IS NOT NULL GROUP BY 1, 2")
        for r in fetch(db, sql, {"n": length, "prefix": prefix}):
            rq.add_answer(counts, r["code"], entity_name, f, r["k"], r["n"])
    return rq.attach(report, counts, questions)
